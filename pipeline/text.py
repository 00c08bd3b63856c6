"""Normalising and segmenting text: the one place where raw characters become model terms.

Segmentation settings are fixed: jieba's default dictionary plus the package's user dictionary,
precise mode with HMM off. HMM off is deliberate: it is faster, it never invents words that are not
in a dictionary, and the Rust port (rjieba) gives exactly the same tokens with it.
"""

from __future__ import annotations

import logging
import marshal
import threading
import unicodedata
from functools import lru_cache
from typing import Any, NamedTuple

from pipeline import config
from pipeline.traditional import to_simplified

# Broken entities and variant characters seen in the source page; kept small and explicit.
_REPLACEMENTS = {"&mdash;": "—", "mdash;": "—", "&nbsp;": " "}
_VARIANTS = str.maketrans({"単": "单", "戶": "户", "説": "说", "\ufeff": ""})
_MIN_ASCII_TERM = 2


class Term(NamedTuple):
    """A model term and the span [start, end) of the characters it came from in the original text."""

    term: str
    start: int
    end: int


def _nfkc_units(text: str) -> list[tuple[int, int]]:
    """Split text into base character + combining marks, so NFKC can run unit by unit."""
    units: list[tuple[int, int]] = []
    i, n = 0, len(text)
    while i < n:
        j = i + 1
        while j < n and unicodedata.combining(text[j]):
            j += 1
        units.append((i, j))
        i = j
    return units


def normalise(text: str) -> str:
    """Return NFKC text with the page's broken entities repaired and variant characters unified."""
    return normalise_with_map(text)[0]


def normalise_with_map(text: str) -> tuple[str, list[int], list[int]]:
    """Normalise text and return, per output character, the start and end of its source characters."""
    out: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    units = _nfkc_units(text)
    k = 0
    while k < len(units):
        i, j = units[k]
        replaced = False
        if text[i] in "&m":
            for old, new in _REPLACEMENTS.items():
                if text.startswith(old, i):
                    end = i + len(old)
                    out.append(new)
                    starts.append(i)
                    ends.append(end)
                    while k < len(units) and units[k][0] < end:
                        k += 1
                    replaced = True
                    break
        if replaced:
            continue
        piece = unicodedata.normalize("NFKC", text[i:j]).translate(_VARIANTS)
        for ch in piece:
            out.append(ch)
            starts.append(i)
            ends.append(j)
        k += 1
    # Traditional characters become simplified one for one, so starts and ends stay right.
    return to_simplified("".join(out)), starts, ends


def _load_word_list(path: Any) -> list[str]:
    lines = path.read_text(encoding="utf-8").splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


@lru_cache(maxsize=1)
def stop_words() -> frozenset[str]:
    """Return the stop words shipped with the package."""
    return frozenset(_load_word_list(config.STOP_WORDS))


@lru_cache(maxsize=1)
def user_words() -> tuple[tuple[str, int], ...]:
    """Return the domain dictionary as (word, frequency) pairs."""
    pairs = []
    for line in _load_word_list(config.USER_DICT):
        word, freq = line.split()[:2]
        pairs.append((unicodedata.normalize("NFKC", word), int(freq)))
    return tuple(pairs)


_lock = threading.Lock()
_tokenizer: Any = None


def _jieba() -> Any:
    """Return the project's jieba tokenizer, built on first use."""
    global _tokenizer
    if _tokenizer is not None:
        return _tokenizer
    with _lock:
        if _tokenizer is None:
            import jieba

            jieba.setLogLevel(logging.WARNING)
            tk = jieba.Tokenizer()
            tk.tmp_dir = str(config.cache_dir())
            cache = config.cache_dir() / "jieba.cache"
            try:
                # marshal.loads on bytes is several times faster than jieba's marshal.load on a file.
                tk.FREQ, tk.total = marshal.loads(cache.read_bytes())
                tk.initialized = True
            except (OSError, ValueError, EOFError, TypeError):
                tk.initialize()
            for word, freq in user_words():
                tk.add_word(word, freq)
            _tokenizer = tk
    return _tokenizer


def _keep(token: str) -> str | None:
    """Return the term a token becomes, or None for punctuation, numbers and stop words."""
    token = token.strip().lower()
    if not token or not any(unicodedata.category(ch).startswith("L") for ch in token):
        return None
    if token.isascii() and len(token) < _MIN_ASCII_TERM:
        return None
    if token in stop_words():
        return None
    return token


def segment(normalised: str) -> list[tuple[str, int, int]]:
    """Segment already-normalised text into (token, start, end) triples, unfiltered."""
    return [(w, s, e) for w, s, e in _jieba().tokenize(normalised, HMM=False)]


def tokenize(text: str) -> list[str]:
    """Turn text into model terms; the tokenizer stored inside the model, so its import path is API."""
    terms = []
    for word in _jieba().lcut(normalise(text), HMM=False):
        term = _keep(word)
        if term is not None:
            terms.append(term)
    return terms


def terms_with_spans(text: str) -> list[Term]:
    """Turn text into model terms with their character spans in the original (unnormalised) text."""
    norm, starts, ends = normalise_with_map(text)
    out = []
    for word, s, e in segment(norm):
        term = _keep(word)
        if term is not None:
            out.append(Term(term, starts[s], ends[e - 1]))
    return out


_SENTENCE_BREAK = frozenset("。！？!?；;\n")


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """Split text into sentences (and list lines): spans [start, end) into text, punctuation kept, blanks skipped."""
    spans = []
    start = 0
    n = len(text)
    i = 0
    while i < n:
        if text[i] in _SENTENCE_BREAK:
            j = i + 1
            while j < n and text[j] in _SENTENCE_BREAK and text[j] != "\n":
                j += 1
            spans.append((start, j))
            start = j
            i = j
        else:
            i += 1
    spans.append((start, n))
    out = []
    for s, e in spans:
        while s < e and (text[s].isspace() or text[s] == "\ufeff"):
            s += 1
        while e > s and text[e - 1].isspace():
            e -= 1
        if s < e:
            out.append((s, e))
    return out
