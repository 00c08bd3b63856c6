"""Does `make train` give the shipped model's bytes on other x86-64 machines? Simulated here, one CPU at a time.

Other machines differ in the OpenBLAS kernel they pick, in how many threads it runs and in glibc's maths (with
or without FMA). Each of these can be forced on this machine; this trains the shipped model once per setting,
with and without the Makefile's SAME_ARITHMETIC, and compares the three model files with models/.

    .venv/bin/python bench/reproducibility.py --output reports/reproducibility.md   # about a minute
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MODELS = ROOT / "models"
NAMES = ("orientation.joblib", "orientation.linear.json", "orientation.json")

# Machines simulated on this one: each setting is what some x86-64 machine would do unasked.
MACHINES = {
    "this machine": {},
    "an older CPU (OpenBLAS picks its Prescott kernel)": {"OPENBLAS_CORETYPE": "Prescott"},
    "an SSE4 CPU (Nehalem kernel)": {"OPENBLAS_CORETYPE": "Nehalem"},
    "an AVX CPU (Sandybridge kernel)": {"OPENBLAS_CORETYPE": "Sandybridge"},
    "an AVX-512 CPU (SkylakeX kernel)": {"OPENBLAS_CORETYPE": "SkylakeX"},
    "more cores (4 OpenBLAS threads)": {"OPENBLAS_NUM_THREADS": "4"},
    "a CPU without FMA (glibc's other exp and log)": {"GLIBC_TUNABLES": "glibc.cpu.hwcaps=-AVX2,-FMA"},
}


def same_arithmetic() -> dict[str, str]:
    """The Makefile's SAME_ARITHMETIC, read from it."""
    line = next(x for x in (ROOT / "Makefile").read_text(encoding="utf-8").splitlines() if x.startswith("SAME_ARITHMETIC"))
    return dict(pair.split("=", 1) for pair in re.split(r"\s+", line.split(":=", 1)[1].strip()))


def train(env: dict[str, str], folder: Path) -> dict[str, bytes]:
    """Train the shipped model under `env` into `folder`; its three files' bytes."""
    folder.mkdir(parents=True)
    command = [sys.executable, "-m", "pipeline", "train", "--model", str(folder / NAMES[0]), "--force"]
    subprocess.run(command, cwd=ROOT, env={**os.environ, **env}, check=True, capture_output=True)
    return {name: (folder / name).read_bytes() for name in NAMES}


def main() -> int:
    """Train under every simulated machine, with and without SAME_ARITHMETIC; write the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path)
    args = parser.parse_args()
    shipped = {name: (MODELS / name).read_bytes() for name in NAMES}
    pinned = same_arithmetic()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for n, (machine, env) in enumerate(MACHINES.items()):
            cells = []
            for k, extra in enumerate(({}, pinned)):
                got = train({**env, **extra} if k else env, Path(tmp) / f"{n}-{k}")
                same = [name for name in NAMES if got[name] == shipped[name]]
                cells.append("all three identical" if len(same) == 3 else f"differ: {', '.join(sorted(set(NAMES) - set(same)))}")
            rows.append(f"| {machine} | {' '.join(f'{k}={v}' for k, v in env.items()) or '(none)'} | {cells[0]} | {cells[1]} |")
            print(rows[-1], file=sys.stderr)
    text = "\n".join(
        [
            "# Reproducing the shipped model on other machines",
            "",
            "Produced by `bench/reproducibility.py`; do not edit by hand. Each row trains the shipped model on this machine",
            "with a setting that another x86-64 machine would have unasked, then compares the three files with models/:",
            "first as `orient train` runs, then under the Makefile's SAME_ARITHMETIC "
            f"(`{' '.join(f'{k}={v}' for k, v in pinned.items())}`), as `make train` runs.",
            "",
            "| machine simulated | setting | `orient train` | `make train` (SAME_ARITHMETIC) |",
            "|---|---|---|---|",
            *rows,
            "",
            "Without the pinned arithmetic, the weights of such machines differ from these by up to about 2e-13 (most of",
            "them in the last digits); the stored numbers are rounded to 8 significant digits (training/export.py), so",
            "most such differences vanish, but a number that lies on a rounding edge can still come out the other way.",
            "With SAME_ARITHMETIC the arithmetic itself is the same, whatever the CPU. Not checked: other hardware for",
            "real, other glibc versions, MKL or a system OpenBLAS, other package versions than constraints.txt pins.",
            "",
        ]
    )
    if args.output:
        args.output.write_text(text, encoding="utf-8")
    else:
        print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
