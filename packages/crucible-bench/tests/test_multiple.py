from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from statsmodels.stats.multitest import multipletests

from crucible.bench import BenchInputError, Correction, adjust

SM = {
    "bonferroni": "bonferroni", "holm": "holm", "hochberg": "simes-hochberg", "sidak": "sidak",
    "holm-sidak": "holm-sidak", "fdr_bh": "fdr_bh", "fdr_by": "fdr_by",
}  # fmt: skip


@pytest.mark.parametrize("method", list(SM))
def test_matches_statsmodels(method):
    rng = np.random.default_rng(2)
    p = np.concatenate([rng.uniform(0, 0.05, 8), rng.uniform(0, 1, 30), [0.01, 0.01, 0.5, 1.0, 0.0]])  # fmt: skip
    got = adjust(p, method, alpha=0.1)
    # statsmodels 0.15: multipletests(p, alpha=0.1, method=...)
    reject, adjusted, _, _ = multipletests(p, alpha=0.1, method=SM[method])
    np.testing.assert_allclose(got.adjusted, adjusted, rtol=1e-9, atol=1e-15)
    np.testing.assert_array_equal(got.reject, reject)


def test_enum_and_string_and_none():
    p = [0.01, 0.04, 0.03]
    assert adjust(p, Correction.HOLM).adjusted.tolist() == adjust(p, "holm").adjusted.tolist()
    assert adjust(p, "none").adjusted.tolist() == p
    assert adjust([0.01, 0.02, 0.04], "holm").adjusted.tolist() == pytest.approx([0.03, 0.04, 0.04])  # fmt: skip


def test_bad_input_names_argument_and_valid_methods():
    with pytest.raises(BenchInputError, match=r"`p_values` must lie in \[0, 1\]; got 1.2"):
        adjust([0.1, 1.2])
    with pytest.raises(BenchInputError, match="`p_values`"):
        adjust([0.1, float("nan")])
    with pytest.raises(BenchInputError, match="`p_values`"):
        adjust([])
    with pytest.raises(BenchInputError, match="'bonferroni', 'holm', 'hochberg'"):
        adjust([0.1], "bonf")


p_lists = st.lists(st.floats(0.0, 1.0, allow_nan=False), min_size=1, max_size=50)


@settings(max_examples=80, deadline=None)
@given(p_lists, st.sampled_from([m.value for m in Correction]))
def test_adjusted_laws(p, method):
    res = adjust(p, method)
    raw = np.asarray(p)
    assert ((res.adjusted >= raw - 1e-15) & (res.adjusted <= 1.0)).all()
    order = np.argsort(raw, kind="stable")
    assert (np.diff(res.adjusted[order]) >= -1e-12).all()  # monotone in the raw p-value
    assert (res.reject == (res.adjusted <= 0.05)).all()
