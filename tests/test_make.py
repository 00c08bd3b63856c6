"""The Makefile keeps the README's promises, and knows when the corpus and the model are stale."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
MAKEFILE = ROOT / "Makefile"


def readme_targets() -> list[str]:
    """Every `make TARGET` the README names."""
    return targets_in_markdown(README.read_text(encoding="utf-8"))


def targets_in_markdown(text: str) -> list[str]:
    """Every `make TARGET` named in inline code or at the start of a code-block line, in order, once each."""
    found: list[str] = []
    inline = re.findall(r"`make\s+([A-Za-z0-9][\w.-]*)[^`]*`", text)
    blocks = re.findall(r"^```[^\n]*\n(.*?)^```", text, flags=re.MULTILINE | re.DOTALL)
    in_blocks = [
        m for block in blocks for m in re.findall(r"^\s*(?:\$\s*)?make\s+([A-Za-z0-9][\w.-]*)", block, flags=re.MULTILINE)
    ]
    for target in inline + in_blocks:
        if target not in found:
            found.append(target)
    return found


def makefile_targets() -> set[str]:
    targets = set()
    for line in MAKEFILE.read_text(encoding="utf-8").splitlines():
        m = re.match(r"^([A-Za-z0-9_.$()/ -]+?)\s*::?(?!=)", line)
        if m and not line.startswith("\t"):
            targets.update(m.group(1).split())
    return targets


def make(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["make", "-n", *args], cwd=ROOT, capture_output=True, text=True, timeout=60)


def test_the_readme_names_make_targets() -> None:
    assert readme_targets(), "README.md names no `make …` command; it should say how to run the demo and the tests"


def test_every_make_target_the_readme_names_exists() -> None:
    missing = [t for t in readme_targets() if t not in makefile_targets()]
    assert missing == []


def test_every_readme_target_parses_in_a_dry_run() -> None:
    for target in readme_targets():
        out = make(target)
        assert out.returncode == 0, (target, out.stderr)
        assert "No rule to make target" not in out.stderr


@pytest.mark.parametrize("target", ["train", "corpus"])
def test_dry_run_parses(target: str) -> None:
    out = make(target)
    assert out.returncode == 0, out.stderr
    assert "No rule to make target" not in out.stderr
    assert "missing separator" not in out.stderr


def test_the_model_is_rebuilt_when_the_model_code_changes() -> None:
    out = make("-W", "pipeline/text.py", "train")
    assert out.returncode == 0, out.stderr
    assert re.search(r"orient train\b.*--model models/orientation\.joblib", out.stdout), out.stdout


def test_the_corpus_is_rebuilt_when_the_decisions_change() -> None:
    out = make("-W", "corpus/decisions.tsv", "corpus")
    assert out.returncode == 0, out.stderr
    assert re.search(r"orient corpus\b", out.stdout), out.stdout


def test_the_model_depends_on_the_corpus() -> None:
    out = make("-W", "corpus/passages.jsonl", "train")
    assert out.returncode == 0, out.stderr
    assert "orient train" in out.stdout
    assert "orient corpus" not in out.stdout


def test_the_readme_parser_finds_inline_and_block_commands() -> None:
    sample = (
        "Run `make demo` first, then `make test`.\n\n"
        "```sh\n$ make train\nmake corpus  # rebuild\n```\n"
        "Make sure to `make demo` again.\n"
    )
    assert targets_in_markdown(sample) == ["demo", "test", "train", "corpus"]


def test_makefile_targets_are_parsed() -> None:
    # Guard for the parser above: the targets the Makefile itself lists in .PHONY are all found.
    text = MAKEFILE.read_text(encoding="utf-8")
    phony = re.search(r"^\.PHONY:(.*)$", text, flags=re.MULTILINE)
    assert phony
    assert set(phony.group(1).split()) <= makefile_targets()
