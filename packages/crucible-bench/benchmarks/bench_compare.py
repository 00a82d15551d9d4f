"""Speed of crucible.bench against pingouin, scipy and statsmodels, measured in one run.

Prints one JSON line. Times are the median of 5 runs after one warm-up, in seconds
(pingouin's path: one run after the warm-up, as it takes minutes).

- compare: two samples of n = 10 000 with a 10 000-resample BCa interval of the difference,
  against pingouin.ttest + pingouin.compute_bootci(method="bca", n_boot=10000) and
  scipy.stats.ttest_ind + scipy.stats.bootstrap(method="BCa", n_resamples=10000, batch=500).
- floor: numpy drawing the 2 × 10⁸ resample indices alone, in the chunks crucible.bench uses.
- adjust: 10 000 p-values (holm, fdr_bh) against statsmodels.stats.multitest.multipletests.
- anova: 4 groups × 10 000 against pingouin.anova and scipy.stats.f_oneway.
"""

from __future__ import annotations

import json
import platform
import statistics
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import pingouin as pg
import scipy
from scipy import stats
from statsmodels.stats.multitest import multipletests

import crucible.bench as cb
from crucible.bench._bootstrap import resample_chunk

N = 10_000
B = 10_000
REPEATS = 5
PINGOUIN_REPEATS = 1  # pingouin's path takes minutes per run: timed once (after the warm-up)


def timed(fn: Callable[[], Any], repeats: int = REPEATS) -> float:
    fn()  # warm-up
    runs = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        runs.append(time.perf_counter() - start)
    return statistics.median(runs)


def main() -> None:
    rng = np.random.default_rng(2024)
    a, b = rng.normal(0.0, 1.0, N), rng.normal(0.05, 1.0, N)

    def ours() -> None:
        cb.compare(a, b, n_boot=B, seed=1)

    def pingouin_path() -> None:
        pg.ttest(a, b)
        pg.compute_bootci(
            a, b, func=lambda x, y: np.mean(x) - np.mean(y), method="bca", n_boot=B, seed=1
        )

    def scipy_path() -> None:
        stats.ttest_ind(a, b)
        stats.bootstrap(
            (a, b),
            lambda x, y, axis: np.mean(x, axis=axis) - np.mean(y, axis=axis),
            method="BCa",
            n_resamples=B,
            batch=500,
            rng=np.random.default_rng(1),
        )

    def floor() -> None:
        g = np.random.default_rng(1)
        chunk = resample_chunk(N)
        for start in range(0, B, chunk):
            size = min(chunk, B - start)
            g.integers(0, N, (size, N))
            g.integers(0, N, (size, N))

    p = rng.uniform(0, 1, 10_000) ** 3
    groups = [rng.normal(i * 0.02, 1.0, N) for i in range(4)]
    long = pd.DataFrame({"y": np.concatenate(groups), "g": np.repeat(list("abcd"), N)})

    t_ours = timed(ours)
    t_floor = timed(floor)
    t_pg = timed(pingouin_path, PINGOUIN_REPEATS)
    t_sp = timed(scipy_path)
    t_adj_holm = timed(lambda: cb.adjust(p, "holm"), 20)
    t_sm_holm = timed(lambda: multipletests(p, method="holm"), 20)
    t_adj_bh = timed(lambda: cb.adjust(p, "fdr_bh"), 20)
    t_sm_bh = timed(lambda: multipletests(p, method="fdr_bh"), 20)
    t_anova = timed(lambda: cb.anova(groups), 20)
    t_anova_pg = timed(lambda: pg.anova(long, dv="y", between="g"), 20)
    t_anova_sp = timed(lambda: stats.f_oneway(*groups), 20)
    out = {
        "benchmark": "crucible-bench compare/adjust/anova",
        "python": platform.python_version(),
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "pingouin": pg.__version__,
        "compare_n10000_bca10000_s": round(t_ours, 4),
        "floor_draw_2e8_indices_s": round(t_floor, 4),
        "pingouin_ttest_bootci_bca_s": round(t_pg, 4),
        "scipy_ttest_bootstrap_bca_s": round(t_sp, 4),
        "speedup_vs_pingouin": round(t_pg / t_ours, 2),
        "speedup_vs_scipy": round(t_sp / t_ours, 2),
        "ratio_to_floor": round(t_ours / t_floor, 3),
        "adjust_holm_10000_s": round(t_adj_holm, 6),
        "statsmodels_holm_10000_s": round(t_sm_holm, 6),
        "adjust_fdr_bh_10000_s": round(t_adj_bh, 6),
        "statsmodels_fdr_bh_10000_s": round(t_sm_bh, 6),
        "anova_4x10000_s": round(t_anova, 6),
        "pingouin_anova_4x10000_s": round(t_anova_pg, 6),
        "scipy_f_oneway_4x10000_s": round(t_anova_sp, 6),
    }
    print(json.dumps(out))


if __name__ == "__main__":
    main()
