"""``analyze(run)``: descriptives, paired comparisons, power, hypotheses and cost-benefit."""

from __future__ import annotations

import itertools
import math
import os
from collections.abc import Mapping, Sequence
from typing import Any

import attrs
import numpy as np
import polars as pl

from crucible.harness._errors import HarnessError
from crucible.harness._hypothesis import Hypothesis, HypothesisResult
from crucible.harness._insights import (
    consensus_table,
    cost_benefit,
    disagreements,
    errors_by_condition,
    failures_by_cluster,
    item_scores,
    with_votes,
)
from crucible.harness._metrics import (
    Metric,
    MetricKind,
    metric_values,
    metrics_of,
    with_metric_columns,
)
from crucible.harness._pairwise import ConditionComparison, Omnibus, compare_pair, omnibus
from crucible.harness._result import RunResult
from crucible.harness._rundir import StoredRun, load_run

__all__ = ["Analysis", "Descriptive", "analyze"]

CLUSTER_FIELDS = ("cluster", "subject")


@attrs.frozen
class Descriptive:
    """One metric under one condition: location, spread and a CI of the mean.

    ``ci_method`` is ``wilson`` for binary metrics (Wilson 1927, over trials) and ``t`` for
    continuous ones (Student-t interval of the mean).
    """

    metric: str
    condition: str
    n: int
    mean: float
    sd: float
    ci_low: float
    ci_high: float
    ci_method: str
    median: float
    p95: float
    p99: float
    min: float
    max: float
    total: float

    def to_dict(self) -> dict[str, Any]:
        return attrs.asdict(self)


def _frame_dict(frame: pl.DataFrame) -> list[dict[str, Any]]:
    return [{k: _plain(v) for k, v in row.items()} for row in frame.iter_rows(named=True)]


def _plain(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, np.generic):
        return _plain(value.item())
    return value


@attrs.frozen(eq=False)
class Analysis:
    """Everything :func:`analyze` computed about one run.

    Attributes:
        experiment_id: the run's experiment id; ``conditions``: in configuration order.
        metrics: the analysed metrics (``accuracy`` is the first binary scorer).
        descriptives: per metric and condition.
        omnibus: per metric, with three or more conditions.
        comparisons: per metric and pair of conditions (``a`` before ``b`` in configuration
            order), adjusted with ``correction`` within each metric.
        hypotheses: the verdict of each declared hypothesis.
        disagreements: items whose score differs between conditions.
        errors: errored trials per condition and error type.
        failures_by_cluster: failure rate per condition and cluster (when items are clustered).
        consensus: ensemble agreement levels and their accuracy (empty without votes).
        cost_benefit: per condition, with the Pareto front.
        per_item: item x condition mean primary score.
        manifest: the run's manifest.
    """

    experiment: str
    experiment_id: str
    run_dir: str
    conditions: tuple[str, ...]
    metrics: tuple[Metric, ...]
    alpha: float
    confidence: float
    correction: str
    cluster_field: str | None
    n_items: int
    repeats: int
    n_trials: int
    n_errors: int
    total_cost_usd: float
    descriptives: tuple[Descriptive, ...]
    omnibus: tuple[Omnibus, ...]
    comparisons: tuple[ConditionComparison, ...]
    hypotheses: tuple[HypothesisResult, ...]
    disagreements: pl.DataFrame
    errors: pl.DataFrame
    failures_by_cluster: pl.DataFrame
    consensus: pl.DataFrame
    cost_benefit: pl.DataFrame
    per_item: pl.DataFrame
    manifest: dict[str, Any]

    @property
    def primary(self) -> Metric | None:
        """``accuracy`` (the first binary scorer), else the first score metric."""
        scores = [m for m in self.metrics if m.errors_count_as_zero]
        return next((m for m in scores if m.name == "accuracy"), scores[0] if scores else None)

    def metric(self, name: str) -> Metric:
        """A metric by name (a scorer's own name finds ``accuracy`` too)."""
        for m in self.metrics:
            if m.name == name or m.column == f"score_{name}" or m.column == name:
                return m
        raise HarnessError(
            f"no metric {name!r} in this run; metrics are {', '.join(m.name for m in self.metrics)}"
        )

    def descriptive(self, metric: str, condition: str) -> Descriptive:
        name = self.metric(metric).name
        for d in self.descriptives:
            if d.metric == name and d.condition == condition:
                return d
        raise HarnessError(f"no condition {condition!r}; conditions are {list(self.conditions)}")

    def comparison(self, metric: str, a: str, b: str) -> ConditionComparison:
        """The comparison of ``a`` with ``b`` (estimate ``a - b``), whatever its stored order."""
        name = self.metric(metric).name
        for c in self.comparisons:
            if c.metric == name and (c.a, c.b) == (a, b):
                return c
            if c.metric == name and (c.a, c.b) == (b, a):
                return flip(c)
        raise HarnessError(
            f"no comparison of {a!r} with {b!r}; conditions are {list(self.conditions)}"
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-compatible analysis (NaN becomes null)."""
        return {
            "experiment": self.experiment,
            "experiment_id": self.experiment_id,
            "run_dir": self.run_dir,
            "conditions": list(self.conditions),
            "metrics": [{**attrs.asdict(m), "kind": m.kind.value} for m in self.metrics],
            "alpha": self.alpha,
            "confidence": self.confidence,
            "correction": self.correction,
            "cluster_field": self.cluster_field,
            "n_items": self.n_items,
            "repeats": self.repeats,
            "n_trials": self.n_trials,
            "n_errors": self.n_errors,
            "total_cost_usd": self.total_cost_usd,
            "descriptives": [_clean(d.to_dict()) for d in self.descriptives],
            "omnibus": [_clean(o.to_dict()) for o in self.omnibus],
            "comparisons": [_clean(c.to_dict()) for c in self.comparisons],
            "hypotheses": [_clean(h.to_dict()) for h in self.hypotheses],
            "disagreements": _frame_dict(self.disagreements),
            "errors": _frame_dict(self.errors),
            "failures_by_cluster": _frame_dict(self.failures_by_cluster),
            "consensus": _frame_dict(self.consensus),
            "cost_benefit": _frame_dict(self.cost_benefit),
            "manifest": self.manifest,
        }

    def __str__(self) -> str:
        lines = [
            f"Analysis of {self.experiment_id}: {len(self.conditions)} conditions, "
            f"{self.n_items} items x {self.repeats} repeats"
        ]
        lines += [f"  {c}" for c in self.comparisons]
        lines += [f"  {h}" for h in self.hypotheses]
        return "\n".join(lines)


def _clean(data: dict[str, Any]) -> dict[str, Any]:
    return {k: _plain(v) for k, v in data.items()}


def flip(c: ConditionComparison) -> ConditionComparison:
    """The same comparison read as ``b - a``."""
    return attrs.evolve(
        c,
        a=c.b,
        b=c.a,
        mean_a=c.mean_b,
        mean_b=c.mean_a,
        estimate=-c.estimate,
        ci_low=-c.ci_high,
        ci_high=-c.ci_low,
        statistic=-c.statistic,
        effect=-c.effect,
        effect_ci_low=-c.effect_ci_high,
        effect_ci_high=-c.effect_ci_low,
    )


def _descriptive(trials: pl.DataFrame, metric: Metric, condition: str, conf: float) -> Descriptive:
    from crucible.bench import mean_ci, proportion_ci

    values = (
        trials.filter(pl.col("condition") == condition)
        .select(metric_values(trials, metric).alias("v"))["v"]
        .drop_nulls()
        .to_numpy()
        .astype(float)
    )
    n = len(values)
    if n == 0:
        nan = math.nan
        return Descriptive(
            metric.name, condition, 0, nan, nan, nan, nan, "none", nan, nan, nan, nan, nan, 0.0
        )
    if metric.kind is MetricKind.BINARY:
        ci = proportion_ci(int(values.sum()), n, confidence=conf)
        method = "wilson"
    else:
        ci = mean_ci(values, confidence=conf)
        method = "t"
    return Descriptive(
        metric=metric.name,
        condition=condition,
        n=n,
        mean=float(values.mean()),
        sd=float(values.std(ddof=1)) if n > 1 else math.nan,
        ci_low=ci.ci_low,
        ci_high=ci.ci_high,
        ci_method=method,
        median=float(np.median(values)),
        p95=float(np.quantile(values, 0.95)),
        p99=float(np.quantile(values, 0.99)),
        min=float(values.min()),
        max=float(values.max()),
        total=float(values.sum()),
    )


def _cluster_field(items: Mapping[str, Mapping[str, Any]], cluster: str | None) -> str | None:
    if cluster != "auto":
        if cluster is not None and not all(cluster in f for f in items.values()):
            raise HarnessError(f"`cluster` field {cluster!r} is not in every item's metadata")
        return cluster
    for name in CLUSTER_FIELDS:
        if items and all(name in f for f in items.values()):
            labels = {str(f[name]) for f in items.values()}
            if 2 <= len(labels) < len(items):
                return name
    return None


def _as_stored(run: StoredRun | RunResult | str | os.PathLike[str]) -> StoredRun:
    if isinstance(run, StoredRun):
        return run
    if isinstance(run, RunResult):
        return load_run(run.run_dir)
    return load_run(run)


def _scorers(stored: StoredRun) -> list[str]:
    return [c.removeprefix("score_") for c in stored.trials.columns if c.startswith("score_")]


def _hypotheses(
    declared: Sequence[Hypothesis | str], manifest: Mapping[str, Any]
) -> list[Hypothesis]:
    found = [h if isinstance(h, Hypothesis) else Hypothesis.parse(h) for h in declared]
    meta = manifest.get("config", {}).get("metadata", {}) if isinstance(manifest, Mapping) else {}
    listed = meta.get("hypotheses") if isinstance(meta, Mapping) else None
    if not declared and isinstance(listed, list):
        found = [Hypothesis.parse(str(h)) for h in listed]
    return found


def judge(hypothesis: Hypothesis, comparison: ConditionComparison) -> HypothesisResult:
    """The verdict of ``hypothesis`` given the comparison of its two conditions."""
    return HypothesisResult(
        hypothesis=str(hypothesis),
        metric=comparison.metric,
        a=hypothesis.a,
        b=hypothesis.b,
        threshold=hypothesis.margin,
        estimate=comparison.estimate,
        ci_low=comparison.ci_low,
        ci_high=comparison.ci_high,
        confidence=comparison.confidence,
        p_value=comparison.p_value,
        test=comparison.test,
        verdict=hypothesis.judge(comparison.ci_low, comparison.ci_high),
    )


def analyze(
    run: StoredRun | RunResult | str | os.PathLike[str],
    *,
    hypotheses: Sequence[Hypothesis | str] = (),
    correction: str = "holm",
    alpha: float = 0.05,
    confidence: float = 0.95,
    cluster: str | None = "auto",
) -> Analysis:
    """Analyse a run: every metric, every pair of conditions, paired whenever possible.

    Args:
        run: a run directory, a :class:`StoredRun` or a :class:`RunResult`.
        hypotheses: :class:`Hypothesis` objects or strings (``"a > b + 0.02 on accuracy"``);
            by default those listed in the experiment's ``metadata["hypotheses"]``.
        correction: multiple-comparison correction across the pairs of one metric
            (``holm`` default, Holm 1979; ``bonferroni``; any :class:`crucible.bench.Correction`).
        alpha: significance level for tests and power.
        confidence: level of every confidence interval.
        cluster: item metadata field whose values cluster items (cluster-robust errors);
            ``"auto"`` uses ``cluster`` or ``subject`` when present, ``None`` none.

    Returns:
        Analysis

    Raises:
        HarnessError: the run has no trials, or a hypothesis names an unknown condition.
        RunDirectoryError: ``run`` is not a run directory.

    Example:
        >>> import tempfile
        >>> from crucible.harness import demo_experiment, run_sync
        >>> where = tempfile.mkdtemp()
        >>> _ = run_sync(demo_experiment(items=20, repeats=1), where, progress=False)
        >>> analyze(where).comparison("accuracy", "ensemble_3model", "single_model").design
        'paired'
    """
    from crucible.bench import adjust

    stored = _as_stored(run)
    if stored.trials.is_empty():
        raise HarnessError(f"run {str(stored.run_dir)!r} has no trials to analyse")
    trials = with_metric_columns(stored.trials)
    manifest = stored.manifest
    configured = [c["name"] for c in manifest.get("config", {}).get("conditions", [])]
    seen = list(dict.fromkeys(trials["condition"].to_list()))
    conditions = [c for c in configured if c in seen] + [c for c in seen if c not in configured]
    items_meta: dict[str, dict[str, Any]] = dict(manifest.get("items") or {})
    cluster_field = _cluster_field(items_meta, cluster)
    clusters = {i: str(f[cluster_field]) for i, f in items_meta.items()} if cluster_field else None
    metrics = metrics_of(trials, _scorers(stored))
    items = sorted(set(trials["item_id"].to_list()))

    descriptives = [_descriptive(trials, m, c, confidence) for m in metrics for c in conditions]
    comparisons: list[ConditionComparison] = []
    omni: list[Omnibus] = []
    for m in metrics:
        pairs = [
            compare_pair(
                trials,
                trials,
                m,
                a,
                b,
                clusters=clusters,
                cluster_field=cluster_field,
                confidence=confidence,
                alpha=alpha,
            )
            for a, b in itertools.combinations(conditions, 2)
        ]
        if len(conditions) >= 3:
            omni.append(omnibus(trials, m, conditions, items))
        ps = [p.p_value for p in pairs]
        finite = [i for i, p in enumerate(ps) if math.isfinite(p)]
        adjusted = list(ps)
        if len(finite) > 1:
            adj = adjust([ps[i] for i in finite], correction, alpha=alpha)
            for i, v in zip(finite, adj.adjusted, strict=True):
                adjusted[i] = float(v)
        comparisons += [attrs.evolve(p, p_adjusted=q) for p, q in zip(pairs, adjusted, strict=True)]

    analysis = Analysis(
        experiment=str(manifest.get("config", {}).get("name", "")),
        experiment_id=str(manifest.get("experiment_id", "")),
        run_dir=str(stored.run_dir),
        conditions=tuple(conditions),
        metrics=tuple(metrics),
        alpha=alpha,
        confidence=confidence,
        correction=str(correction),
        cluster_field=cluster_field,
        n_items=len(items),
        repeats=trials["repeat"].n_unique(),
        n_trials=trials.height,
        n_errors=int(trials["error_type"].is_not_null().sum()),
        total_cost_usd=float(trials["cost_usd"].sum() or 0.0),
        descriptives=tuple(descriptives),
        omnibus=tuple(omni),
        comparisons=tuple(comparisons),
        hypotheses=(),
        disagreements=pl.DataFrame(),
        errors=errors_by_condition(trials),
        failures_by_cluster=pl.DataFrame(),
        consensus=pl.DataFrame(),
        cost_benefit=pl.DataFrame(),
        per_item=pl.DataFrame(),
        manifest=manifest,
    )
    primary = analysis.primary
    verdicts = []
    for h in _hypotheses(hypotheses, manifest):
        for name in (h.a, h.b):
            if name not in conditions:
                raise HarnessError(
                    f"hypothesis {str(h)!r} names condition {name!r}; conditions are {conditions}"
                )
        verdicts.append(judge(h, analysis.comparison(h.metric, h.a, h.b)))
    return attrs.evolve(
        analysis,
        hypotheses=tuple(verdicts),
        disagreements=(
            disagreements(trials, primary, conditions, items_meta, cluster_field)
            if primary is not None
            else pl.DataFrame()
        ),
        failures_by_cluster=(
            failures_by_cluster(trials, primary, items_meta, cluster_field)
            if primary is not None and cluster_field
            else pl.DataFrame()
        ),
        consensus=consensus_table(trials, stored.consensus, primary),
        cost_benefit=cost_benefit(trials, primary, conditions),
        per_item=(
            with_votes(item_scores(trials, primary), stored.consensus)
            if primary is not None
            else pl.DataFrame()
        ),
    )
