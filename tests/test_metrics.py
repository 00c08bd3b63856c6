"""Classification figures, checked against a worked example."""

from __future__ import annotations

import pytest

from pipeline.training.metrics import classification_figures


def test_worked_example() -> None:
    # gold:      s  s  m  m  m
    # predicted: s  m  m  m  s
    f = classification_figures(
        ["sales", "sales", "marketing", "marketing", "marketing"], ["sales", "marketing", "marketing", "marketing", "sales"]
    )
    assert f["n"] == 5
    assert f["accuracy"] == pytest.approx(3 / 5)
    # sales: tp 1, fp 1, fn 1 → P = R = F1 = 0.5; marketing: tp 2, fp 1, fn 1 → P = R = F1 = 2/3
    assert f["per_class"]["sales"] == {"precision": 0.5, "recall": 0.5, "f1": 0.5, "support": 2}
    assert f["per_class"]["marketing"]["precision"] == pytest.approx(2 / 3, abs=1e-4)
    assert f["per_class"]["marketing"]["recall"] == pytest.approx(2 / 3, abs=1e-4)
    assert f["per_class"]["marketing"]["support"] == 3
    assert f["macro_f1"] == pytest.approx((0.5 + 2 / 3) / 2, abs=1e-4)
    assert f["confusion"] == {"sales": {"sales": 1, "marketing": 1}, "marketing": {"sales": 1, "marketing": 2}}


def test_a_class_never_predicted_has_zero_precision_not_an_error() -> None:
    f = classification_figures(["sales", "marketing"], ["marketing", "marketing"])
    assert f["per_class"]["sales"] == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 1}
    assert f["accuracy"] == 0.5


def test_empty_input() -> None:
    f = classification_figures([], [])
    assert f["n"] == 0
    assert f["accuracy"] == 0.0
