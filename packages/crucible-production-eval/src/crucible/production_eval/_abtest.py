"""A/B/n analysis: sample-ratio check, omnibus and pairwise tests, uplift, CUPED, guardrails."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import attrs
import numpy as np
import polars as pl
from scipy import stats

from crucible.bench import (
    adjust,
    chi2_contingency,
    cohen_h,
    hedges_g,
    proportions_ztest,
    ttest,
    welch_anova,
)
from crucible.production_eval._errors import ProductionEvalError

__all__ = ["ABResult", "analyze_experiment", "relative_uplift"]


@attrs.frozen
class ABResult:
    """The analysis of an A/B/n test.

    Attributes:
        srm_p_value: chi-square goodness-of-fit p-value of the traffic split (sample-ratio
            mismatch); below ``srm_alpha`` the assignment is suspect and no winner is named.
        omnibus: one row per metric (test, statistic, p-value) when there are > 2 variants.
        pairwise: one row per (metric, variant vs control): difference with CI, effect size
            with CI, relative uplift with delta-method CI, p-value, adjusted p-value.
        guardrails: one row per (guardrail, variant): degradation test and pass/fail.
        bayesian: labelled Bayesian summary (probability to beat control, expected loss),
            empty unless requested.
        winner: the winning variant, or ``None``; ``reason`` says why.
    """

    control: str
    counts: dict[str, int]
    srm_p_value: float
    srm: bool
    omnibus: pl.DataFrame
    pairwise: pl.DataFrame
    guardrails: pl.DataFrame
    bayesian: pl.DataFrame
    winner: str | None
    reason: str
    cuped: bool

    def to_dict(self) -> dict[str, Any]:
        return {
            "control": self.control,
            "counts": self.counts,
            "srm_p_value": self.srm_p_value,
            "srm": self.srm,
            "omnibus": self.omnibus.to_dicts(),
            "pairwise": self.pairwise.to_dicts(),
            "guardrails": self.guardrails.to_dicts(),
            "bayesian": self.bayesian.to_dicts(),
            "winner": self.winner,
            "reason": self.reason,
            "cuped": self.cuped,
        }

    def __str__(self) -> str:
        lines = [f"A/B/n test, control {self.control!r}, traffic {self.counts}"]
        lines.append(f"  SRM p = {self.srm_p_value:.3g}{' (MISMATCH)' if self.srm else ''}")
        for r in self.pairwise.iter_rows(named=True):
            lines.append(
                f"  {r['metric']} {r['variant']} vs control: {r['difference']:+.4g} "
                f"[{r['ci_low']:.4g}, {r['ci_high']:.4g}], uplift {r['uplift']:+.2%} "
                f"[{r['uplift_ci_low']:+.2%}, {r['uplift_ci_high']:+.2%}], p_adj = {r['p_adjusted']:.3g}"
            )
        lines.append(f"  winner: {self.winner} — {self.reason}")
        return "\n".join(lines)


def relative_uplift(
    t: np.ndarray, c: np.ndarray, confidence: float = 0.95
) -> tuple[float, float, float]:
    """mean(t)/mean(c) - 1 with a delta-method CI (independent samples).

    Var(r) ≈ s_t²/(n_t·m_c²) + m_t²·s_c²/(n_c·m_c⁴) (first-order Taylor expansion of the ratio).
    """
    mt, mc = float(t.mean()), float(c.mean())
    if mc == 0:
        return math.nan, math.nan, math.nan
    var = t.var(ddof=1) / (t.size * mc**2) + mt**2 * c.var(ddof=1) / (c.size * mc**4)
    z = stats.norm.ppf(0.5 + confidence / 2)
    r = mt / mc - 1
    half = z * math.sqrt(max(var, 0.0))
    return r, r - half, r + half


def _binary(x: np.ndarray) -> bool:
    return bool(np.isin(x, (0.0, 1.0)).all())


def _cuped(frame: pl.DataFrame, metric: str, covariate: str) -> pl.DataFrame:
    x = frame[covariate].cast(pl.Float64).to_numpy()
    y = frame[metric].cast(pl.Float64).to_numpy()
    var = float(np.var(x, ddof=1))
    theta = float(np.cov(y, x, ddof=1)[0, 1] / var) if var > 0 else 0.0
    return frame.with_columns(pl.Series(metric, y - theta * (x - x.mean())))


def _compare(
    metric: str,
    variant: str,
    t: np.ndarray,
    c: np.ndarray,
    binary: bool,
    alpha: float,
    alternative: str = "two-sided",
) -> dict[str, Any]:
    if binary:
        kt, kc = int(t.sum()), int(c.sum())
        res = proportions_ztest(
            [kt, kc], [t.size, c.size], alternative=alternative, confidence=1 - alpha
        )
        es = cohen_h(kt, t.size, kc, c.size, confidence=1 - alpha)
    else:
        res = ttest(t, c, alternative=alternative, confidence=1 - alpha)
        es = hedges_g(t, c, confidence=1 - alpha)
    up, up_lo, up_hi = relative_uplift(t, c, 1 - alpha)
    return {
        "metric": metric,
        "variant": variant,
        "n": int(t.size),
        "mean": float(t.mean()),
        "control_mean": float(c.mean()),
        "difference": float(t.mean() - c.mean()),
        "ci_low": float(res.ci_low),
        "ci_high": float(res.ci_high),
        "test": res.test,
        "p_value": float(res.p_value),
        "effect_size": es.name,
        "effect": float(es.value),
        "effect_ci_low": float(es.ci_low),
        "effect_ci_high": float(es.ci_high),
        "uplift": up,
        "uplift_ci_low": up_lo,
        "uplift_ci_high": up_hi,
    }


def _bayes(
    metric: str, variant: str, t: np.ndarray, c: np.ndarray, binary: bool, seed: int
) -> dict[str, Any]:
    rng = np.random.default_rng(seed)
    draws = 20_000
    if binary:
        pt = rng.beta(1 + t.sum(), 1 + t.size - t.sum(), draws)
        pc = rng.beta(1 + c.sum(), 1 + c.size - c.sum(), draws)
        model = "Beta(1, 1) prior, binomial likelihood"
    else:
        pt = rng.normal(t.mean(), t.std(ddof=1) / math.sqrt(t.size), draws)
        pc = rng.normal(c.mean(), c.std(ddof=1) / math.sqrt(c.size), draws)
        model = "flat prior, normal approximation"
    diff = pt - pc
    return {
        "metric": metric,
        "variant": variant,
        "prob_beat_control": float((diff > 0).mean()),
        "expected_loss": float(np.maximum(-diff, 0).mean()),
        "model": f"Bayesian ({model})",
    }


def analyze_experiment(
    df: pl.DataFrame,
    variant_col: str,
    metric_cols: Sequence[str],
    *,
    control: str | None = None,
    expected_split: Mapping[str, float] | None = None,
    alpha: float = 0.05,
    correction: str = "holm",
    covariate: str | None = None,
    min_uplift: float = 0.0,
    guardrails: Mapping[str, str] | None = None,
    srm_alpha: float = 0.001,
    bayesian: bool = False,
    seed: int = 0,
) -> ABResult:
    """Analyse an A/B/n test: one row per unit, a variant column and metric columns.

    The first metric is primary: the winner is the variant whose primary difference with
    control is significant after ``correction`` (over every metric x variant comparison),
    practically significant (relative uplift >= ``min_uplift``), passes every guardrail
    and the SRM check; the best such variant, else ``None`` with the reason.

    Args:
        covariate: a pre-period column; metrics are CUPED-adjusted with θ = cov(y, x)/var(x)
            pooled over all units (Deng et al. 2013), which keeps the means' differences
            unbiased and shrinks their variance.
        guardrails: ``{column: "higher_is_worse" | "lower_is_worse"}``; a guardrail fails for a
            variant when a one-sided test at ``alpha`` shows it worse than control.
        expected_split: expected traffic shares (default: equal).

    Raises:
        ProductionEvalError: a missing column, fewer than two variants, a variant with zero
            traffic, an unknown control.
    """
    for col in [
        variant_col,
        *metric_cols,
        *(guardrails or {}),
        *([covariate] if covariate else []),
    ]:
        if col not in df.columns:
            raise ProductionEvalError(
                f"column {col!r} is not in `df` (it has {', '.join(df.columns)})"
            )
    if not metric_cols:
        raise ProductionEvalError("`metric_cols` is empty: name at least the primary metric")
    counts = {str(k): int(v) for k, v in df[variant_col].cast(pl.String).value_counts().iter_rows()}
    if expected_split is not None:
        for name in expected_split:
            if counts.get(str(name), 0) == 0:
                raise ProductionEvalError(
                    f"variant {name!r} has zero traffic in `df`: check the assignment, or drop it "
                    "from `expected_split`"
                )
    names = sorted(counts) if expected_split is None else [str(n) for n in expected_split]
    if len(names) < 2:
        raise ProductionEvalError(f"`df` has {len(names)} variant(s) in {variant_col!r}; need >= 2")
    control = names[0] if control is None else str(control)
    if control not in counts:
        raise ProductionEvalError(f"`control` {control!r} is not a variant (have {names})")
    shares = np.array([expected_split[n] for n in names] if expected_split else [1.0] * len(names))
    observed = np.array([counts[n] for n in names], dtype=float)
    srm_p = float(stats.chisquare(observed, observed.sum() * shares / shares.sum()).pvalue)
    frame = df.with_columns(pl.col(variant_col).cast(pl.String))
    if covariate is not None:
        for m in metric_cols:
            frame = _cuped(frame, m, covariate)
    groups = {n: frame.filter(pl.col(variant_col) == n) for n in names}
    omnibus, rows, bayes = [], [], []
    for m in metric_cols:
        arrays = {n: g[m].cast(pl.Float64).drop_nulls().to_numpy() for n, g in groups.items()}
        binary = covariate is None and all(_binary(a) for a in arrays.values())
        if len(names) > 2:
            if binary:
                table = np.array([[a.sum(), a.size - a.sum()] for a in arrays.values()])
                res = chi2_contingency(table)
            else:
                res = welch_anova(list(arrays.values()))
            omnibus.append(
                {
                    "metric": m,
                    "test": res.test,
                    "statistic": float(res.statistic),
                    "p_value": float(res.p_value),
                }
            )
        for n in names:
            if n == control:
                continue
            rows.append(_compare(m, n, arrays[n], arrays[control], binary, alpha))
            if bayesian:
                bayes.append(_bayes(m, n, arrays[n], arrays[control], binary, seed))
    adjusted = adjust([r["p_value"] for r in rows], method=correction, alpha=alpha).adjusted
    for r, a in zip(rows, adjusted, strict=True):
        r["p_adjusted"] = float(a)
    guard_rows = []
    for col, direction in (guardrails or {}).items():
        if direction not in ("higher_is_worse", "lower_is_worse"):
            raise ProductionEvalError(
                f"`guardrails[{col!r}]` must be 'higher_is_worse' or 'lower_is_worse', got {direction!r}"
            )
        alt = "greater" if direction == "higher_is_worse" else "less"
        arrays = {n: g[col].cast(pl.Float64).drop_nulls().to_numpy() for n, g in groups.items()}
        binary = all(_binary(a) for a in arrays.values())
        for n in names:
            if n == control:
                continue
            r = _compare(col, n, arrays[n], arrays[control], binary, alpha, alternative=alt)
            guard_rows.append(
                {
                    "guardrail": col,
                    "variant": n,
                    "difference": r["difference"],
                    "p_value": r["p_value"],
                    "passed": r["p_value"] >= alpha,
                }
            )
    winner, reason = _winner(rows, guard_rows, metric_cols[0], alpha, min_uplift, srm_p < srm_alpha)
    return ABResult(
        control,
        counts,
        srm_p,
        srm_p < srm_alpha,
        pl.DataFrame(omnibus),
        pl.DataFrame(rows),
        pl.DataFrame(guard_rows),
        pl.DataFrame(bayes),
        winner,
        reason,
        covariate is not None,
    )


def _winner(
    rows: list[dict[str, Any]],
    guards: list[dict[str, Any]],
    primary: str,
    alpha: float,
    min_uplift: float,
    srm: bool,
) -> tuple[str | None, str]:
    if srm:
        return None, "sample-ratio mismatch: the traffic split is not the one designed"
    cands = [r for r in rows if r["metric"] == primary and r["difference"] > 0]
    sig = [r for r in cands if r["p_adjusted"] < alpha]
    if not sig:
        return None, f"no variant improves {primary} significantly after correction"
    practical = [r for r in sig if r["uplift"] >= min_uplift]
    if not practical:
        return None, f"significant but below the practical threshold (uplift < {min_uplift:.2%})"
    failed = {g["variant"] for g in guards if not g["passed"]}
    ok = [r for r in practical if r["variant"] not in failed]
    if not ok:
        return None, f"every significant variant fails a guardrail ({', '.join(sorted(failed))})"
    best = max(ok, key=lambda r: r["difference"])
    return best["variant"], (
        f"{best['variant']} improves {primary} by {best['difference']:+.4g} "
        f"(uplift {best['uplift']:+.2%}, adjusted p = {best['p_adjusted']:.3g}) and passes guardrails"
    )
