"""The corpus builder on the real source page: articles, cruft, normalisation, spans, labels, decisions."""

from __future__ import annotations

import json
from itertools import pairwise
from pathlib import Path

import pytest

from pipeline import config
from pipeline.errors import OrientError
from pipeline.training.corpus import (
    Decision,
    build_passages,
    read_decisions,
    read_passages,
    read_raw,
    rule_label,
    write_passages,
)


@pytest.fixture(scope="module")
def raw() -> str:
    return read_raw()


@pytest.fixture(scope="module")
def passages(raw: str) -> list:
    return build_passages(raw, read_decisions())


def _containing(passages: list, needle: str) -> list:
    return [p for p in passages if needle in p.original]


def test_seven_articles_are_found(passages: list) -> None:
    articles = {p.article for p in passages if p.kind != "cruft"}
    assert articles == {1, 2, 3, 4, 5, 6, 7}
    headings = [p for p in passages if p.text.startswith("推销与营销的关系 第")]
    assert [p.article for p in headings] == [1, 2, 3, 4, 5, 6, 7]
    assert all(p.kind == "heading" for p in headings)


@pytest.mark.parametrize(
    "needle",
    ["叁柒商城", "keywin.org", "本文来源:http://www.gbppp.com"],
)
def test_site_cruft_is_neutral(passages: list, needle: str) -> None:
    found = _containing(passages, needle)
    assert found, f"no passage contains {needle}"
    for p in found:
        assert p.kind == "cruft"
        assert p.label == config.NEUTRAL
        assert p.how == "rule:cruft"


def test_the_advertisement_is_one_cruft_passage_covering_the_whole_line(raw: str, passages: list) -> None:
    (ad,) = _containing(passages, "叁柒商城")
    line = raw.splitlines()[ad.line - 1]
    assert ad.original == line.strip()


def test_site_markers_standalone_and_inline_are_cruft(raw: str, passages: list) -> None:
    marker = "【推销与营销的关系】"
    lines = raw.splitlines()
    standalone = {i for i, line in enumerate(lines, start=1) if line.strip() == marker}
    inline = {i for i, line in enumerate(lines, start=1) if marker in line and line.strip() != marker}
    assert standalone and inline, "the page has both kinds of marker"
    markers = [p for p in passages if marker in p.original]
    # Every marker is its own cruft passage, never part of a clause.
    assert all(p.original == marker and p.kind == "cruft" and p.label == config.NEUTRAL for p in markers)
    assert {p.line for p in markers} == standalone | inline
    assert len(markers) == raw.count(marker)
    # The text around an inline marker is still in the corpus, without the marker.
    for line_no in inline:
        rest = [p for p in passages if p.line == line_no and p.kind != "cruft"]
        assert rest, f"line {line_no}: the text beside the marker was lost"
        expected = lines[line_no - 1].replace(marker, "")
        for p in rest:
            assert p.original in expected


def test_broken_mdash_entity_is_normalised_in_text_but_kept_in_original(passages: list) -> None:
    found = _containing(passages, "mdash;mdash;")
    assert len(found) >= 7
    for p in found:
        assert "——" in p.text
        assert "mdash" not in p.text
        assert p.text == p.original.replace("mdash;", "—")
    (politics,) = _containing(passages, "政治部")
    assert politics.text == "政治部——市场定位"
    assert politics.original == "政治部mdash;mdash;市场定位"


@pytest.mark.parametrize("variant, standard", [("単", "单"), ("戶", "户")])
def test_variant_characters_are_unified(passages: list, variant: str, standard: str) -> None:
    found = _containing(passages, variant)
    assert found
    for p in found:
        assert variant not in p.text
        assert p.text.count(standard) >= p.original.count(variant)


def test_every_span_slices_the_raw_file_to_its_original(raw: str, passages: list) -> None:
    for p in passages:
        start, end = p.span
        assert raw[start:end] == p.original, p.id
        assert p.original == p.original.strip(), p.id


def test_spans_do_not_overlap_and_follow_page_order(passages: list) -> None:
    spans = sorted(p.span for p in passages)
    for (_, end), (start, _) in pairwise(spans):
        assert end <= start


def test_ids_are_unique(passages: list) -> None:
    ids = [p.id for p in passages]
    assert len(ids) == len(set(ids))


def test_shooting_and_feeding_contrast_is_two_passages(passages: list) -> None:
    (shoot,) = [p for p in passages if p.original.startswith("销售是射杀一只静坐不动的鸭子")]
    (feed,) = [p for p in passages if p.original.startswith("营销是在地上撒谷子")]
    assert shoot.article == feed.article == 2
    assert shoot.line == feed.line
    assert shoot.span[1] <= feed.span[0]
    assert "撒谷子" not in shoot.original
    assert "射杀" not in feed.original
    assert shoot.label == "sales"
    assert feed.label == "marketing"


@pytest.mark.parametrize(
    "text, label",
    [
        ("营销是让产品好卖，从客户需求出发做市场调研。", "marketing"),
        ("推销员要完成业绩指标，拿到定单就签单回款。", "sales"),
        ("今天开会讨论了一下。", config.NEUTRAL),
        ("用促销满足需求。", config.NEUTRAL),  # one cue each side
    ],
)
def test_rule_label_on_cue_texts(text: str, label: str) -> None:
    got, reason = rule_label(text)
    assert got == label
    assert reason


def test_rule_label_reason_names_the_cues() -> None:
    label, reason = rule_label("以客户为中心，先做市场调研。")
    assert label == "marketing"
    assert "以客户为中心" in reason and "调研" in reason
    assert rule_label("今天开会讨论了一下。") == (config.NEUTRAL, "no orientation cue")


def test_decisions_override_rules(raw: str) -> None:
    plain = build_passages(raw, {})
    target = next(p for p in plain if p.kind == "clause" and p.label == "marketing")
    decided = build_passages(raw, {target.id: Decision("sales", target.text[:8], "reviewed: test")})
    (after,) = [p for p in decided if p.id == target.id]
    assert after.label == "sales"
    assert after.how == "decision"
    assert after.reason == "reviewed: test"
    # Nothing else changes.
    assert [p for p in decided if p.id != target.id] == [p for p in plain if p.id != target.id]


def test_committed_decisions_are_applied(passages: list) -> None:
    decisions = read_decisions()
    assert decisions
    by_id = {p.id: p for p in passages}
    for pid, d in decisions.items():
        assert by_id[pid].label == d.label
        assert by_id[pid].how == "decision"


def test_stale_excerpt_is_refused_with_its_message(raw: str) -> None:
    plain = build_passages(raw, {})
    target = next(p for p in plain if p.kind == "clause")
    with pytest.raises(OrientError) as info:
        build_passages(raw, {target.id: Decision("sales", "不是这段话的开头", "stale")})
    message = str(info.value)
    assert target.id in message
    assert "不是这段话的开头" in message
    assert "review it again" in message


def test_decision_for_a_passage_that_does_not_exist_is_refused(raw: str) -> None:
    with pytest.raises(OrientError, match="a9-p999-s01-c01"):
        build_passages(raw, {"a9-p999-s01-c01": Decision("sales", "x", "gone")})


def test_bad_decisions_file_rows_are_reported(tmp_path: Path) -> None:
    bad = tmp_path / "decisions.tsv"
    bad.write_text("id\tlabel\texcerpt\treason\na1-p001-s01-c01\tsales\tonly three\n", encoding="utf-8")
    with pytest.raises(OrientError, match="has 3 fields, expected 4"):
        read_decisions(bad)
    bad.write_text("a1-p001-s01-c01\tboth\t推销\treason\n", encoding="utf-8")
    with pytest.raises(OrientError, match="unknown label 'both'"):
        read_decisions(bad)
    bad.write_text("a1-p001-s01-c01\tsales\t推销\tr\na1-p001-s01-c01\tsales\t推销\tr\n", encoding="utf-8")
    with pytest.raises(OrientError, match="decided twice"):
        read_decisions(bad)


def test_building_twice_is_byte_identical_and_equals_the_committed_corpus(tmp_path: Path) -> None:
    first, second = tmp_path / "first.jsonl", tmp_path / "second.jsonl"
    write_passages(build_passages(read_raw(), read_decisions()), first)
    write_passages(build_passages(read_raw(), read_decisions()), second)
    assert first.read_bytes() == second.read_bytes()
    assert first.read_bytes() == config.PASSAGES_FILE.read_bytes()


def test_passages_round_trip_through_the_file(tmp_path: Path, passages: list) -> None:
    path = tmp_path / "p.jsonl"
    write_passages(passages, path)
    assert read_passages(path) == passages
    first = json.loads(path.read_text(encoding="utf-8").splitlines()[0])
    assert set(first) == {
        "id",
        "article",
        "paragraph",
        "sentence",
        "clause",
        "line",
        "span",
        "original",
        "text",
        "kind",
        "label",
        "how",
        "reason",
    }
    # Chinese is written as Chinese.
    assert "\\u" not in path.read_text(encoding="utf-8")


def test_every_label_is_known(passages: list) -> None:
    assert {p.label for p in passages} == {"sales", "marketing", config.NEUTRAL}
    assert all(p.label == config.NEUTRAL for p in passages if p.kind == "cruft")


def test_headings_are_neutral_unless_a_reviewer_decided_otherwise(raw: str) -> None:
    headings = [p for p in build_passages(raw, {}) if p.kind == "heading"]
    assert headings
    assert all(p.label == config.NEUTRAL and p.how == "rule:heading" for p in headings)
