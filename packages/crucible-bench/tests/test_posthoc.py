from __future__ import annotations

from itertools import combinations

import numpy as np
import pandas as pd
import pingouin as pg
import pytest
from scipy import stats

from crucible.bench import DegenerateDataError, games_howell, tukey_hsd


def test_tukey_matches_scipy(three_groups):
    r = tukey_hsd(three_groups, alpha=0.1)
    # scipy 1.17: stats.tukey_hsd(*groups).confidence_interval(0.9)
    ref = stats.tukey_hsd(*three_groups)
    ci = ref.confidence_interval(0.9)
    for row, (i, j) in zip(r.comparisons, combinations(range(3), 2), strict=True):
        assert row.p_value == pytest.approx(ref.pvalue[i, j], rel=1e-9)
        assert row.p_adjusted == row.p_value
        assert row.ci_low == pytest.approx(ci.low[i, j], rel=1e-9)
        assert row.ci_high == pytest.approx(ci.high[i, j], rel=1e-9)
        assert row.estimate == pytest.approx(three_groups[i].mean() - three_groups[j].mean())
        assert row.reject == (row.p_value <= 0.1)
    assert r.correction == "tukey"


def test_games_howell_matches_pingouin(three_groups):
    r = games_howell({"a": three_groups[0], "b": three_groups[1], "c": three_groups[2]})
    df = pd.DataFrame(
        {
            "y": np.concatenate(three_groups),
            "g": np.repeat(["a", "b", "c"], [g.size for g in three_groups]),
        }
    )
    # pingouin 0.7: pg.pairwise_gameshowell(dv="y", between="g")
    ref = pg.pairwise_gameshowell(df, dv="y", between="g")
    for row, (_, exp) in zip(r.comparisons, ref.iterrows(), strict=True):
        assert (row.group_a, row.group_b) == (exp["A"], exp["B"])
        assert row.statistic == pytest.approx(exp["T"], rel=1e-10)
        assert row.df == pytest.approx(exp["df"], rel=1e-10)
        assert row.p_value == pytest.approx(exp["pval"], rel=1e-6)
        assert row.ci_low < row.estimate < row.ci_high


def test_posthoc_degenerate():
    with pytest.raises(DegenerateDataError):
        games_howell([[1.0, 1.0], [2.0, 3.0], [3.0, 4.0]])
    with pytest.raises(DegenerateDataError):
        tukey_hsd([[1.0, 1.0], [2.0, 2.0], [3.0, 3.0]])
