"""Normalising and segmenting text: the one place where raw characters become model terms.

Segmentation settings are fixed: jieba's default dictionary plus the package's user dictionary,
precise mode with HMM off. HMM off is deliberate: it is faster, it never invents words that are not
in a dictionary, and the Rust port (rjieba) gives exactly the same tokens with it.
"""

from __future__ import annotations

import re
import sys
import threading
import unicodedata
from collections.abc import Callable
from functools import lru_cache
from typing import Any, NamedTuple

from pipeline import config
from pipeline.sections import scored_text
from pipeline.traditional import to_simplified

# Broken entities and variant characters seen in the source page; kept small and explicit.
_REPLACEMENTS = {"&mdash;": "—", "mdash;": "—", "&nbsp;": " "}
_VARIANTS = str.maketrans({"単": "单", "戶": "户", "説": "说", "\ufeff": ""})
_MIN_TERM = 2
# The version of what tokenize makes of a text. Raise it with any change meant to alter tokens: a model records
# the version it was trained with and is refused by a runtime with another (see pipeline.model.read_metadata).
FEATURE_VERSION = 2


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
_segmenter_instance: Any = None


def segmenter() -> Any:
    """Return the segmenter chosen by ORIENT_SEGMENTER (auto: rjieba when verified, else jieba), built on first use."""
    global _segmenter_instance
    if _segmenter_instance is not None:
        return _segmenter_instance
    with _lock:
        if _segmenter_instance is None:
            from pipeline import segmenters

            _segmenter_instance = segmenters.build(segmenters.requested(), user_words(), config.cache_dir())
    return _segmenter_instance


def segmenter_name() -> str:
    """Name and version of the segmenter in use, e.g. "rjieba 0.2.2" (builds it if needed)."""
    seg = segmenter()
    return f"{seg.name} {seg.version}"


def _keep(token: str) -> str | None:
    """Return the term a token becomes, or None for punctuation, numbers, single characters and stop words."""
    token = token.strip().lower()
    if not token or not any(unicodedata.category(ch).startswith("L") for ch in token):
        return None
    # A single character is a fragment far more often than a word (者, 强, the 一 of 五险一金): as evidence it
    # explains nothing, and dropping them all cost nothing on real postings (the lever study).
    if len(token) < _MIN_TERM:
        return None
    if token in stop_words():
        return None
    return token


class _TermCache(dict[str, str | None]):
    """token -> term (or None), filled on first sight; lookups of known tokens stay in C (dict subscript)."""

    limit = 1 << 18  # a bound, so a stream of ever-new tokens (ids, numbers) cannot grow it without end

    def __missing__(self, token: str) -> str | None:
        term = _keep(token)
        if term is not None:
            # Interned, as the model's terms are: a vocabulary lookup then matches by identity, without
            # comparing characters (whose memory a batch has long evicted from the CPU caches).
            term = sys.intern(term)
        if len(self) < self.limit:
            self[token] = term
        return term


# The same few thousand tokens recur in every document: deciding each once makes filtering nearly free.
_terms = _TermCache()

# Memo for normalise_fast: characters known to be their own unit (no combining mark) with the output
# normalise_with_map gives them; those whose output differs are kept in _changed as well.
_plain_chars: set[str] = set()
_unit_chars: set[str] = set()
_changed: dict[str, str] = {}
# Runs of characters known to be plain when it was compiled: removing them leaves, at C speed, the characters
# a text still needs classified or looked up; recompiled only now and then, since compiling costs milliseconds.
_known_re: re.Pattern[str] | None = None
_stale_calls = 0


def _memo_char(ch: str) -> None:
    """Classify one new character for normalise_fast."""
    global _changed
    if unicodedata.combining(ch):
        _unit_chars.add(ch)
        return
    out = normalise_with_map(ch)[0]
    if out != ch:
        # Replacing characters one after another equals a simultaneous replacement only if no output
        # contains a character that would itself be replaced; anything else takes the slow path.
        if any(c != ch and (normalise_with_map(c)[0] != c or unicodedata.combining(c)) for c in out):
            _unit_chars.add(ch)
            return
        # A new dict, not an insertion: another thread may be iterating over the old one. It is published
        # before the character joins _plain_chars, so whoever sees the character as plain sees its output.
        _changed = {**_changed, ch: out}
    _plain_chars.add(ch)


def _all_own_units(text: str) -> bool:
    """Whether every character of the text is its own unit (no combining mark), classifying new characters first."""
    global _known_re, _stale_calls
    # The characters the compiled class does not know, as one string (never an object per character, which a
    # long text of new characters would make costly): most texts have none, the rest few.
    unknown = text if _known_re is None else _known_re.sub("", text)
    if not unknown:
        return True
    chars = set(unknown)
    for ch in chars - _plain_chars - _unit_chars:
        _memo_char(ch)
    _stale_calls += 1
    # Recompile once the texts that took this path have cost about what compiling does (~4 us per known
    # character), so the class keeps up with new characters without recompiling for every text.
    if _plain_chars and _stale_calls * 8 >= len(_plain_chars):
        _stale_calls = 0
        _known_re = re.compile("[" + re.escape("".join(sorted(_plain_chars))) + "]+")
    return chars.isdisjoint(_unit_chars)


def normalise_fast(text: str) -> str:
    """Return exactly normalise(text), in C-speed string operations whenever every character is its own unit.

    normalise_with_map works unit by unit (a character and its combining marks) and repairs a few
    entities; when the text has neither, its output is each character's own output, joined, so a
    per-character memo and str.replace (or str.translate) give the same string many times faster.
    tests/test_speed_segmenters.py holds the two together on every corpus text and on generated strings.
    """
    if not _all_own_units(text):
        return normalise_with_map(text)[0]
    if any(old in text for old in _REPLACEMENTS):
        return normalise_with_map(text)[0]
    changed = _changed
    if len(changed) > len(text):
        # Many characters change (traditional text, say): one pass mapping each character costs less than a
        # search for each of them. Equal to replacing them one by one, since no output is itself replaced.
        return text.translate(_table(changed))
    for ch, out in changed.items():
        if ch in text:
            text = text.replace(ch, out)
    return text


_table_of: tuple[dict[str, str], dict[int, str]] = ({}, {})


def _table(changed: dict[str, str]) -> dict[int, str]:
    """str.translate's table for a version of _changed, made again only when _changed has been replaced."""
    global _table_of
    made = _table_of
    if made[0] is not changed:
        made = _table_of = (changed, str.maketrans(changed))
    return made[1]


def segment(normalised: str) -> list[tuple[str, int, int]]:
    """Segment already-normalised text into (token, start, end) triples, unfiltered."""
    return segmenter().tokenize(normalised)


def tokenize(text: str) -> list[str]:
    """Turn text into model terms; the tokenizer stored inside the model, so its import path is API.

    A posting's boilerplate sections (company introduction, benefits) are left out first (pipeline.sections).
    """
    return terms_of(segmenter().cut(normalise_fast(scored_text(text))))


def segment_many(texts: list[str], then: Callable[[list[str]], Any]) -> list[Any]:
    """Normalise and segment a batch of texts, giving `then(tokens)` of each; a text that fails gets its exception in its place.

    One step over the whole batch keeps jieba's dictionary in the CPU caches while it runs, instead of
    it and the model's tables evicting each other at every text (bench/stages.py measures the steps).
    `then` sees each text's tokens at once, while they are still in the caches, and what it keeps of
    them (pipeline.batch: term numbers) takes a fraction of their memory.
    """
    cut = segmenter().cut
    out: list[Any] = []
    for text in texts:
        try:
            out.append(then(cut(normalise_fast(scored_text(text)))))
        except Exception as exc:  # one bad text must not lose the batch
            out.append(exc)
    return out


def term(token: str) -> str | None:
    """The model term a segmenter token becomes, or None (punctuation, numbers, stop words), memoised."""
    return _terms[token]


def terms_of(tokens: list[str]) -> list[str]:
    """The model terms of a segmenter's tokens: tokenize(text) is terms_of(segmented normalised text)."""
    return list(filter(None, map(_terms.__getitem__, tokens)))


def terms_with_spans(text: str) -> list[Term]:
    """Turn text into model terms with their character spans in the original (unnormalised) text."""
    norm, starts, ends = normalise_with_map(scored_text(text))
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
