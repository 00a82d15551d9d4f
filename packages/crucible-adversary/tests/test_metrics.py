from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st
from statsmodels.stats.proportion import proportion_confint

from crucible.adversary import edit_distance, token_jaccard, wilson_interval
from crucible.core import ValidationError


@pytest.mark.parametrize(
    ("k", "n", "conf"),
    [(0, 10, 0.95), (8, 20, 0.95), (20, 20, 0.9), (3, 7, 0.99), (50, 1000, 0.95)],
)
def test_wilson_matches_statsmodels(k: int, n: int, conf: float) -> None:
    # statsmodels 0.14: proportion_confint(k, n, alpha=1 - conf, method="wilson")
    low, high = proportion_confint(k, n, alpha=1 - conf, method="wilson")
    p = wilson_interval(k, n, confidence=conf)
    assert p.ci_low == pytest.approx(low, abs=1e-12)
    assert p.ci_high == pytest.approx(high, abs=1e-12)
    assert p.estimate == k / n


@given(st.integers(1, 500).flatmap(lambda n: st.tuples(st.integers(0, n), st.just(n))))
def test_wilson_contains_estimate(kn: tuple[int, int]) -> None:
    p = wilson_interval(*kn)
    assert 0 <= p.ci_low <= p.estimate <= p.ci_high <= 1


def test_wilson_empty_is_nan_and_bad_args() -> None:
    p = wilson_interval(0, 0)
    assert math.isnan(p.estimate) and math.isnan(p.ci_low)
    with pytest.raises(ValidationError, match="cannot exceed"):
        wilson_interval(3, 2)
    with pytest.raises(ValidationError, match="`confidence`"):
        wilson_interval(1, 2, confidence=1.0)


@pytest.mark.parametrize(
    ("a", "b", "d"),
    [
        ("kitten", "sitting", 3),
        ("", "abc", 3),
        ("flaw", "lawn", 2),
        ("same", "same", 0),
        ("é😀", "e😀", 1),
    ],
)
def test_edit_distance(a: str, b: str, d: int) -> None:
    assert edit_distance(a, b) == d == edit_distance(b, a)


def test_token_jaccard() -> None:
    assert token_jaccard("The cat sat", "the cat ran") == 0.5
    assert token_jaccard("", "") == 1.0
    assert token_jaccard("a b", "c d") == 0.0
