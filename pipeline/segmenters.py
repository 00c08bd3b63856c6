"""The segmenters behind `pipeline.text`: jieba, the reference, and rjieba, the same tokens many times faster.

Both run with the project's fixed settings: jieba's default dictionary plus the package's user
dictionary (added word by word with the same frequencies), precise mode, HMM off. rjieba (a binding of
the Rust port jieba-rs) is used only when it gives exactly jieba's tokens: its version must be one the
test suite proved equal on the whole corpus and the evaluation sets (tests/test_speed_segmenters.py),
and it must pass a self-check on probe sentences when it is built. Otherwise jieba runs.

Choose with the environment variable ORIENT_SEGMENTER: `auto` (default: rjieba when installed and
verified, else jieba), `jieba`, or `rjieba` (an error if it is missing or fails the self-check).
"""

from __future__ import annotations

import logging
import marshal
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Protocol

from pipeline.errors import OrientError

ENV_VAR = "ORIENT_SEGMENTER"
CHOICES = ("auto", "jieba", "rjieba")
# rjieba versions whose tokens equal jieba 0.42.1's under our settings on every corpus and evaluation text
# (the test that proves it runs in `make test`). Add a version only after that test passes with it.
VERIFIED_RJIEBA = frozenset({"0.2.2"})
# Probe sentences (already normalised) and the tokens jieba gives them with our settings and user
# dictionary; a test keeps them equal to jieba's current output. They cover user-dictionary words,
# Latin letters and digits, punctuation, spaces and line breaks, where a port is most likely to differ.
PROBES: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        "以客户需求为导向，做好市场细分和品牌定位，而不是冲业绩、清库存。",
        ("以客户需求为导向", "，", "做好", "市场细分", "和", "品牌定位", "，", "而", "不是", "冲业绩", "、", "清库存", "。"),
    ),
    (
        "每天陌拜20家客户，签单率≥15%，B2B SaaS回款周期<90天。",
        (
            "每天",
            "陌拜",
            "20",
            "家",
            "客户",
            "，",
            "签单",
            "率",
            "≥",
            "15",
            "%",
            "，",
            "B2B",
            " ",
            "SaaS",
            "回款周期",
            "<",
            "90",
            "天",
            "。",
        ),
    ),
    (
        "用户画像与焦点访谈\r\n  KPI: 满意度调查 3.5分 e-mail",
        (
            "用户画像",
            "与",
            "焦点访谈",
            "\r\n",
            " ",
            " ",
            "KPI",
            ":",
            " ",
            "满意度调查",
            " ",
            "3",
            ".",
            "5",
            "分",
            " ",
            "e",
            "-",
            "mail",
        ),
    ),
)


class Segmenter(Protocol):
    """What `pipeline.text` needs from a segmenter."""

    name: str
    version: str

    def cut(self, text: str) -> list[str]:
        """Segment normalised text into tokens (precise mode, HMM off)."""
        ...

    def tokenize(self, text: str) -> list[tuple[str, int, int]]:
        """Segment normalised text into (token, start, end) triples, offsets in characters."""
        ...


def _version(package: str) -> str:
    """An installed package's version, from its .dist-info folder name beside it (importlib.metadata costs 20 ms)."""
    from importlib.util import find_spec

    spec = find_spec(package)
    for folder in (spec.submodule_search_locations or []) if spec else []:
        for info in Path(folder).parent.glob(f"{package}-*.dist-info"):
            return info.name[len(package) + 1 : -len(".dist-info")]
    from importlib import metadata

    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "unknown"


class JiebaSegmenter:
    """jieba (pure Python): the reference segmenter and the fallback."""

    name = "jieba"

    def __init__(self, user_words: Iterable[tuple[str, int]], cache_dir: Path) -> None:
        import jieba

        jieba.setLogLevel(logging.WARNING)
        tk = jieba.Tokenizer()
        tk.tmp_dir = str(cache_dir)
        try:
            # marshal.loads on bytes is several times faster than jieba's marshal.load on a file.
            tk.FREQ, tk.total = marshal.loads((cache_dir / "jieba.cache").read_bytes())
            tk.initialized = True
        except (OSError, ValueError, EOFError, TypeError):
            tk.initialize()  # builds the dictionary and writes jieba.cache into cache_dir for next time
        for word, freq in user_words:
            tk.add_word(word, freq)
        self.tokenizer: Any = tk
        self.version = str(getattr(jieba, "__version__", "unknown"))

    def cut(self, text: str) -> list[str]:
        """Segment normalised text into tokens."""
        return self.tokenizer.lcut(text, HMM=False)

    def tokenize(self, text: str) -> list[tuple[str, int, int]]:
        """Segment normalised text into (token, start, end) triples."""
        return list(self.tokenizer.tokenize(text, HMM=False))


def _rjieba_class() -> Any:
    """Return rjieba's Jieba class, skipping the default instance that `import rjieba` builds.

    rjieba's package __init__ builds a module-level Jieba (loading the whole dictionary, 0.1-0.2 s) that
    orient never uses; loading the compiled module directly halves rjieba's share of a cold start.
    Anything unexpected falls back to the ordinary import.
    """
    try:
        from importlib.machinery import EXTENSION_SUFFIXES, ExtensionFileLoader
        from importlib.util import find_spec, module_from_spec, spec_from_file_location

        spec = find_spec("rjieba")
        for folder in (spec.submodule_search_locations or []) if spec else []:
            for suffix in EXTENSION_SUFFIXES:
                path = Path(folder) / f"rjieba{suffix}"
                if path.is_file():
                    loader = ExtensionFileLoader("rjieba.rjieba", str(path))
                    module = module_from_spec(spec_from_file_location("rjieba.rjieba", path, loader=loader))  # type: ignore[arg-type]
                    loader.exec_module(module)
                    return module.Jieba
    except Exception:  # any surprise in another package's layout: use its public import instead
        pass
    import rjieba

    return rjieba.Jieba


class RjiebaSegmenter:
    """rjieba (Rust, jieba-rs): jieba's dictionary and algorithm, with HMM off exactly jieba's tokens."""

    name = "rjieba"

    def __init__(self, user_words: Iterable[tuple[str, int]], cache_dir: Path | None = None) -> None:
        # jieba-rs embeds the same default dictionary as jieba; rjieba has no load_userdict, so the
        # user dictionary goes in word by word, as jieba's add_word does it.
        self._words = tuple(user_words)
        self._cache_dir = cache_dir
        self._fallback: JiebaSegmenter | None = None
        self._jieba: Any = _rjieba_class()()
        for word, freq in user_words:
            self._jieba.add_word(word, freq, None)
        self.version = _version("rjieba")

    def cut(self, text: str) -> list[str]:
        """Segment normalised text into tokens."""
        try:
            return self._jieba.cut(text, False)
        except UnicodeEncodeError:
            return self._jieba_for_surrogates().cut(text)

    def tokenize(self, text: str) -> list[tuple[str, int, int]]:
        """Segment normalised text into (token, start, end) triples."""
        try:
            return self._jieba.tokenize(text, "default", False)
        except UnicodeEncodeError:
            return self._jieba_for_surrogates().tokenize(text)

    def _jieba_for_surrogates(self) -> JiebaSegmenter:
        # A lone surrogate (from a broken "\ud800" escape) cannot cross into Rust; jieba segments it.
        if self._fallback is None:
            from pipeline import config

            self._fallback = JiebaSegmenter(self._words, self._cache_dir or config.cache_dir())
        return self._fallback


def self_check(seg: Segmenter) -> str | None:
    """Return None if the segmenter gives jieba's tokens on every probe, else one sentence saying where not."""
    for text, expected in PROBES:
        got = tuple(seg.cut(text))
        if got != expected:
            return f"{seg.name} {seg.version} segments {text!r} differently from jieba"
        if tuple(w for w, _, _ in seg.tokenize(text)) != expected:
            return f"{seg.name} {seg.version} tokenizes {text!r} differently from jieba"
    return None


def requested() -> str:
    """Return the segmenter asked for in ORIENT_SEGMENTER (default auto), checked against the choices."""
    choice = os.environ.get(ENV_VAR, "auto").strip().lower() or "auto"
    if choice not in CHOICES:
        raise OrientError(f"{ENV_VAR}={choice!r} is not a segmenter; use one of: {', '.join(CHOICES)}.")
    return choice


def rjieba_installed() -> bool:
    """Whether the optional accelerated segmenter can be imported (without importing it)."""
    from importlib.util import find_spec

    return find_spec("rjieba") is not None


def build(choice: str, user_words: Iterable[tuple[str, int]], cache_dir: Path) -> Segmenter:
    """Build the segmenter for a choice (auto, jieba, rjieba) with the given user dictionary."""
    words = tuple(user_words)
    if choice == "jieba":
        return JiebaSegmenter(words, cache_dir)
    if choice == "rjieba":
        if not rjieba_installed():
            raise OrientError(f"{ENV_VAR}=rjieba, but rjieba is not installed; install it with: pip install 'orient-zh[fast]'.")
        seg = RjiebaSegmenter(words, cache_dir)
        problem = self_check(seg)
        if problem is not None:
            raise OrientError(f"{ENV_VAR}=rjieba, but {problem}; unset {ENV_VAR} to use jieba.")
        return seg
    if rjieba_installed() and _version("rjieba") in VERIFIED_RJIEBA:
        seg = RjiebaSegmenter(words, cache_dir)
        if self_check(seg) is None:
            return seg
        logging.getLogger(__name__).warning("rjieba fails the self-check; falling back to jieba")
    return JiebaSegmenter(words, cache_dir)
