"""Scoring a chunk together (pipeline.batch, numpy) gives exactly the records of scoring text by text."""

from __future__ import annotations

import json
import math
import random
import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner
from conftest import as_jsonl
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline import parallel
from pipeline.batch import json_lines, score_numbered, term_numbers
from pipeline.cli import main
from pipeline.model import LinearModel
from pipeline.predict import Classifier
from pipeline.readers import Document, Failure
from pipeline.text import segment_many, terms_of
from pipeline.writers import json_round4, json_text, jsonl_encoded, jsonl_line

ROOT = Path(__file__).resolve().parent.parent


def _texts() -> list[str]:
    """Every corpus passage, supplementary passage and evaluation text."""
    texts = [
        json.loads(line)["original"] for line in (ROOT / "corpus" / "passages.jsonl").read_text(encoding="utf-8").splitlines()
    ]
    for path in [ROOT / "corpus" / "supplement.jsonl", *sorted((ROOT / "corpus" / "eval").glob("*.jsonl"))]:
        texts += [json.loads(line)["text"] for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return texts


def test_every_corpus_and_evaluation_text_gets_the_same_record_in_a_chunk(shipped: Any) -> None:
    texts = _texts()
    assert len(texts) > 1000
    for start in range(0, len(texts), 64):
        chunk = texts[start : start + 64]
        assert score_numbered(shipped, segment_many(chunk, term_numbers(shipped))) == [shipped.score(t).to_dict() for t in chunk]


def test_a_chunk_writes_each_record_as_the_jsonl_writer_would(shipped: Any) -> None:
    texts = _texts()
    # ids that JSON must escape: quotes, backslashes, control characters; and ones it must leave alone
    ids = [f'doc "{i}" \\ 第{i}篇\t😀' for i in range(len(texts))]
    for start in range(0, len(texts), 64):
        chunk, names = texts[start : start + 64], ids[start : start + 64]
        expected = [jsonl_line({"id": n, **shipped.score(t).to_dict()}) for n, t in zip(names, chunk, strict=True)]
        assert json_lines(shipped, names, segment_many(chunk, term_numbers(shipped))) == expected


@settings(max_examples=3000, deadline=None)
@given(
    st.floats() | st.floats(min_value=-1.0, max_value=1.0) | st.sampled_from([0.5, -0.5, 0.00005, -0.00005, 0.12345, 1e15, -0.0])
)
@pytest.mark.slow
def test_json_round4_is_the_json_of_round_to_four_places(x: float) -> None:
    assert json_round4(x) == json_text(round(x, 4))


def test_rounding_a_chunks_numbers_together_gives_json_round4s_text_for_each() -> None:
    from pipeline.batch import round4_texts

    rng = random.Random(4)
    values = [rng.gauss(0, s) for s in (1e-3, 1, 10) for _ in range(20_000)]
    values += [k / 20_000 for k in range(-40_000, 40_001)]  # halfway between ten-thousandths, in decimal
    values += [math.nextafter(k / 20_000, to) for k in range(-2_000, 2_001) for to in (-math.inf, math.inf)]
    values += [0.03125, -0.03125, 0.00005, -0.00005, 1e-12, -1e-12, 0.0, -0.0, 2.0**31, -(2.0**40), 1e20, math.nan, math.inf]
    assert round4_texts(values) == [json_round4(v) for v in values]
    assert round4_texts(values[:500]) == [json_round4(v) for v in values[:500]]  # again, from the memo


def test_trigrams_stop_words_repeated_terms_and_empty_documents_score_alike() -> None:
    # Toy words of two characters: a single character is no term (pipeline.text).
    model = LinearModel(
        vocabulary={"甲甲": 0, "乙乙 丙丙": 1, "甲甲 乙乙 丙丙": 2, "丙丙 甲甲": 3, "丁丁": 4},
        idf=[1.0, 2.0, 3.0, 1.5, 1.25],
        weights=[0.5, -1.0, 2.0, 0.25, -0.5],
        intercept=0.1,
        ngram_range=(1, 3),
        sublinear_tf=True,
        stop_words=frozenset({"戊戊"}),
        gate=LinearModel({"甲甲": 0, "戊戊": 1}, [1.0, 2.0], [1.0, -1.0], -0.2, (1, 1), False),
    )
    verdict = {"threshold": 0.5, "bands": [0.3, 0.45, 0.55, 0.7], "signal_weight": 0.6, "min_signal_terms": 1, "gate": 0.4}
    clf = Classifier(model, {"verdict": verdict}, Path("toy"))
    # 戊戊 is a stop word of the model (dropped before n-grams form) and a term of the gate; 己己 is a term neither
    # model knows, which still keeps its neighbours apart; punctuation is no term at all and keeps nothing apart.
    chunk = [
        [c * 2 for c in "甲戊乙丙甲乙丙戊"],
        [],
        ["戊戊", "戊戊"],
        ["丁丁"] * 7 + ["甲甲"],
        [c * 2 for c in "丙甲乙丙丁丙己甲"],
        ["乙乙", "，", "丙丙"] * 12,
        [c * 2 for c in "乙丙乙丙"],
        ["甲甲", "乙乙"],
    ]
    expected = [clf.score_tokens(terms_of(t)).to_dict(limit=2) for t in chunk]
    assert score_numbered(clf, list(map(term_numbers(clf), chunk)), limit=2) == expected
    assert {model.terms[i]: c for i, c in model.features(terms_of(chunk[0])).items()} == {
        "甲甲": 2,
        "乙乙 丙丙": 2,
        "甲甲 乙乙 丙丙": 2,
        "丙丙 甲甲": 1,
    }


def _tied_classifier() -> Classifier:
    """Six terms per side, weights 3, 2, 2, 2, 1, 0.5: three tie for a document's second strongest pull."""
    words = sorted(c * 2 for c in "甲乙丙丁戊己庚辛壬癸子丑")  # feature indices in term order, as scikit-learn numbers them
    weights = [3.0, 2.0, 2.0, 2.0, 1.0, 0.5]
    model = LinearModel(
        vocabulary={w: i for i, w in enumerate(words)},
        idf=[1.0] * 12,
        weights=weights + [-w for w in weights],
        intercept=0.0,
        ngram_range=(1, 1),
        sublinear_tf=False,
        stop_words=frozenset(),
    )
    verdict = {"threshold": 0.5, "bands": [0.3, 0.45, 0.55, 0.7], "signal_weight": 0.6, "min_signal_terms": 1}
    return Classifier(model, {"verdict": verdict}, Path("toy"))


def test_evidence_keeps_ties_in_term_order_among_short_documents_and_beside_a_long_one() -> None:
    clf = _tied_classifier()
    words = clf.linear.terms
    alike = [words[::-1], words[2:] + words[:2], words[1:4] + words[7:10], words]  # all many-sided, as a grid ranks them
    # one document with every term beside 24 with one each: too lopsided for the grid, the sorts rank it all
    lopsided = [words[::-1]] + [[w] for w in words] * 2
    for chunk in (alike, lopsided):
        expected = [clf.score_tokens(terms_of(t)).to_dict(limit=2) for t in chunk]
        assert score_numbered(clf, list(map(term_numbers(clf), chunk)), limit=2) == expected
    no_evidence = [clf.score_tokens(terms_of(t)).to_dict(limit=0) for t in alike]
    assert score_numbered(clf, list(map(term_numbers(clf), alike)), limit=0) == no_evidence
    marketing = score_numbered(clf, [term_numbers(clf)(words[::-1])], limit=2)[0]["evidence"]["marketing"]
    assert [e["term"] for e in marketing] == [words[0], words[1]]  # weight 3, then the first of three at 2


def test_a_chunk_without_a_single_feature_of_the_model_is_scored_together() -> None:
    clf = _tied_classifier()
    chunk = [["，", "。"], [], ["x"], ["未知", " ", "词"]]  # punctuation, nothing, a dropped letter, terms no model has
    expected = [clf.score_tokens(terms_of(t)).to_dict() for t in chunk]
    assert score_numbered(clf, list(map(term_numbers(clf), chunk))) == expected


def test_ranking_evidence_drops_only_pulls_weaker_than_their_documents_limit_th() -> None:
    from pipeline.batch import _strongest

    pull = np.array([3.0, 2.0, 2.0, 1.0, 5.0, 4.0, 0.5, 7.0, 6.0, 2.0])
    doc = np.array([0, 0, 0, 0, 1, 1, 1, 2, 2, 2])
    everything = np.arange(10)
    # the grid: a row per document; the two strongest of each, ties at the second included
    assert _strongest(everything, pull, doc, 3, 2).tolist() == [0, 1, 2, 4, 5, 7, 8]
    assert _strongest(everything, pull, doc, 3, 3).tolist() == [0, 1, 2, 4, 5, 6, 7, 8, 9]
    # nothing to drop: no document has more than `limit` candidates
    assert _strongest(everything, pull, doc, 3, 4).tolist() == everything.tolist()
    # one long document beside many short ones would make the grid large: every candidate is kept for the sorts
    long = np.array([0] * 9 + list(range(1, 31)))
    assert _strongest(np.arange(39), np.ones(39), long, 31, 2).tolist() == list(range(39))


def test_a_cli_batch_equals_scoring_each_text_alone(tmp_path: Path, shipped: Any) -> None:
    texts = _texts()[:150]
    batch = tmp_path / "batch.jsonl"
    batch.write_text(as_jsonl(*({"id": str(i), "text": t} for i, t in enumerate(texts))), encoding="utf-8")
    result = CliRunner().invoke(main, ["score", str(batch), "--format", "jsonl", "--jobs", "1"])
    assert result.exit_code == 0, result.output
    # the same bytes, not just the same records: a batch writes its JSON lines straight from the chunk's arrays
    assert result.stdout == "".join(jsonl_line({"id": str(i), **shipped.score(t).to_dict()}) for i, t in enumerate(texts))


def test_a_chunk_large_enough_is_scored_together_and_a_smaller_one_text_by_text(
    shipped: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pipeline import batch

    together: list[int] = []
    real = batch.score_numbered

    def counting(clf: Any, numbered: list[bytes], *args: Any) -> Any:
        together.append(len(numbered))
        return real(clf, numbered, *args)

    monkeypatch.setattr(batch, "score_numbered", counting)
    docs = [Document(str(i), t) for i, t in enumerate(_texts()[: parallel.MIN_BATCH])]
    big = parallel.score_chunk(shipped, docs)
    small = parallel.score_chunk(shipped, docs[:-1])
    assert together == [parallel.MIN_BATCH]
    assert small == big[:-1]


def test_a_chunk_the_batch_scorer_fails_on_is_scored_text_by_text(shipped: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from pipeline import batch

    def broken(*args: Any) -> None:
        raise RuntimeError("no room for the chunk's arrays")

    monkeypatch.setattr(batch, "_Chunk", broken)
    texts = _texts()[:20]
    docs = [Document(str(i), t) for i, t in enumerate(texts)]
    expected = [{"id": str(i), **shipped.score(t).to_dict()} for i, t in enumerate(texts)]
    said = "the chunk scorer failed (RuntimeError: no room for the chunk's arrays) on the 20 documents from 0; they were scored"
    with pytest.warns(parallel.FallbackWarning, match=re.escape(said)):
        assert parallel.score_chunk(shipped, docs) == expected
    with pytest.warns(parallel.FallbackWarning, match=re.escape(said)):
        assert parallel.score_chunk(shipped, docs, encode=jsonl_encoded) == [jsonl_line(r).encode() for r in expected]


def test_a_document_that_fails_in_a_chunk_is_reported_and_the_rest_scored_together(
    shipped: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pipeline import text

    segmenter = text.segmenter()
    real_cut = segmenter.cut

    def cut(normalised: str) -> list[str]:
        if "坏" in normalised:
            raise ValueError("a segmenter bug")
        return real_cut(normalised)

    monkeypatch.setattr(segmenter, "cut", cut)
    texts = _texts()[:20]
    docs: list[Any] = [Document(str(i), t) for i, t in enumerate(texts)]
    docs[5] = Document("bad", "坏文本")
    docs[9] = Failure("unreadable", "is not valid utf-8")
    out = parallel.score_chunk(shipped, docs)
    assert out[5] == Failure("bad", "could not be scored (ValueError: a segmenter bug)")
    assert out[9] == docs[9]
    for i in set(range(20)) - {5, 9}:
        assert out[i] == {"id": str(i), **shipped.score(texts[i]).to_dict()}


def test_a_model_without_gate_scores_alike(shipped: Any) -> None:
    import dataclasses

    clf = Classifier(dataclasses.replace(shipped.linear, gate=None), shipped.metadata, shipped.path)
    chunk = _texts()[:64]
    assert score_numbered(clf, segment_many(chunk, term_numbers(clf))) == [clf.score(t).to_dict() for t in chunk]


def test_the_key_table_finds_every_stored_key_and_nothing_else_collisions_included() -> None:
    from pipeline.batch import _KeyTable

    rng = random.Random(5)
    # Keys sharing their first slot, found by trying: the lookup must walk past each other's slots.
    probe = _KeyTable([(k, 0) for k in range(2_000)])
    by_home: dict[int, list[int]] = {}
    for key, home in zip(range(10**5), probe._homes(np.arange(10**5, dtype=np.int64)).tolist(), strict=True):
        by_home.setdefault(home, []).append(key)
    crowded = [key for keys in by_home.values() if len(keys) >= 6 for key in keys[:6]][:60]
    stored = dict.fromkeys(crowded + rng.sample(range(10**6), 1_940))
    pairs = [(key, feature) for feature, key in enumerate(stored)]
    table = _KeyTable(pairs)
    assert table.mask == probe.mask and table.longest >= 6  # same size, so the crowded keys still collide
    absent = [k for k in rng.sample(range(2 * 10**6), 5_000) if k not in stored]
    queries = np.array([k for k, _ in pairs] + absent + crowded[::-1], dtype=np.int64)
    expected = dict(pairs)
    assert table.find(queries).tolist() == [expected.get(k, -1) for k in queries.tolist()]
    assert table.find(np.zeros(0, dtype=np.int64)).tolist() == []
