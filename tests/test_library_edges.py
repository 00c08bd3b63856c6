"""The library's edges (issue 17): wrong types, missing texts in a batch, typing information."""

from __future__ import annotations

import math
from typing import Any

import pytest
from conftest import MARKETING_TEXT, ROOT, SALES_TEXT

from pipeline.readers import Failure
from pipeline.result import Result


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("文字".encode(), "score() takes one text as a str, not bytes (decode bytes first, e.g. data.decode('utf-8'))."),
        (None, "score() takes one text as a str, not NoneType."),
        (12, "score() takes one text as a str, not int."),
    ],
)
def test_score_refuses_what_is_not_text_in_one_sentence(shipped: Any, value: Any, message: str) -> None:
    with pytest.raises(TypeError) as err:
        shipped.score(value)
    assert str(err.value) == message


@pytest.mark.parametrize("value", ["每天打电话，完成业绩。", b"bytes"])
def test_score_many_refuses_a_bare_string(shipped: Any, value: Any) -> None:
    with pytest.raises(TypeError) as err:
        list(shipped.score_many(value))
    assert str(err.value) == "score_many() takes an iterable of texts, not one str or bytes; use score(text) for one text."


def test_a_missing_text_is_named_by_position_and_the_rest_are_scored(shipped: Any) -> None:
    out = list(shipped.score_many([SALES_TEXT, None, math.nan, 3, MARKETING_TEXT]))
    assert [type(o) for o in out] == [Result, Failure, Failure, Failure, Result]
    assert out[1:4] == [
        Failure("text 2", "is missing (None or NaN); skipped"),
        Failure("text 3", "is missing (None or NaN); skipped"),
        Failure("text 4", "is a int, not a str; skipped"),
    ]
    assert out[0] == shipped.score(SALES_TEXT) and out[4] == shipped.score(MARKETING_TEXT)


def test_the_package_ships_its_type_information() -> None:
    assert (ROOT / "pipeline" / "py.typed").is_file()
