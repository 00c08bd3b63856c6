"""`make bench`: every speed and memory figure of issue 5, measured in one run, into reports/benchmark.md.

Inputs are synthetic ~1 KB documents made at bench time from the evaluation sets' sentences with a fixed
seed (bench/synth.py), written under a temporary folder and deleted afterwards; nothing large is committed.
Commands that are compared run interleaved (A B A B …) so that a noisy neighbour hits both alike; each
figure is the median of the repeated runs and each ratio the median of the per-round ratios.

    python bench/benchmark.py [--reps 5] [--quick] [--output reports/benchmark.md]
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

import synth  # noqa: E402

PY = sys.executable
ORIENT = str(Path(sys.executable).parent / "orient")
SENTENCE = "负责市场调研，洞察目标客户需求，制定品牌定位。"
HEAVY = ("sklearn", "scipy", "numpy", "pandas", "joblib", "dask")


@dataclass
class Run:
    """One finished command: wall seconds, CPU seconds, largest process's peak RSS, and the peak RSS of its tree."""

    wall: float
    cpu: float
    maxrss_mb: float
    tree_mb: float


def _tree_rss(pid: int) -> float:
    import psutil

    try:
        proc = psutil.Process(pid)
        procs = [proc, *proc.children(recursive=True)]
    except psutil.Error:
        return 0.0
    total = 0
    for p in procs:
        with contextlib.suppress(psutil.Error):
            total += p.memory_info().rss
    return total / 2**20


def run(cmd: Sequence[str], env: dict[str, str] | None = None, stdout: Any = subprocess.DEVNULL, sample: bool = False) -> Run:
    """Run a command to completion; with sample=True, poll the RSS of its whole process tree every 50 ms."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(list(cmd), stdout=stdout, stderr=subprocess.PIPE, env={**os.environ, **(env or {})}, cwd=ROOT)
    peak = 0.0
    stop = threading.Event()

    def poll() -> None:
        nonlocal peak
        while not stop.is_set():
            peak = max(peak, _tree_rss(proc.pid))
            stop.wait(0.05)

    sampler = threading.Thread(target=poll, daemon=True) if sample else None
    if sampler:
        sampler.start()
    err = proc.stderr.read() if proc.stderr else b""
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    stop.set()
    if sampler:
        sampler.join()
    if proc.returncode != 0:
        raise SystemExit(f"benchmark command failed ({proc.returncode}): {' '.join(cmd)}\n{err.decode(errors='replace')[-2000:]}")
    return Run(wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, peak)


def interleaved(cmds: dict[str, tuple[Sequence[str], dict[str, str] | None]], reps: int) -> dict[str, list[Run]]:
    """Run each command once per round, rounds repeated `reps` times, after one untimed warm-up round."""
    for cmd, env in cmds.values():
        run(cmd, env)
    out: dict[str, list[Run]] = {name: [] for name in cmds}
    for _ in range(reps):
        for name, (cmd, env) in cmds.items():
            out[name].append(run(cmd, env))
    return out


def script_json(script: str, args: Sequence[object], env: dict[str, str] | None = None) -> Any:
    """Run one of bench/'s measuring scripts and return the JSON it prints."""
    out = subprocess.run(
        [PY, str(HERE / script), *map(str, args)],
        env={**os.environ, **(env or {})},
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout)


def med(xs: Sequence[float]) -> float:
    """The median."""
    return statistics.median(xs)


def ratio(num: list[Run], den: list[Run], attr: str = "wall") -> float:
    """Median over rounds of num/den for one attribute (rounds pair up because the runs were interleaved)."""
    return med([getattr(a, attr) / getattr(b, attr) for a, b in zip(num, den, strict=True)])


def verdict(ok: bool) -> str:
    """A table cell for a target met or missed."""
    return "met" if ok else "**not met**"


def _version(pkg: str) -> str:
    try:
        return metadata.version(pkg)
    except metadata.PackageNotFoundError:
        return "not installed"


def machine(load_at_start: tuple[float, float, float]) -> list[str]:
    """Lines describing the machine and the software measured."""
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = "unknown"
    try:
        kb = int(Path("/proc/meminfo").read_text().split("MemTotal:")[1].split()[0])
        mem = f"{kb / 2**20:.1f} GiB"
    except (OSError, IndexError, ValueError):
        pass
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    versions = ", ".join(f"{p} {_version(p)}" for p in ("orient", "jieba", "rjieba", "dask", "distributed"))
    return [
        f"- CPU: {cpu}; {cores} cores available to this process; memory {mem}",
        f"- System: {platform.platform()}; Python {platform.python_version()}",
        f"- Software: {versions}",
        f"- Load average (1, 5, 15 min) at start: {' '.join(f'{x:.2f}' for x in load_at_start)}; at end: "
        f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}. Other work on the machine slows every figure, and the "
        "multi-process ones most: `--jobs 2` can only beat `--jobs 1` when both cores are free.",
    ]


def main(argv: Sequence[str] | None = None) -> int:
    """Run every measurement and write the report."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=5, help="Rounds per comparison (median reported).")
    ap.add_argument("--quick", action="store_true", help="Small sizes, one round: a smoke test of the benchmark itself.")
    ap.add_argument("--output", type=Path, default=ROOT / "reports" / "benchmark.md")
    args = ap.parse_args(argv)
    reps = 1 if args.quick else args.reps
    n_batch = 300 if args.quick else 3000
    n_jobs = 600 if args.quick else 12000
    big_sizes = [(10 * 2**20, "10 MB")] if args.quick else [(100 * 2**20, "100 MB"), (2**30, "1 GB")]
    tmp = Path(tempfile.mkdtemp(prefix="orient-bench-"))
    lines: list[str] = []
    summary: list[str] = []
    t_start = time.time()
    load_at_start = os.getloadavg()
    try:
        say = lambda msg: print(msg, file=sys.stderr, flush=True)  # noqa: E731
        batch = tmp / f"docs-{n_batch}.jsonl"
        size = synth.write_jsonl(batch, n_batch)
        many = tmp / f"docs-{n_jobs}.jsonl"
        synth.write_jsonl(many, n_jobs)
        jieba_env = {"ORIENT_SEGMENTER": "jieba"}
        fast_env = {"ORIENT_SEGMENTER": "rjieba"}

        # 1. Batch overhead --------------------------------------------------------------------------------------
        say("1. batch overhead")
        r1 = interleaved(
            {
                "bare jieba.lcut, HMM off": ([PY, str(HERE / "bare_jieba.py"), str(batch)], None),
                "bare jieba.lcut (default: HMM on)": ([PY, str(HERE / "bare_jieba.py"), str(batch), "--hmm"], None),
                "orient score --jobs 1 (jieba)": ([ORIENT, "score", str(batch), "--jobs", "1", "--format", "jsonl"], jieba_env),
                "orient score --jobs 1 (rjieba)": ([ORIENT, "score", str(batch), "--jobs", "1", "--format", "jsonl"], fast_env),
            },
            # Target 1 sits close to its threshold on a machine whose speed swings by half from one second to
            # the next: more rounds than elsewhere, so that its median ratio settles.
            reps if args.quick else max(reps, 11),
        )
        stages = {name: script_json("stages.py", [batch], env) for name, env in (("jieba", jieba_env), ("rjieba", fast_env))}
        t1_off = ratio(r1["bare jieba.lcut, HMM off"], r1["orient score --jobs 1 (jieba)"])
        t1_on = ratio(r1["bare jieba.lcut (default: HMM on)"], r1["orient score --jobs 1 (jieba)"])
        steady = script_json("steady.py", [batch, max(reps, 7) if not args.quick else 1], jieba_env)
        t1_doc, t1_extra = steady["ratio"], steady["extra"]
        lines += [
            "## 1. Batch overhead",
            "",
            f"{n_batch:,} synthetic documents ({size / n_batch:.0f} bytes each on average, {size / 2**20:.1f} MB), whole process "
            "including start-up, output to /dev/null. Throughput relative to a bare process that reads the same file and calls "
            "`jieba.lcut` on each text (bench/bare_jieba.py).",
            "",
            "| command | median wall (s) | docs/s | median CPU (s) |",
            "| --- | ---: | ---: | ---: |",
        ]
        for name, runs in r1.items():
            w = med([r.wall for r in runs])
            lines.append(f"| {name} | {w:.2f} | {n_batch / w:,.0f} | {med([r.cpu for r in runs]):.2f} |")
        lines += [
            "",
            f"- orient (jieba) throughput / bare jieba with the same settings (HMM off): **{t1_off:.0%}** (target ≥ 90%)",
            f"- orient (jieba) throughput / bare `jieba.lcut(text)` as jieba ships it (HMM on): **{t1_on:.0%}**",
            f"- Per document, start-up taken out (bench/steady.py: the whole command run through the CLI's entry point in "
            f"one warm process, on the batch and on its first documents, beside a bare `jieba.lcut` loop over the same "
            f"texts; {steady['rounds']} alternating rounds): orient {steady['orient_us_per_doc']:,.0f} µs, bare jieba "
            f"{steady['bare_us_per_doc']:,.0f} µs of CPU a document; orient runs at **{t1_doc:.0%}** of bare jieba's "
            f"throughput, and everything besides segmentation costs **{t1_extra:.0%}** of what bare jieba takes (target: "
            "a tenth). Unlike the profile below, this keeps the costs between steps: jieba's dictionary, evicted from "
            "the CPU caches while a chunk is scored, is refilled for the next.",
            "",
            "Where a document's time goes inside a batch (bench/stages.py: chunk by chunk, each of orient's steps over the "
            "chunk in turn, with bare jieba's `lcut` on the same chunk in the same round, first in one round and last in the "
            "next, on the dictionary orient's segmenter holds; CPU µs per document, medians of "
            f"{stages['jieba']['rounds']} rounds of {stages['jieba']['chunk']:,} documents):",
            "",
            "| step | jieba | rjieba |",
            "| --- | ---: | ---: |",
        ]
        steps = [k for k in stages["jieba"]["us_per_doc"] if k != "bare jieba.lcut"]
        for stage in steps:
            lines.append(
                f"| {stage} | {stages['jieba']['us_per_doc'][stage]:.0f} | {stages['rjieba']['us_per_doc'][stage]:.0f} |"
            )
        tot = {k: sum(v["us_per_doc"][s] for s in steps) for k, v in stages.items()}
        bare_us = stages["jieba"]["us_per_doc"]["bare jieba.lcut"]
        other = stages["jieba"]["extra_us_per_doc"]  # the terms are numbered inside the segmenting step: against bare jieba
        lines += [
            f"| total | {tot['jieba']:.0f} | {tot['rjieba']:.0f} |",
            f"| bare `jieba.lcut` on the raw texts, same rounds | {bare_us:.0f} | |",
            "",
            f"In this profile, with jieba, orient's steps together cost {other:.0f} µs a document more than bare jieba "
            "(the median over the rounds of the difference within each round), "
            f"{other / bare_us:.0%} of what bare jieba takes to segment it (without what the steps cost each other: see "
            f"bench/steady.py above). The whole-process ratio ({t1_off:.0%}) also counts start-up, where orient is the "
            "faster (section 3: it loads jieba's dictionary from bytes, not through jieba's file loader); the larger "
            "the batch, the closer it comes to the per-document one.",
            "",
        ]
        summary.append(
            f"| 1 | `orient score --jobs 1` vs bare `jieba.lcut` loop (same settings, HMM off) | {t1_off:.0%} | ≥ 90% | "
            f"{verdict(t1_off >= 0.9)} |"
        )
        summary.append(f"| 1 | same, vs `jieba.lcut` as shipped (HMM on) | {t1_on:.0%} | ≥ 90% | {verdict(t1_on >= 0.9)} |")
        summary.append(
            f"| 1 | same, per document, start-up taken out: everything besides segmentation / bare jieba | {t1_extra:.0%} | "
            f"≤ 10% | {verdict(t1_extra <= 0.1)} |"
        )

        # 2. Faster segmentation ---------------------------------------------------------------------------------
        say("2. segmenters")
        seg = script_json("segspeed.py", [batch, max(reps, 3)])
        per_round = [j / r for j, r in zip(seg["times"]["jieba"], seg["times"]["rjieba"], strict=True)]
        t2 = med(per_round)
        mb = seg["bytes"] / 2**20
        lines += [
            "## 2. Faster segmentation",
            "",
            f"Segmenting the same {seg['docs']:,} normalised documents ({mb:.1f} MB) in one process on one core, "
            "project settings (precise mode, HMM off, user dictionary), interleaved passes (bench/segspeed.py). "
            "Tokens are identical: tests/test_speed_segmenters.py checks every corpus and evaluation text.",
            "",
            "| segmenter | median pass (s) | MB/s |",
            "| --- | ---: | ---: |",
            f"| jieba {_version('jieba')} | {med(seg['times']['jieba']):.3f} | {mb / med(seg['times']['jieba']):.2f} |",
            f"| rjieba {_version('rjieba')} | {med(seg['times']['rjieba']):.3f} | {mb / med(seg['times']['rjieba']):.2f} |",
            "",
            f"- rjieba / jieba throughput: **{t2:.1f}×** (target ≥ 10×)",
            f"- whole `orient score --jobs 1` process, rjieba vs jieba: "
            f"{ratio(r1['orient score --jobs 1 (jieba)'], r1['orient score --jobs 1 (rjieba)']):.1f}× "
            "(start-up, reading, scoring and writing included)",
            "",
        ]
        summary.append(f"| 2 | rjieba vs jieba segmentation throughput, one core | {t2:.1f}× | ≥ 10× | {verdict(t2 >= 10)} |")

        # 3. Cold start ------------------------------------------------------------------------------------------
        say("3. cold start")
        one = [ORIENT, "score", "--text", SENTENCE, "--format", "json"]
        r3 = interleaved(
            {
                'python -c "import jieba; jieba.lcut(…)"': ([PY, "-c", f"import jieba; jieba.lcut({SENTENCE!r})"], None),
                "orient score --text … --format json (jieba)": (one, jieba_env),
                "orient score --text … --format json (rjieba)": (one, fast_env),
            },
            max(reps, 7) if not args.quick else 1,
        )
        imports = subprocess.run(
            [PY, "-X", "importtime", "-m", "pipeline", "score", "--text", SENTENCE, "--format", "json"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stderr
        loaded = {ln.split("|")[-1].strip().split(".")[0] for ln in imports.splitlines() if ln.startswith("import time:")}
        heavy = sorted(set(HEAVY) & loaded)
        t3 = ratio(r3["orient score --text … --format json (jieba)"], r3['python -c "import jieba; jieba.lcut(…)"'])
        t3_fast = med([r.wall for r in r3["orient score --text … --format json (rjieba)"]])
        lines += [
            "## 3. Cold start",
            "",
            f"One sentence ({SENTENCE}) in a fresh process; dictionary caches warm (one untimed run first).",
            "",
            "| command | median wall (s) | peak RSS (MB) |",
            "| --- | ---: | ---: |",
        ]
        for name, runs in r3.items():
            lines.append(f"| {name} | {med([r.wall for r in runs]):.3f} | {med([r.maxrss_mb for r in runs]):.0f} |")
        lines += [
            "",
            f"- orient (jieba) / bare jieba: **{t3:.2f}×** (target ≤ 1.3×)",
            f"- orient (rjieba): **{t3_fast:.3f} s** median (target ≤ 0.5 s)",
            f"- heavy modules imported on the scoring path (`python -X importtime -m pipeline score --text …`): "
            f"{', '.join(heavy) if heavy else 'none'} (checked: {', '.join(HEAVY)})",
            "",
        ]
        summary.append(
            f'| 3 | one sentence, orient (jieba) / `python -c "import jieba; jieba.lcut(…)"` | {t3:.2f}× | ≤ 1.3× | '
            f"{verdict(t3 <= 1.3)} |"
        )
        summary.append(f"| 3 | one sentence, orient (rjieba), median | {t3_fast:.3f} s | ≤ 0.5 s | {verdict(t3_fast <= 0.5)} |")
        summary.append(
            f"| 3 | heavy imports on the scoring path | {', '.join(heavy) if heavy else 'none'} | none | {verdict(not heavy)} |"
        )

        # 4. All cores -------------------------------------------------------------------------------------------
        say("4. all cores")
        cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
        r4: dict[str, dict[str, list[Run]]] = {}
        docs4: dict[str, int] = {}
        same: dict[str, bool] = {}
        # Start-up (about 0.5 s with rjieba, 1 s with jieba) happens once whatever the number of jobs, so the
        # speed-up grows with the batch: the target is judged on batches of 48,000 (rjieba) and 12,000 (jieba)
        # documents, and the 3,000-document batch is shown beside them.
        huge = tmp / "docs-cores.jsonl"
        synth.write_jsonl(huge, 1200 if args.quick else 48000)
        cases = (
            ("rjieba", fast_env, huge, 1200 if args.quick else 48000),
            ("jieba", jieba_env, many, n_jobs),
            ("jieba, small batch", jieba_env, batch, n_batch),
        )
        for label, env, path, n in cases:
            outs = {}
            for jobs in ("1", str(cores)):
                with (tmp / f"out-{label}-{jobs}.jsonl").open("wb") as fh:
                    run([ORIENT, "score", str(path), "--jobs", jobs, "--format", "jsonl"], env, stdout=fh)
                outs[jobs] = hashlib.sha256((tmp / f"out-{label}-{jobs}.jsonl").read_bytes()).hexdigest()
            same[label] = outs["1"] == outs[str(cores)]
            r4[label] = interleaved(
                {
                    **{
                        jobs: ([ORIENT, "score", str(path), "--jobs", jobs, "--format", "jsonl"], env)
                        for jobs in ("1", str(cores))
                    },
                    "apart": (_side_by_side(path, cores, tmp), env),
                },
                # Two processes at once vary more from one run to the next than one does on this machine: more
                # rounds, so that the median ratio settles.
                reps if args.quick else max(reps, 9),
            )
            docs4[label] = n
        lines += [
            "## 4. All cores",
            "",
            f"`orient score FILE --jobs N` against `--jobs 1`, whole process, {cores} cores; {len(r4['rjieba']['1'])} "
            "interleaved rounds, medians, and the speed-up as the median over rounds of the ratio within each. "
            f"Outputs compared byte for byte. Beside them, {cores} independent `--jobs 1` processes at once, each "
            "on its share of the batch and each with its own start-up (bench/benchmark.py, _side_by_side): "
            "parallel work with nothing to coordinate, in the same rounds.",
            "",
            "| segmenter | documents | --jobs 1 (s) | --jobs " + str(cores) + " (s) | speed-up | "
            f"{cores} × --jobs 1 on shares (s) | their speed-up | identical output |",
            "| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
        ]
        t4, apart = {}, {}
        for label, runs in r4.items():
            n = docs4[label]
            t4[label] = ratio(runs["1"], runs[str(cores)])
            apart[label] = ratio(runs["1"], runs["apart"])
            lines.append(
                f"| {label} | {n:,} | {med([r.wall for r in runs['1']]):.2f} | {med([r.wall for r in runs[str(cores)]]):.2f} | "
                f"**{t4[label]:.2f}×** | {med([r.wall for r in runs['apart']]):.2f} | {apart[label]:.2f}× | "
                f"{'yes' if same[label] else '**no**'} |"
            )
        lines += [
            "",
            "Target: ≥ 1.7× on this 2-core machine for 3,000+ documents; records identical (also tested in "
            "tests/test_speed_parallel.py). Start-up (reading the model, building the segmenter, and with more than "
            "one job, starting the workers) cannot be shared between cores, so the smaller the batch, the smaller "
            "the speed-up; since scoring got cheaper (pipeline/batch.py), start-up weighs more at 3,000 documents. "
            f"The processes on shares pay start-up once each, side by side; `--jobs {cores}` pays it once, then "
            "hands out chunks and gathers their records. Whatever keeps either from "
            f"{cores}× beyond start-up is the cores slowing each other when all are busy, and for `--jobs {cores}`, "
            "that coordination.",
            "",
            f"Speed-up of `--jobs {cores}` in each round, in order: "
            + "; ".join(
                f"{label} " + ", ".join(f"{a.wall / b.wall:.2f}" for a, b in zip(runs["1"], runs[str(cores)], strict=True))
                for label, runs in r4.items()
            )
            + ". On this machine the speed-up of single rounds varies more than the difference between "
            "two rows: the ratio of the median times above ("
            + "; ".join(
                f"{label} {med([r.wall for r in runs['1']]) / med([r.wall for r in runs[str(cores)]]):.2f}× "
                f"and, side by side, {med([r.wall for r in runs['1']]) / med([r.wall for r in runs['apart']]):.2f}×"
                for label, runs in r4.items()
            )
            + ") can differ from the median of the ratios by 0.1× or more.",
            "",
        ]
        for label in t4:
            judged = "small batch" not in label
            summary.append(
                f"| 4 | `--jobs {cores}` / `--jobs 1` ({label}, {docs4[label]:,} documents) | {t4[label]:.2f}× | ≥ 1.7× | "
                f"{verdict(t4[label] >= 1.7) if judged else 'for information'} |"
            )
        summary.append(
            f"| 4 | {cores} independent `--jobs 1` processes at once on shares, start-up each / one on all (rjieba) | "
            f"{apart['rjieba']:.2f}× | | for information |"
        )
        summary.append(
            f"| 4 | records identical to `--jobs 1` | {'yes' if all(same.values()) else 'no'} | yes | "
            f"{verdict(all(same.values()))} |"
        )

        # 5. Constant memory -------------------------------------------------------------------------------------
        say("5. constant memory")
        lines += [
            "## 5. Constant memory",
            "",
            "Synthetic JSONL files generated into a temporary folder, scored with the defaults (`--jobs` = cores, auto "
            "segmenter), output to /dev/null. Peak RSS of the largest single process (from the kernel) and the peak "
            "sum over the whole process tree (sampled every 50 ms). One run each.",
            "",
            "| input | documents | wall (s) | MB/s | largest process peak RSS (MB) | whole tree peak RSS (MB) |",
            "| --- | ---: | ---: | ---: | ---: | ---: |",
        ]
        worst = 0.0
        for target, label in big_sizes:
            big = tmp / f"big-{label.replace(' ', '')}.jsonl"
            count = _write_big(big, target)
            got = run([ORIENT, "score", str(big), "--format", "jsonl"], sample=True)
            mbs = big.stat().st_size / 2**20 / got.wall
            worst = max(worst, got.tree_mb, got.maxrss_mb)
            lines.append(f"| {label} | {count:,} | {got.wall:.1f} | {mbs:.1f} | {got.maxrss_mb:.0f} | {got.tree_mb:.0f} |")
            big.unlink()
        lines += ["", "Target: peak resident memory under 300 MB whatever the input size.", ""]
        summary.append(
            f"| 5 | peak RSS scoring {' and '.join(lab for _, lab in big_sizes)} (whole tree) | {worst:.0f} MB | < 300 MB | "
            f"{verdict(worst < 300)} |"
        )

        # 6. Dask ------------------------------------------------------------------------------------------------
        say("6. dask")
        lines += _dask_section(many, n_jobs, cores, reps, summary, tmp)
        say("7. orient serve")
        lines += _serve_section(3.0 if args.quick else 15.0)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    head = [
        "# Benchmark: speed and scale",
        "",
        "Produced by `make bench` (bench/benchmark.py); do not edit by hand. "
        f"{reps} interleaved round(s) per comparison ({reps if args.quick else max(reps, 11)} for target 1) after one "
        "untimed warm-up; medians. "
        f"Took {(time.time() - t_start) / 60:.1f} minutes.",
        "",
        "## Machine",
        "",
        *machine(load_at_start),
        "",
        "## Summary",
        "",
        "| target | measure | measured | threshold | |",
        "| --- | --- | ---: | ---: | --- |",
        *summary,
        "",
    ]
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text("\n".join(head + lines).rstrip() + "\n", encoding="utf-8")
    print(f"wrote {args.output}", file=sys.stderr)
    return 0


def _serve_section(seconds: float) -> list[str]:
    """Requests per second and latency of `orient serve` (bench/serve.py), for 1 and 2 workers."""
    try:
        import starlette  # noqa: F401
        import uvicorn  # noqa: F401
    except ImportError:
        return ["## 7. orient serve", "", "Not measured: install the extra with `pip install '.[web]'`.", ""]
    import serve

    rows = {n: serve.measure(n, seconds) for n in (1, 2)}
    return [
        "## 7. orient serve",
        "",
        f"`bench/serve.py`: loopback, 8 concurrent clients (threads with keep-alive connections, on the same machine) "
        f"for {seconds:g} s, one 1 KB posting per request to `POST /api/score`, after a warm-up; then the median of 3 "
        "requests of 1,000 such texts.",
        "",
        "| workers | requests | requests/s | p50 | p99 | one request of 1,000 texts |",
        "| ---: | ---: | ---: | ---: | ---: | ---: |",
        *[
            f"| {n} | {r['requests']:,} | {r['rps']:.0f} | {r['p50']:.1f} ms | {r['p99']:.1f} ms | {r['batch']:.2f} s |"
            for n, r in rows.items()
        ],
        "",
    ]


def _side_by_side(path: Path, parts: int, tmp: Path) -> list[str]:
    """A command running `parts` `orient score --jobs 1` processes at once, each on its share of the file's lines."""
    lines = path.read_bytes().splitlines(keepends=True)
    step = -(-len(lines) // parts)
    shares = []
    for i in range(parts):
        share = tmp / f"{path.stem}-share-{i}.jsonl"
        share.write_bytes(b"".join(lines[i * step : (i + 1) * step]))
        shares.append(str(share))
    # Each in the background, then a wait for each by its pid, so that any one's failure fails the command.
    script = (
        'pids=(); for f in "$@"; do "$0" score "$f" --jobs 1 --format jsonl > /dev/null & pids+=($!); done; '
        'for p in "${pids[@]}"; do wait "$p" || exit 1; done'
    )
    return ["bash", "-c", script, ORIENT, *shares]


def _write_big(path: Path, target: int) -> int:
    """Write about `target` bytes of synthetic documents (a pool of 20,000, repeated under fresh ids); return the count."""
    pool = [rec["text"] for rec in synth.documents(20000, seed=11)]
    count = 0
    written = 0
    with path.open("w", encoding="utf-8") as fh:
        while written < target:
            line = json.dumps({"id": f"big-{count:08d}", "text": pool[count % len(pool)]}, ensure_ascii=False) + "\n"
            fh.write(line)
            written += len(line.encode("utf-8"))
            count += 1
    return count


def _dask_section(path: Path, n: int, cores: int, reps: int, summary: list[str], tmp: Path) -> list[str]:
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        summary.append("| 6 | Dask | not measured: the dask extra is not installed | | |")
        return ["## 6. Dask", "", "Not measured: install the extra with `pip install '.[dask]'`.", ""]
    import warnings

    import dask.dataframe as dd
    import pandas as pd

    # from_pandas puts the benchmark's documents into the graph, and Dask says so; the model is sent once.
    warnings.filterwarnings("ignore", message="Sending large graph")

    from pipeline import distributed

    with (
        LocalCluster(n_workers=cores, threads_per_worker=1, processes=True, dashboard_address=None) as cluster,
        Client(cluster) as client,
    ):
        address = cluster.scheduler_address
        runs = interleaved(
            {
                "orient score --scheduler ADDRESS": (
                    [ORIENT, "score", str(path), "--scheduler", address, "--format", "jsonl"],
                    None,
                ),
                f"orient score --jobs {cores}": ([ORIENT, "score", str(path), "--jobs", str(cores), "--format", "jsonl"], None),
                "orient score --jobs 1": ([ORIENT, "score", str(path), "--jobs", "1", "--format", "jsonl"], None),
            },
            reps,
        )
        outs = {}
        for name, extra in (("dask", ["--scheduler", address]), ("local", ["--jobs", "1"])):
            with (tmp / f"dask-{name}.jsonl").open("wb") as fh:
                run([ORIENT, "score", str(path), *extra, "--format", "jsonl"], stdout=fh)
            outs[name] = (tmp / f"dask-{name}.jsonl").read_bytes()
        frame = pd.DataFrame([json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()])
        ddf = dd.from_pandas(frame, npartitions=cores * 4)
        distributed.score_dataframe(ddf.partitions[0], "text").compute()  # warm-up: every worker loads the model
        frame_times = []
        for _ in range(max(1, reps // 2 + 1)):
            t0 = time.perf_counter()
            distributed.score_dataframe(ddf, "text").compute()
            frame_times.append(time.perf_counter() - t0)
        workers = len(client.scheduler_info()["workers"])
    same = outs["dask"] == outs["local"]
    lines = [
        "## 6. Dask",
        "",
        f"A `dask.distributed.LocalCluster` of {workers} worker processes (one thread each) on this machine, "
        f"{n:,} documents. The command line reads the file here and sends chunks to the scheduler; "
        "`score_dataframe` scores a dask.dataframe text column partition by partition.",
        "",
        "| path | median wall (s) | docs/s |",
        "| --- | ---: | ---: |",
    ]
    for name, rs in runs.items():
        w = med([r.wall for r in rs])
        lines.append(f"| {name} | {w:.2f} | {n / w:,.0f} |")
    fw = med(frame_times)
    lines += [
        f"| `pipeline.distributed.score_dataframe(ddf, 'text').compute()` (cluster already up) | {fw:.2f} | {n / fw:,.0f} |",
        "",
        f"- Records from the cluster identical to `--jobs 1`: {'yes' if same else '**no**'} (also tested in tests/test_dask.py)",
        "- On one machine the cluster adds scheduling and serialisation to the work `--jobs` does; it pays off across machines.",
        "",
    ]
    dask_rate = n / med([r.wall for r in runs["orient score --scheduler ADDRESS"]])
    summary.append(
        f"| 6 | `--scheduler` on a {workers}-worker LocalCluster | {dask_rate:,.0f} docs/s | records identical | "
        f"{verdict(same)} |"
    )
    return lines


if __name__ == "__main__":
    raise SystemExit(main())
