"""Calibration of crucible.bench by simulation (a script, not part of the test suite).

Under the null hypothesis, with data that satisfy each test's assumptions, the rejection rate
at alpha = 0.05 should be within ±1 point of 5% (10 000 runs each; discrete exact tests are
conservative by construction and are flagged as such). Confidence intervals should cover the
true value 95% ± 1 point of the time; ``sample_size`` should deliver the requested power within
±2 points; ``compare_evals`` should keep nominal coverage with clustered items where the
naive (unclustered) SE does not.

Runs: 10 000 per row, except ``compare`` (2 000: every call runs normality, variance,
test, effect size, power and a bootstrap) and the bootstrap rows (4 000 runs × 2 000
resamples: each run is itself ~10⁶ draws). Bootstrap intervals are first-order accurate, so
their rows use samples of a few hundred, where they are expected within a point of nominal.
Tests that crucible.bench delegates to scipy are run through scipy's vectorised functions (our
wrappers return scipy's p-values to 1e-9, see the unit tests); our own implementations are
called directly. Tukey HSD and Games–Howell use
their decision rule vectorised (see ``_posthoc_fwer``). Seeded: the table is reproducible.

Usage: python benchmarks/calibration.py [--quick]  (prints a Markdown table; several minutes;
``--quick`` divides every run count by 20 to smoke-test the script)
"""

from __future__ import annotations

import math
import sys
import time
from collections.abc import Callable

import numpy as np
from scipy import stats

import crucible.bench as cb

ALPHA = 0.05
_SCALE = 20 if "--quick" in sys.argv else 1
RUNS = 10_000 // _SCALE
SLOW_RUNS = 2_000 // _SCALE  # compare(): scipy's per-call overhead makes it ~25 ms a run
BOOT_RUNS = 4_000 // _SCALE
BOOT_B = 2_000
ROWS: list[tuple[str, str, int, float, float, str]] = []


def record(
    group: str, name: str, runs: int, nominal: float, hits: int, tol: float, note: str = ""
) -> None:
    rate = hits / runs
    se = math.sqrt(nominal * (1 - nominal) / runs)
    ok = abs(rate - nominal) <= tol
    verdict = (
        "ok" if ok else ("conservative" if note == "conservative" and rate < nominal else "OUT")
    )
    ROWS.append(
        (
            group,
            name,
            runs,
            nominal,
            rate,
            f"{verdict} (±{tol * 100:g} pt; MC se {se * 100:.2f} pt){' ' + note if note and verdict != 'conservative' else ''}",
        )
    )
    print(f"{group:10s} {name:55s} {rate:.4f}", file=sys.stderr, flush=True)


def rejections(fn: Callable[[np.random.Generator], float], runs: int, seed: int) -> int:
    rng = np.random.default_rng(seed)
    return sum(fn(rng) <= ALPHA for _ in range(runs))


def _scipy_rows() -> list[tuple[str, np.ndarray, str]]:
    """Null p-values of the tests crucible.bench delegates to scipy, computed vectorised.

    Our wrappers return scipy's p-value to 1e-9 (unit tests), so calling scipy on all 10 000
    datasets at once measures the same rejection rate in a fraction of the time.
    """
    r = np.random.default_rng(1000)
    n = RUNS
    rows: list[tuple[str, np.ndarray, str]] = [
        (
            "ttest one-sample, normal n=15",
            stats.ttest_1samp(r.normal(0, 1, (n, 15)), 0, axis=1).pvalue,
            "",
        ),
        (
            "ttest paired, normal n=15",
            stats.ttest_rel(r.normal(0, 1, (n, 15)), r.normal(0, 1, (n, 15)), axis=1).pvalue,
            "",
        ),
        (
            "ttest Student, normal 20 vs 20",
            stats.ttest_ind(r.normal(0, 1, (n, 20)), r.normal(0, 1, (n, 20)), axis=1).pvalue,
            "",
        ),
        (
            "ttest Welch, normal 10 (sd 1) vs 30 (sd 3)",
            stats.ttest_ind(
                r.normal(0, 1, (n, 10)), r.normal(0, 3, (n, 30)), axis=1, equal_var=False
            ).pvalue,
            "",
        ),
        (
            "mann_whitney, exponential 20 vs 25",
            stats.mannwhitneyu(r.exponential(1, (n, 20)), r.exponential(1, (n, 25)), axis=1).pvalue,
            "",
        ),
        (
            "wilcoxon, symmetric (t3) differences n=20",
            stats.wilcoxon(r.standard_t(3, (n, 20)), axis=1).pvalue,
            "",
        ),
        (
            "kruskal, 3 × 15 lognormal",
            stats.kruskal(*(r.lognormal(0, 1, (n, 15)) for _ in range(3)), axis=1).pvalue,
            "",
        ),
        (
            "friedman, 20 subjects × 4",
            stats.friedmanchisquare(*(r.normal(0, 1, (n, 20)) for _ in range(4)), axis=1).pvalue,
            "",
        ),
        (
            "anova, 3 × 15 normal",
            stats.f_oneway(*(r.normal(0, 1, (n, 15)) for _ in range(3)), axis=1).pvalue,
            "",
        ),
        (
            "ks_2samp, normal 30 vs 40",
            stats.ks_2samp(r.normal(0, 1, (n, 30)), r.normal(0, 1, (n, 40)), axis=1).pvalue,
            "conservative",
        ),
        (
            "pearson, independent normals n=30",
            stats.pearsonr(r.normal(0, 1, (n, 30)), r.normal(0, 1, (n, 30)), axis=1).pvalue,
            "",
        ),
        (
            "kendall, independent n=30",
            np.array(
                [
                    stats.kendalltau(x, y).pvalue
                    for x, y in zip(r.normal(0, 1, (n, 30)), r.exponential(1, (n, 30)), strict=True)
                ]
            ),
            "",
        ),
        ("shapiro, normal n=50", stats.shapiro(r.normal(0, 1, (n, 50)), axis=1).pvalue, ""),
        (
            "levene (Brown-Forsythe), 3 × 20 normal",
            stats.levene(*(r.normal(0, 1, (n, 20)) for _ in range(3)), axis=1).pvalue,
            "conservative",
        ),
    ]
    x, y = r.binomial(100, 0.4, n), r.binomial(100, 0.4, n)
    pooled = (x + y) / 200
    chi2 = (x / 100 - y / 100) ** 2 / (pooled * (1 - pooled) * (2 / 100))
    rows.append(("chi2_contingency (Pearson), p=0.4, 100 vs 100", stats.chi2.sf(chi2, 1), ""))
    x, y = r.binomial(30, 0.4, n), r.binomial(30, 0.4, n)
    fisher = np.array(
        [stats.fisher_exact([[a, 30 - a], [b, 30 - b]]).pvalue for a, b in zip(x, y, strict=True)]
    )
    rows.append(("fisher_exact, p=0.4, 30 vs 30", fisher, "conservative"))
    ranks = (
        stats.rankdata(r.normal(0, 1, (n, 30)), axis=1),
        stats.rankdata(r.exponential(1, (n, 30)), axis=1),
    )
    rows.append(("spearman, independent n=30", stats.pearsonr(*ranks, axis=1).pvalue, ""))
    return rows


def type_one_errors() -> None:
    g = "type I"
    for name, pvalues, note in _scipy_rows():
        record(
            g, name + " [scipy, vectorised]", RUNS, ALPHA, int((pvalues <= ALPHA).sum()), 0.01, note
        )
    tests: list[tuple[str, Callable[[np.random.Generator], float], int, str]] = [
        (
            "welch_anova, 3 groups sd 1/2/4, n 10/20/30",
            lambda r: (
                cb.welch_anova([r.normal(0, s, n) for s, n in ((1, 10), (2, 20), (4, 30))]).p_value
            ),
            RUNS,
            "",
        ),
        (
            "rm_anova GG, 15 subjects × 4",
            lambda r: (
                cb.rm_anova(
                    r.normal(0, 1, (15, 4)) + r.normal(0, 1, (15, 1)), sphericity_correction=True
                ).p_value
            ),
            RUNS,
            "conservative",
        ),
        (
            "proportions_ztest, p=0.3, 150 vs 150",
            lambda r: (
                cb.proportions_ztest(
                    [r.binomial(150, 0.3), r.binomial(150, 0.3)], [150, 150]
                ).p_value
            ),
            RUNS,
            "",
        ),
        (
            "mcnemar exact, 200 pairs, p01=p10=0.1",
            lambda r: cb.mcnemar(_paired_table(r, 200), method="exact").p_value,
            RUNS,
            "conservative",
        ),
        (
            "mcnemar mid-p, 200 pairs, p01=p10=0.1",
            lambda r: cb.mcnemar(_paired_table(r, 200), method="mid-p").p_value,
            RUNS,
            "",
        ),
        (
            "mcnemar asymptotic (uncorrected), 200 pairs",
            lambda r: (
                cb.mcnemar(_paired_table(r, 200), method="asymptotic", correction=False).p_value
            ),
            RUNS,
            "",
        ),
        (
            "cochran_q, 100 subjects × 3",
            lambda r: (
                cb.cochran_q(
                    (r.random((100, 3)) < 0.5 + 0.3 * (r.random((100, 1)) - 0.5)).astype(float)
                ).p_value
            ),
            RUNS,
            "",
        ),
        ("compare_evals, binary, 300 items, rho≈0.4", lambda r: _evals_null(r), RUNS, ""),
        (
            "compare (auto), normal 30 vs 30",
            lambda r: (
                cb.compare(r.normal(0, 1, 30), r.normal(0, 1, 30), n_boot=100, seed=0).p_value
            ),
            SLOW_RUNS,
            "",
        ),
        (
            "compare (auto), lognormal 30 vs 30",
            lambda r: (
                cb.compare(r.lognormal(0, 1, 30), r.lognormal(0, 1, 30), n_boot=100, seed=0).p_value
            ),
            SLOW_RUNS,
            "",
        ),
        (
            "compare (auto), paired binary 150 items",
            lambda r: _paired_binary_compare(r),
            SLOW_RUNS,
            "",
        ),
    ]
    for i, (name, fn, runs, note) in enumerate(tests):
        record(g, name, runs, ALPHA, rejections(fn, runs, 2000 + i), 0.01, note)
    _posthoc_fwer()
    rng = np.random.default_rng(77)
    p = rng.uniform(0, 1, (RUNS, 10))
    for method in ("bonferroni", "holm", "hochberg", "sidak", "holm-sidak"):
        hits = sum(cb.adjust(row, method).reject.any() for row in p)
        record("FWER", f"adjust {method}, 10 null p-values", RUNS, ALPHA, hits, 0.01)
    for method in ("fdr_bh", "fdr_by"):
        hits = sum(cb.adjust(row, method).reject.any() for row in p)
        note = "conservative" if method == "fdr_by" else ""
        record("FWER", f"adjust {method} (all null: FDR = FWER)", RUNS, ALPHA, hits, 0.01, note)


def _posthoc_fwer() -> None:
    """Family-wise error of Tukey HSD and Games–Howell under the global null.

    scipy's studentized-range distribution takes seconds per call, so the runs use the
    decision rule both tests apply, reject a pair iff |t|·√2 >= q_{0.95}(k, df), with the
    quantile computed once (Tukey: one df) or interpolated on a fine grid of df
    (Games–Howell: Welch df per pair; the quantile is smooth in df).
    """
    rng = np.random.default_rng(31)
    k, n = 4, 15
    data = rng.normal(0, 1, (RUNS, k, n))
    means, var = data.mean(axis=2), data.var(axis=2, ddof=1)
    df = k * (n - 1)
    q = float(stats.studentized_range.ppf(0.95, k, df))
    msw = var.mean(axis=1)
    spread = (means.max(axis=1) - means.min(axis=1)) / np.sqrt(msw / n)
    record(
        "FWER",
        "tukey_hsd, 4 × 15 normal [decision rule]",
        RUNS,
        ALPHA,
        int((spread >= q).sum()),
        0.01,
    )
    sds, nn = np.array([1.0, 2.0, 3.0, 4.0]), 20
    data = rng.normal(0, 1, (RUNS, 4, nn)) * sds[None, :, None]
    means, v = data.mean(axis=2), data.var(axis=2, ddof=1) / nn
    grid = np.geomspace(5, 200, 60)
    qgrid = np.array([stats.studentized_range.ppf(0.95, 4, d) for d in grid])
    hits = np.zeros(RUNS, dtype=bool)
    for i in range(4):
        for j in range(i + 1, 4):
            se = np.sqrt(v[:, i] + v[:, j])
            t = np.abs(means[:, i] - means[:, j]) / se
            dfij = (v[:, i] + v[:, j]) ** 2 / (v[:, i] ** 2 / (nn - 1) + v[:, j] ** 2 / (nn - 1))
            hits |= t * math.sqrt(2) >= np.interp(np.log(dfij), np.log(grid), qgrid)
    record(
        "FWER", "games_howell, sd 1/2/3/4, n=20 [decision rule]", RUNS, ALPHA, int(hits.sum()), 0.01
    )


def _table2(r: np.random.Generator, p: float, n: int) -> np.ndarray:
    x, y = r.binomial(n, p), r.binomial(n, p)
    return np.array([[x, n - x], [y, n - y]])


def _paired_table(r: np.random.Generator, n: int) -> np.ndarray:
    counts = r.multinomial(n, [0.45, 0.1, 0.1, 0.35])
    return counts.reshape(2, 2)


def _paired_binary_compare(r: np.random.Generator) -> float:
    t = _paired_table(r, 150).ravel()
    a = np.repeat([0, 0, 1, 1], t)
    b = np.repeat([0, 1, 0, 1], t)
    return cb.compare(a, b, paired=True, n_boot=100, seed=0).p_value


def _correlated_binary(
    r: np.random.Generator, n: int, pa: float, pb: float, rho: float
) -> tuple[np.ndarray, np.ndarray]:
    p11 = rho * math.sqrt(pa * (1 - pa) * pb * (1 - pb)) + pa * pb
    probs = [1 - pa - pb + p11, pb - p11, pa - p11, p11]  # (a, b) = 00, 01, 10, 11
    cells = r.choice(4, size=n, p=probs)
    return (cells >= 2).astype(float), (cells % 2).astype(float)


def _evals_null(r: np.random.Generator) -> float:
    a, b = _correlated_binary(r, 300, 0.7, 0.7, 0.4)
    if np.all(a == b):
        return 1.0
    return cb.compare_evals(a, b).p_value


def coverage() -> None:
    g = "coverage"
    rng = np.random.default_rng(5)
    hits = sum(_covers(cb.mean_ci(rng.normal(3, 2, 20)), 3.0) for _ in range(RUNS))
    record(g, "mean_ci (t), normal n=20", RUNS, 0.95, hits, 0.01)
    for method in ("wilson", "clopper-pearson", "agresti-coull", "jeffreys"):
        rng = np.random.default_rng(6)
        xs = rng.binomial(200, 0.3, RUNS)
        hits = sum(_covers(cb.proportion_ci(int(x), 200, method=method), 0.3) for x in xs)
        note = "conservative" if method == "clopper-pearson" else ""
        record(g, f"proportion_ci {method}, p=0.3, n=200", RUNS, 0.95, hits, 0.01, note)
    for method in ("percentile", "basic", "bca"):
        rng = np.random.default_rng(7)
        hits = sum(
            _covers(
                cb.bootstrap_ci(rng.normal(1, 1, 400), method=method, n_boot=BOOT_B, seed=rng), 1.0
            )
            for _ in range(BOOT_RUNS)
        )
        record(g, f"bootstrap_ci {method}, mean of normal n=400", BOOT_RUNS, 0.95, hits, 0.01)
    rng = np.random.default_rng(8)
    hits = sum(
        _covers(
            cb.bootstrap_ci(
                rng.normal(1, 1, 160), rng.normal(0.5, 2, 120), n_boot=BOOT_B, seed=rng
            ),
            0.5,
        )
        for _ in range(BOOT_RUNS)
    )
    record(g, "bootstrap_ci bca, difference of means 160 vs 120", BOOT_RUNS, 0.95, hits, 0.01)
    rng = np.random.default_rng(9)
    hits = sum(_covers(_cluster_ci(rng), 0.0) for _ in range(BOOT_RUNS))
    record(g, "bootstrap_ci bca clustered, 120 clusters × 5", BOOT_RUNS, 0.95, hits, 0.01)
    rng = np.random.default_rng(10)
    hits = 0
    for _ in range(RUNS):
        a, b = rng.normal(0.5, 1, 25), rng.normal(0, 1, 25)
        hits += _covers(cb.hedges_g(a, b), 0.5)
    record(g, "hedges_g CI (normal approx.), 25 vs 25, g=0.5", RUNS, 0.95, hits, 0.01)
    # compare_evals with clustered items: clustered SE vs naive SE
    rng = np.random.default_rng(11)
    clustered = naive = 0
    labels = np.repeat(np.arange(50), 8)
    for _ in range(RUNS):
        a, b = _clustered_eval(rng, labels)
        r = cb.compare_evals(a, b, clusters=labels)
        clustered += r.ci_low <= 0.05 <= r.ci_high
        crit = stats.t.ppf(0.975, a.size - 1)
        naive += abs(r.estimate - 0.05) <= crit * r.se_naive
    record("evals", "compare_evals clustered SE, 50 clusters × 8", RUNS, 0.95, clustered, 0.01)
    record(
        "evals",
        "naive SE on the same clustered data",
        RUNS,
        0.95,
        naive,
        0.01,
        "expected to under-cover",
    )


def _covers(ci: cb.Interval | cb.EffectSize, truth: float) -> bool:
    return bool(ci.ci_low <= truth <= ci.ci_high)


def _cluster_ci(rng: np.random.Generator) -> cb.Interval:
    labels = np.repeat(np.arange(120), 5)
    x = np.repeat(rng.normal(0, 1, 120), 5) + rng.normal(0, 1, 600)
    return cb.bootstrap_ci(x, clusters=labels, n_boot=BOOT_B, seed=rng)


def _clustered_eval(rng: np.random.Generator, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    g = labels.max() + 1
    shared = np.repeat(rng.normal(0, 1, g), 8)
    diff = np.repeat(rng.normal(0, 0.3, g), 8)
    a = 0.05 + shared + diff + rng.normal(0, 0.3, labels.size)
    b = shared + rng.normal(0, 0.3, labels.size)
    return a, b


def power_checks() -> None:
    g = "power"
    n = int(cb.sample_size("two-sample-t", effect=0.5, power=0.8).n)
    rng = np.random.default_rng(12)
    hits = sum(
        cb.ttest(rng.normal(0.5, 1, n), rng.normal(0, 1, n), equal_var=True).p_value <= ALPHA
        for _ in range(RUNS)
    )
    record(g, f"sample_size two-sample-t d=0.5 → n={n}/group, power 0.80", RUNS, 0.8, hits, 0.02)
    n = int(cb.sample_size("paired-t", effect=0.3, power=0.9).n)
    rng = np.random.default_rng(13)
    hits = int((stats.ttest_1samp(rng.normal(0.3, 1, (RUNS, n)), 0, axis=1).pvalue <= ALPHA).sum())
    record(g, f"sample_size paired-t d_z=0.3 → n={n}, power 0.90", RUNS, 0.9, hits, 0.02)
    h = 2 * math.asin(math.sqrt(0.65)) - 2 * math.asin(math.sqrt(0.5))
    n = int(cb.sample_size("two-proportions", effect=h, power=0.8).n)
    rng = np.random.default_rng(14)
    hits = sum(
        cb.proportions_ztest([rng.binomial(n, 0.65), rng.binomial(n, 0.5)], [n, n]).p_value <= ALPHA
        for _ in range(RUNS)
    )
    record(
        g,
        f"sample_size two-proportions 0.65 vs 0.50 → n={n}/group, power 0.80",
        RUNS,
        0.8,
        hits,
        0.02,
    )
    n = int(cb.sample_size("mcnemar", effect=0.08, discordant=0.2, power=0.8).n)
    rng = np.random.default_rng(15)
    hits = 0
    for _ in range(RUNS):
        t = rng.multinomial(n, [0.45, 0.06, 0.14, 0.35]).reshape(2, 2)
        hits += cb.mcnemar(t, method="asymptotic", correction=False).p_value <= ALPHA
    record(g, f"sample_size mcnemar δ=0.08 ψ=0.2 → n={n}, power 0.80", RUNS, 0.8, hits, 0.02)
    n = int(cb.sample_size("anova", effect=0.25, k=4, power=0.8).n)
    rng = np.random.default_rng(16)
    means = np.array([-1.5, -0.5, 0.5, 1.5]) * 0.25 / math.sqrt(1.25)  # Cohen's f = 0.25
    hits = int(
        (
            stats.f_oneway(*(rng.normal(m, 1, (RUNS, n)) for m in means), axis=1).pvalue <= ALPHA
        ).sum()
    )
    record(g, f"sample_size anova f=0.25 k=4 → n={n}/group, power 0.80", RUNS, 0.8, hits, 0.02)
    e = cb.eval_sample_size(p_a=0.80, p_b=0.75, correlation=0.5)
    rng = np.random.default_rng(17)
    hits = 0
    for _ in range(RUNS):
        a, b = _correlated_binary(rng, e.n_items, 0.80, 0.75, 0.5)
        hits += cb.compare_evals(a, b).p_value <= ALPHA
    record(
        g, f"eval_sample_size 0.80 vs 0.75 ρ=0.5 → n={e.n_items}, power 0.80", RUNS, 0.8, hits, 0.02
    )


def sequential_checks() -> None:
    g = "sequential"
    rng = np.random.default_rng(18)
    hits = 0
    for _ in range(RUNS):
        x = (rng.random(1000) < 0.3).astype(float)
        cs = cb.confidence_sequence(x, bounds=(0, 1))
        hits += bool(((cs.lower > 0.3) | (cs.upper < 0.3)).any())
    record(
        g,
        "confidence_sequence EB, Bernoulli(0.3), ever misses over 1000",
        RUNS,
        ALPHA,
        hits,
        0.01,
        "conservative",
    )
    rng = np.random.default_rng(19)
    hits = 0
    for _ in range(RUNS):
        x = rng.normal(0, 1, 1000)
        cs = cb.confidence_sequence(x, sigma=1.0)
        hits += bool(((cs.lower > 0) | (cs.upper < 0)).any())
    record(
        g,
        "confidence_sequence normal mixture, N(0,1), ever misses / 1000",
        RUNS,
        ALPHA,
        hits,
        0.01,
        "conservative",
    )
    rng = np.random.default_rng(20)
    hits = sum(cb.msprt(rng.random(2000) < 0.5, rng.random(2000) < 0.5).reject for _ in range(RUNS))
    record(
        g,
        "msprt two proportions, p=0.5, monitored every pair to 2000",
        RUNS,
        ALPHA,
        hits,
        0.01,
        "conservative",
    )
    rng = np.random.default_rng(21)
    hits = sum(cb.msprt(rng.random(2000) < 0.3, p0=0.3).reject for _ in range(RUNS))
    record(
        g,
        "msprt one proportion, p0=0.3, monitored to 2000",
        RUNS,
        ALPHA,
        hits,
        0.01,
        "conservative",
    )
    # naive repeated testing for contrast: a z-test at every 100 observations
    rng = np.random.default_rng(22)
    hits = 0
    for _ in range(RUNS):
        x = rng.normal(0, 1, 2000)
        z = np.cumsum(x)[99::100] / np.sqrt(np.arange(100, 2001, 100))
        hits += bool((np.abs(z) > 1.96).any())
    record(
        g,
        "naive z-test peeked 20 times (for contrast)",
        RUNS,
        ALPHA,
        hits,
        0.01,
        "expected to inflate",
    )
    for spending in ("obrien-fleming", "pocock"):
        design = cb.group_sequential(5, spending=spending)
        bounds = np.array(design.z_boundaries)
        rng = np.random.default_rng(23)
        increments = rng.normal(0, math.sqrt(0.2), (RUNS, 5))
        z = np.cumsum(increments, axis=1) / np.sqrt(np.arange(1, 6) * 0.2)
        hits = int((np.abs(z) >= bounds).any(axis=1).sum())
        record(g, f"group_sequential {spending}, 5 looks", RUNS, ALPHA, hits, 0.01)


def main() -> None:
    start = time.perf_counter()
    type_one_errors()
    coverage()
    power_checks()
    sequential_checks()
    print("| check | setting | runs | nominal | observed | verdict |")
    print("|---|---|---:|---:|---:|---|")
    for group, name, runs, nominal, rate, verdict in ROWS:
        print(f"| {group} | {name} | {runs} | {nominal:.3f} | {rate:.4f} | {verdict} |")
    print(f"\n_{time.perf_counter() - start:.0f} s on this machine_")


if __name__ == "__main__":
    main()
