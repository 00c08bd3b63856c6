"""Measure `orient serve`: requests per second and p50/p99 latency for one 1 KB posting with 8 concurrent clients on
loopback, for 1 and 2 workers, and the time of one 1,000-text request. `make bench` reports it (section 7).

    .venv/bin/python bench/serve.py [--seconds 15]

Each client is a thread with its own keep-alive connection; the clients share the machine's 2 cores with the
server, so the figures are what one machine gives when it both sends and serves.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _posting() -> str:
    for line in (ROOT / "corpus" / "documents.jsonl").open(encoding="utf-8"):
        text = json.loads(line)["text"]
        if 900 <= len(text.encode("utf-8")) <= 1100:
            return text
    raise SystemExit("no posting of about 1 KB in corpus/documents.jsonl")


def _post(conn: http.client.HTTPConnection, body: bytes) -> float:
    start = time.perf_counter()
    conn.request("POST", "/api/score", body, {"content-type": "application/json"})
    response = conn.getresponse()
    response.read()
    if response.status != 200:
        raise SystemExit(f"the server answered {response.status}")
    return time.perf_counter() - start


def measure(workers: int, seconds: float, clients: int = 8, root: Path = ROOT) -> dict[str, float]:
    """Start a server of the checkout at `root`, load it with `clients` threads for `seconds`, time a 1,000-text request."""
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "pipeline", "serve", "--port", str(port), "--workers", str(workers)],
        stderr=subprocess.DEVNULL,
        env={**os.environ, "PYTHONPATH": str(root.resolve())},
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                conn.request("GET", "/healthz")
                conn.getresponse().read()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise SystemExit("the server did not start") from None
                time.sleep(0.2)
        body = json.dumps({"text": _posting()}, ensure_ascii=False).encode("utf-8")
        for _ in range(20 * workers):  # every worker warm (model loaded, jieba's dictionary read)
            _post(conn, body)
        latencies: list[float] = []
        lock = threading.Lock()
        stop = time.monotonic() + seconds

        def client() -> None:
            own = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            mine = []
            while time.monotonic() < stop:
                mine.append(_post(own, body))
            with lock:
                latencies.extend(mine)

        threads = [threading.Thread(target=client) for _ in range(clients)]
        start = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        elapsed = time.perf_counter() - start
        batch = json.dumps({"texts": [_posting()] * 1000}, ensure_ascii=False).encode("utf-8")
        fresh = http.client.HTTPConnection("127.0.0.1", port, timeout=300)  # the first one idled past keep-alive
        batch_times = [_post(fresh, batch) for _ in range(3)]
        latencies.sort()
        return {
            "requests": len(latencies),
            "rps": len(latencies) / elapsed,
            "p50": latencies[len(latencies) // 2] * 1000,
            "p99": latencies[int(len(latencies) * 0.99)] * 1000,
            "batch": statistics.median(batch_times),
        }
    finally:
        server.terminate()
        server.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--against", type=Path, help="another checkout (a worktree of an older commit): rounds of old, then new")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    if args.against:
        ratios = []
        for r in range(1, args.rounds + 1):
            old, new = measure(1, args.seconds, root=args.against), measure(1, args.seconds)
            ratios.append(new["rps"] / old["rps"])
            print(
                f"round {r}, 1 worker: old {old['rps']:.0f} requests/s, 1,000 texts {old['batch']:.2f} s; "
                f"new {new['rps']:.0f} requests/s, 1,000 texts {new['batch']:.2f} s; new/old requests/s {ratios[-1]:.2f}"
            )
        print(f"median new/old requests/s: {statistics.median(ratios):.2f}")
        return
    for n in (1, 2):
        r = measure(n, args.seconds)
        latency = f"p50 {r['p50']:.1f} ms, p99 {r['p99']:.1f} ms"
        print(f"{n} worker(s): {r['rps']:.0f} requests/s, {latency}; 1,000 texts {r['batch']:.2f} s")


if __name__ == "__main__":
    main()
