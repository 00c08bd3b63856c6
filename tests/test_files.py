"""Atomic writes: a file appears whole or not at all, and a failed write leaves the old file alone."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from pipeline.files import AtomicOutput, atomic_write, sha256_file


def test_atomic_write_replaces_the_file_and_leaves_no_temporary(tmp_path: Path) -> None:
    target = tmp_path / "out.bin"
    target.write_bytes(b"old")
    atomic_write(target, b"new contents")
    assert target.read_bytes() == b"new contents"
    assert [p.name for p in tmp_path.iterdir()] == ["out.bin"]


def test_atomic_write_gives_the_usual_file_mode(tmp_path: Path) -> None:
    mask = os.umask(0o022)
    try:
        target = tmp_path / "out.bin"
        atomic_write(target, b"x")
        assert target.stat().st_mode & 0o777 == 0o644
    finally:
        os.umask(mask)


def test_atomic_output_commit_and_discard(tmp_path: Path) -> None:
    target = tmp_path / "scores.jsonl"
    target.write_text("previous\n", encoding="utf-8")
    out = AtomicOutput(target)
    out.stream.write("half written")
    assert target.read_text(encoding="utf-8") == "previous\n"
    out.discard()
    assert target.read_text(encoding="utf-8") == "previous\n"
    assert [p.name for p in tmp_path.iterdir()] == ["scores.jsonl"]
    out = AtomicOutput(target)
    out.stream.write("市场调研\n")
    out.commit()
    assert target.read_text(encoding="utf-8") == "市场调研\n"
    assert [p.name for p in tmp_path.iterdir()] == ["scores.jsonl"]


def test_sha256_file(tmp_path: Path) -> None:
    data = os.urandom(3 * (1 << 20) + 17)
    p = tmp_path / "blob"
    p.write_bytes(data)
    assert sha256_file(p) == hashlib.sha256(data).hexdigest()
