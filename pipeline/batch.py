"""Score a chunk of segmented documents at once: records equal, bit for bit, to `Result.to_dict()` of each.

Text by text, scoring costs a fifth of what jieba takes to segment: Python dictionary lookups for every
token and n-gram, twice (model and gate), a loop over a hundred features, a sort for the evidence.
For a chunk, each segmenter token is looked up once, in a memo that gives its term's number (0 for
punctuation and other dropped tokens, 1 for a term no model knows) as an int64's bytes, as soon as its
text is segmented (`term_numbers`; see text.segment_many). Everything after that runs in numpy over the
whole chunk: n-grams become integer keys, looked up in a hash table of the model's n-gram keys, and
TF-IDF, norms, dot products, signal counts and the evidence ranking follow.

The records are the same as the text-by-text path's, not just close: both sum each document's terms
in feature (term) order, one addition after another (np.bincount adds in input order), take the sublinear
term frequency from the same Python function, and apply the sigmoid and the rounding in Python.
JSON lines, the batch format, are made straight from the chunk's arrays, without records in between: the
same text `writers.jsonl_line` makes of each record. tests/test_batch.py holds the paths together on every
corpus and evaluation text.

numpy is imported only here, and batches use this only for chunks of parallel.MIN_BATCH documents or
more, so scoring one text in a fresh process never loads it.
"""

from __future__ import annotations

import sys
from collections import Counter
from collections.abc import Callable, Iterator
from functools import cached_property
from itertools import pairwise
from typing import Any, NamedTuple

import numpy as np

from pipeline.model import LinearModel, sigmoid, sublinear_tf
from pipeline.result import Pulls, Result, Scorer, score_record, term_record
from pipeline.text import term
from pipeline.writers import evidence_head, evidence_item, json_round4, score_line

DROPPED, UNKNOWN = 0, 1  # term numbers of a token that is no term, and of a term that no model has
_MEMO_LIMIT = 1 << 18  # tokens memoised; a stream of ever-new tokens (ids, numbers) must not grow it without end


class _Numbering(dict[str, bytes]):
    """Numbers for every term of a model and its gate; as a dict, a memo from segmenter token to its number's bytes."""

    def __init__(self, models: list[LinearModel]) -> None:
        super().__init__()
        terms: set[str] = set()
        for model in models:
            terms.update(model.stop_words)
            for gram in model.vocabulary:
                terms.update(gram.split(" "))
        self.number = {t: k for k, t in enumerate(sorted(terms), start=UNKNOWN + 1)}
        self.size = len(self.number) + UNKNOWN + 1
        # Each number as a native int64's bytes: a text's numbers are then one bytes.join, and a chunk's one
        # np.frombuffer, where Python ints would be collected into tuples and converted one by one.
        self.code = [k.to_bytes(8, sys.byteorder, signed=True) for k in range(self.size)]

    def __missing__(self, token: str) -> bytes:
        # A token seen for the first time; known ones are found by dict lookups that never leave C.
        t = term(token)
        code = self.code[DROPPED if t is None else self.number.get(t, UNKNOWN)]
        if len(self) < _MEMO_LIMIT:
            self[token] = code
        return code

    def numbers(self, tokens: list[str]) -> bytes:
        """The term numbers of a text's segmenter tokens, as native int64s."""
        return b"".join(map(self.__getitem__, tokens))


def _stack(numbered: list[bytes]) -> tuple[np.ndarray, np.ndarray]:
    """A chunk's term numbers, one text after another, and the text each belongs to."""
    lengths = [len(numbers) >> 3 for numbers in numbered]
    return np.frombuffer(b"".join(numbered), dtype=np.int64), np.repeat(np.arange(len(numbered)), lengths)


class _Tables:
    """One model in arrays: unigram feature per term number, its longer n-grams' features by key, IDF and weights."""

    def __init__(self, model: LinearModel, numbering: _Numbering) -> None:
        self.model = model
        self.size = size = numbering.size
        self.idf = np.asarray(model.idf, dtype=np.float64)
        self.weights = np.asarray(model.weights, dtype=np.float64)
        self.unigram = np.full(size, -1, dtype=np.int64)
        self.removed = np.zeros(size, dtype=bool)  # dropped tokens and this model's stop words
        self.removed[DROPPED] = True
        for word in model.stop_words:
            self.removed[numbering.number[word]] = True
        grams: dict[int, list[tuple[int, int]]] = {}
        for gram, i in model.vocabulary.items():
            parts = [numbering.number[p] for p in gram.split(" ")]
            if len(parts) == 1:
                self.unigram[parts[0]] = i
            else:
                key = 0
                for part in parts:
                    key = key * size + part
                grams.setdefault(len(parts), []).append((key, i))
        self.unigram[self.removed] = -1  # a removed token counts for nothing, even alone (see count)
        # Per n: the n-grams' features by key, and for each place in an n-gram, which terms stand there in some
        # n-gram of the model (a run of tokens that fails that test needs no lookup).
        self.ngrams: dict[int, tuple[_KeyTable, np.ndarray]] = {}
        for n, pairs in grams.items():
            keys = np.array([key for key, _ in pairs], dtype=np.int64)
            can = np.zeros((n, size), dtype=bool)
            for j in range(n):
                can[j, keys // size ** (n - 1 - j) % size] = True
            self.ngrams[n] = (_KeyTable(pairs), can)

    def count(self, numbers: np.ndarray, doc_at: np.ndarray) -> _Counted:
        """The model's features in a chunk, as LinearModel.features counts them in each document."""
        lo, hi = self.model.ngram_range
        if hi > 1:  # n-grams form over the kept tokens: dropped tokens and stop words do not part their neighbours
            keep = ~self.removed.take(numbers)
            seq, docs = numbers.compress(keep), doc_at.compress(keep)
        else:  # unigrams alone: a removed token has no unigram feature, so there is nothing to take out
            seq, docs = numbers, doc_at
        vocab = len(self.model.vocabulary)
        keys = []
        for n in range(lo, hi + 1):
            m = len(seq) - n + 1
            if m <= 0:
                continue
            if n == 1:
                feature = self.unigram.take(seq)
                hit = feature >= 0
                keys.append(docs.compress(hit) * vocab + feature.compress(hit))
                continue
            if n not in self.ngrams:
                continue
            table, can = self.ngrams[n]
            # an n-gram counts only inside one document: its first and last tokens belong to the same one
            possible = docs[:m] == docs[n - 1 :]
            for j in range(n):
                possible &= can[j].take(seq[j : j + m])
            start = np.flatnonzero(possible)
            key = seq[start]
            for j in range(1, n):
                key = key * self.size + seq[start + j]
            feature = table.find(key)
            hit = feature >= 0
            keys.append(docs.take(start.compress(hit)) * vocab + feature.compress(hit))
        unique, counts = _unique_counts(np.concatenate(keys) if keys else np.zeros(0, np.int64))
        return _Counted(*np.divmod(unique, vocab), counts)

    def pulls(self, counted: _Counted, n_docs: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Per feature: TF-IDF value times weight; per document: logit and L2 norm (as LinearModel.pulls)."""
        model = self.model
        if model.sublinear_tf:
            table = np.array([0.0] + [sublinear_tf(c) for c in range(1, int(counted.count.max(initial=0)) + 1)])
            tf = table[counted.count]
        else:
            tf = counted.count.astype(np.float64)
        values = tf * self.idf[counted.feature]
        products = values * self.weights[counted.feature]
        dot = np.bincount(counted.doc, weights=products, minlength=n_docs)
        square = np.bincount(counted.doc, weights=values * values, minlength=n_docs)
        norm = np.sqrt(square)
        with np.errstate(divide="ignore", invalid="ignore"):
            logit = np.where(square > 0, model.intercept + dot / norm, model.intercept)
        return products, logit, norm


class _KeyTable:
    """A hash table from n-gram key to feature, looked up for a whole array of keys at once.

    Binary search (np.searchsorted) of a chunk's candidate n-grams among the model's sorted keys cost a
    sixth of scoring a chunk: most candidates are not there, and every step of every search is a branch the
    CPU cannot predict. Here each key goes to a slot by multiplicative hashing, with linear probing in a
    table at most a quarter full, so that nearly every lookup ends at its first slot: the key, or an empty one.
    """

    _MULTIPLIER = np.uint64(0x9E3779B97F4A7C15)  # 2**64 / golden ratio: consecutive keys spread over the slots

    def __init__(self, pairs: list[tuple[int, int]]) -> None:
        bits = max(4, (4 * len(pairs)).bit_length())
        self.mask = (1 << bits) - 1
        self.shift = np.uint64(64 - bits)
        keys = [-1] * (self.mask + 1)  # -1: an empty slot (keys are never negative)
        features = [-1] * (self.mask + 1)
        self.longest = 1  # the most slots any key's lookup visits
        homes = self._homes(np.array([key for key, _ in pairs], dtype=np.int64)).tolist()
        for (key, feature), slot in zip(pairs, homes, strict=True):
            visits = 1
            while keys[slot] != -1:
                slot = (slot + 1) & self.mask
                visits += 1
            keys[slot], features[slot] = key, feature
            self.longest = max(self.longest, visits)
        self.keys = np.array(keys, dtype=np.int64)
        self.features = np.array(features, dtype=np.int64)

    def _homes(self, keys: np.ndarray) -> np.ndarray:
        """Each key's first slot."""
        return ((keys.astype(np.uint64) * self._MULTIPLIER) >> self.shift).astype(np.intp)

    def find(self, keys: np.ndarray) -> np.ndarray:
        """Each key's feature, -1 where the table has no such key."""
        found = np.full(len(keys), -1, dtype=np.int64)
        where, slot = np.arange(len(keys)), self._homes(keys)
        for _ in range(self.longest):  # a key still unfound after as many slots as any stored key needed is absent
            stored = self.keys.take(slot)
            match = stored == keys
            found[where.compress(match)] = self.features.take(slot.compress(match))
            going = ~match & (stored != -1)  # an empty slot ends a search: the key would have been there
            if not going.any():
                break
            where, keys, slot = where.compress(going), keys.compress(going), (slot.compress(going) + 1) & self.mask
        return found


def _unique_counts(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """np.unique(keys, return_counts=True), with a stable sort: twice as fast on these keys, already in runs by document."""
    keys = np.sort(keys, kind="stable")
    if not len(keys):  # a chunk in which no document has a single feature of the model
        return keys, keys
    starts = np.flatnonzero(np.concatenate(([True], keys[1:] != keys[:-1])))
    return keys[starts], np.diff(np.append(starts, len(keys)))


class _Counted:
    """A model's features over a chunk, sorted by document, then feature index."""

    def __init__(self, doc: np.ndarray, feature: np.ndarray, count: np.ndarray) -> None:
        self.doc, self.feature, self.count = doc, feature, count

    def top(self, products: np.ndarray, norm: np.ndarray, n_docs: int, sign: float, limit: int) -> _Side:
        """Per document, the `limit` strongest pulls towards one side (sign -1: sales, +1: marketing), equal pulls by term."""
        # Only features pulling this way that can be among their document's strongest, by document, then pull:
        # two stable sorts, so equal pulls keep the input's feature (term) order (np.lexsort's order, a third
        # faster: the document numbers, small integers, are sorted by radix). Then, within its document, a
        # feature's place: the first `limit` count.
        pull = sign * products
        candidates = _strongest(np.flatnonzero(pull > 0), pull, self.doc, n_docs, limit)
        by_pull = candidates[np.argsort(-pull[candidates], kind="stable")]
        order = by_pull[np.argsort(self.doc[by_pull].astype(np.min_scalar_type(n_docs)), kind="stable")]
        docs = self.doc[order]
        chosen = order.compress(np.arange(len(order)) - np.searchsorted(docs, np.arange(n_docs))[docs] < limit)
        doc = self.doc[chosen]
        return _Side(
            np.searchsorted(doc, np.arange(n_docs + 1)).tolist(),
            self.feature[chosen].tolist(),
            self.count[chosen].tolist(),
            (products[chosen] / norm[doc]).tolist(),
        )


def _strongest(candidates: np.ndarray, pull: np.ndarray, doc: np.ndarray, n_docs: int, limit: int) -> np.ndarray:
    """The candidates (ascending, so by document) at least as strong as their document's `limit`-th strongest."""
    docs = doc[candidates]
    starts = np.searchsorted(docs, np.arange(n_docs + 1))
    width = int(np.diff(starts).max(initial=0))
    # Each document's limit-th strongest pull, from a grid of a row per document (empty places 0, below any
    # candidate) partitioned row by row: linear time, where sorting the whole chunk's candidates is not. Those
    # at least that strong include every tie, so the sorts after this choose exactly as without it. Skipped
    # when there is nothing to drop, or when one long document would make the grid large.
    if limit <= 0 or width <= limit or width * n_docs > 4 * len(candidates):
        return candidates
    grid = np.zeros((n_docs, width))
    grid[docs, np.arange(len(candidates)) - starts[docs]] = pull[candidates]
    kth = np.partition(grid, width - limit, axis=1)[:, width - limit]
    return candidates.compress(pull[candidates] >= kth[docs])


class _Side(NamedTuple):
    """One side's evidence over a chunk: document d's pulls are items bounds[d] to bounds[d + 1] of the lists."""

    bounds: list[int]
    features: list[int]
    counts: list[int]
    shares: list[float]  # of the document's score

    def pulls(self) -> Iterator[tuple[int, int, float]]:
        """(feature index, count, share) of every pull, document after document."""
        return zip(self.features, self.counts, self.shares, strict=True)

    def per_document(self, items: list[Any]) -> list[list[Any]]:
        """Split one item per pull into each document's list."""
        return [items[a:b] for a, b in pairwise(self.bounds)]


class _Plan:
    """Everything a model needs to score chunks, built on first use and kept with the model."""

    def __init__(self, model: LinearModel) -> None:
        models = [model] + ([model.gate] if model.gate is not None else [])
        self.numbering = _Numbering(models)
        self.tables = [_Tables(m, self.numbering) for m in models]
        self.heads = _Heads(model.terms)
        # n-gram keys are numbers in base `size`: the longest must fit in an int64
        self.usable = all(self.numbering.size ** m.ngram_range[1] < 2**62 for m in models)


_plans: dict[int, tuple[LinearModel, _Plan]] = {}


def _plan(model: LinearModel) -> _Plan:
    # Keyed by identity (a LinearModel holds dicts, so it cannot be hashed) and holding the model itself,
    # so that an id is never reused while its entry lives. A process scores with one or two models.
    entry = _plans.get(id(model))
    if entry is None or entry[0] is not model:
        if len(_plans) > 8:
            _plans.clear()
        entry = _plans[id(model)] = (model, _Plan(model))
    return entry[1]


def usable(model: LinearModel) -> bool:
    """Whether this model's n-grams fit the integer keys pipeline.batch uses (true of any realistic model)."""
    return _plan(model).usable


def term_numbers(clf: Scorer) -> Callable[[list[str]], bytes]:
    """The function from a text's segmenter tokens to what `score_numbered` and `json_lines` read of it."""
    return _plan(clf.linear).numbering.numbers


class _Heads(dict[int, str]):
    """Feature index -> the JSON that opens the term's evidence object, up to its count; made on first use."""

    def __init__(self, terms: list[str]) -> None:
        super().__init__()
        self.terms = terms

    def __missing__(self, feature: int) -> str:
        head = self[feature] = evidence_head(self.terms[feature])
        return head


class _Chunk:
    """A chunk of segmented texts scored in arrays: what their records, or JSON lines, are made from."""

    def __init__(self, clf: Scorer, numbered: list[bytes], limit: int) -> None:
        model, n_docs, rules = clf.linear, len(numbered), clf.rules
        self.plan = plan = _plan(model)
        numbers, doc_at = _stack(numbered)
        tables = plan.tables[0]
        counted = tables.count(numbers, doc_at)
        products, logits, norm = tables.pulls(counted, n_docs)
        strong = np.abs(tables.weights[counted.feature]) >= rules.signal_weight  # as Classifier._strong
        signals = np.bincount(counted.doc, weights=np.where(strong, counted.count, 0), minlength=n_docs)
        self.signals: list[int] = signals.astype(np.int64).tolist()
        if model.gate is not None:
            gate = plan.tables[1]
            self.gates = [sigmoid(x) for x in gate.pulls(gate.count(numbers, doc_at), n_docs)[1].tolist()]
        else:
            self.gates = [1.0] * n_docs
        self.probabilities = [sigmoid(x) for x in logits.tolist()]
        self.labels = [rules.side(p) for p in self.probabilities]
        self.verdicts = list(map(rules.verdict, self.probabilities, self.signals, self.gates))
        self.reasons = list(map(rules.abstention, self.signals, self.gates))
        self.counted, self.products, self.norm, self.logits, self.limit = counted, products, norm, logits, limit

    @cached_property
    def sides(self) -> list[_Side]:
        """Each document's strongest pulls towards sales, then towards marketing (records and lines show them)."""
        n_docs = len(self.labels)
        return [self.counted.top(self.products, self.norm, n_docs, sign, self.limit) for sign in (-1.0, 1.0)]

    def records(self) -> list[dict[str, Any]]:
        """Each text's record, as `Result.to_dict` makes it."""
        terms = self.plan.tables[0].model.terms
        sales, marketing = (
            side.per_document([term_record(terms[f], c, s, None) for f, c, s in side.pulls()]) for side in self.sides
        )
        return list(
            map(
                score_record,
                self.labels,
                self.probabilities,
                self.verdicts,
                self.reasons,
                self.signals,
                self.gates,
                sales,
                marketing,
            )
        )

    def results(self) -> list[Result]:
        """Each text's Result, equal to the one `Classifier.score_tokens` gives it."""
        model, counted, n_docs = self.plan.tables[0].model, self.counted, len(self.labels)
        bounds = np.searchsorted(counted.doc, np.arange(n_docs + 1)).tolist()
        features, counts, products = counted.feature.tolist(), counted.count.tolist(), self.products.tolist()
        logits, norms = self.logits.tolist(), self.norm.tolist()
        out = []
        for d, (a, b) in enumerate(pairwise(bounds)):
            rows = features[a:b]
            pulls = Pulls(model, Counter(dict(zip(rows, counts[a:b], strict=True))), (logits[d], rows, products[a:b], norms[d]))
            p, signal, gate = self.probabilities[d], self.signals[d], self.gates[d]
            out.append(Result(self.labels[d], p, self.verdicts[d], signal, pulls, (), gate, self.reasons[d]))
        return out

    def json_lines(self, ids: list[str]) -> list[str]:
        """Each text's line of JSON, id first: the text `jsonl_line({"id": id, **record})` makes of its record."""
        heads = self.plan.heads
        sales, marketing = (
            map(
                ", ".join,
                side.per_document(
                    list(map(evidence_item, map(heads.__getitem__, side.features), side.counts, round4_texts(side.shares)))
                ),
            )
            for side in self.sides
        )
        return list(
            map(
                score_line,
                ids,
                self.labels,
                self.verdicts,
                self.reasons,
                round4_texts(self.probabilities),
                self.signals,
                round4_texts(self.gates),
                sales,
                marketing,
            )
        )


class _Round4(dict[int, str]):
    """json_round4's text of n ten-thousandths, by n; made on first use."""

    limit = 1 << 16  # contributions within +-3 fit; a bound, so a stream of extreme values cannot grow it without end

    def __missing__(self, n: int) -> str:
        text = json_round4(n / 10_000)
        if len(self) < self.limit:
            self[n] = text
        return text


_round4 = _Round4()


def round4_texts(values: list[float]) -> list[str]:
    """json_round4 of each value, the same text: numpy rounds them all to ten-thousandths, a memo has the texts.

    ".4f" rounds the exact value x to the nearest ten-thousandth, ties to even. So does np.rint on x * 10,000,
    except where that product's own rounding may have crossed a halfway point (it lies within 1e-6 of one:
    its error is below 1.2e-7 under 2**30), and the text of a negative value rounded to zero is "-0.0". Those,
    and NaN and infinities, take json_round4 itself.
    """
    x = np.array(values, dtype=np.float64)
    with np.errstate(invalid="ignore", over="ignore"):  # NaN, infinities, huge values: not sure, whatever they become
        scaled = x * 10_000
        n = np.rint(scaled)
        sure = (np.abs(np.abs(scaled - n) - 0.5) > 1e-6) & (np.abs(scaled) < 2**30) & ~((n == 0) & np.signbit(x))
        numbers = n.astype(np.int64).tolist()
    texts = _round4
    return [texts[k] if ok else json_round4(v) for k, ok, v in zip(numbers, sure.tolist(), values, strict=True)]


def score_numbered(clf: Scorer, numbered: list[bytes], limit: int = 10) -> list[dict[str, Any]]:
    """For every text of a chunk, as `term_numbers(clf)(tokens)`: `clf.score_tokens(terms_of(tokens)).to_dict(limit)`."""
    return _Chunk(clf, numbered, limit).records()


def json_lines(clf: Scorer, ids: list[str], numbered: list[bytes], limit: int = 10) -> list[str]:
    """For every text of a chunk, as `term_numbers(clf)(tokens)`, the line `jsonl_line({"id": id, **record})` writes of it."""
    return _Chunk(clf, numbered, limit).json_lines(ids)


def score_results(clf: Scorer, numbered: list[bytes]) -> list[Result]:
    """For every text of a chunk, as `term_numbers(clf)(tokens)`: `clf.score_tokens(terms_of(tokens))`."""
    return _Chunk(clf, numbered, 0).results()
