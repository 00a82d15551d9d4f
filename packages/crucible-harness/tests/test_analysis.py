"""analyze(): each p-value equals the reference computed on the same data (scipy, statsmodels,
crucible.bench)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl
import pytest
from scipy import stats
from statsmodels.stats.multitest import multipletests

from crucible.core import Item, SimulatedModel
from crucible.datasets import Dataset
from crucible.harness import (
    Condition,
    Experiment,
    HarnessError,
    Hypothesis,
    Limits,
    Verdict,
    analyze,
    compare_conditions,
    compare_runs,
    demo_experiment,
    run_sync,
)

FAST = Limits(concurrency=16, backoff_base_s=0.001, backoff_max_s=0.002)


def arithmetic(n: int) -> Dataset:
    return Dataset(
        "arith", [Item(f"q{i:03d}", f"What is {i} + {i + 1}?", str(2 * i + 1)) for i in range(n)]
    )


def sim(name: str, *, seed: int = 7, **overrides: object) -> SimulatedModel:
    overrides.setdefault("error_mix", {"server": 1.0})
    return SimulatedModel(name, seed=seed, **overrides)


def _run(
    tmp_path: Path,
    name: str,
    conditions: list[Condition],
    repeats: int = 1,
    n: int = 40,
    dataset: Dataset | None = None,
) -> Path:
    where = tmp_path / name
    exp = Experiment(
        name,
        dataset or arithmetic(n),
        conditions,
        scorers=["numeric"],
        repeats=repeats,
        seed=3,
        limits=FAST,
    )
    run_sync(exp, where, progress=False)
    return where


def _item_means(trials: pl.DataFrame, cond: str, column: str) -> np.ndarray:
    return (
        trials.filter(pl.col("condition") == cond)
        .group_by("item_id")
        .agg(pl.col(column).mean())
        .sort("item_id")[column]
        .to_numpy()
    )


@pytest.fixture(scope="module")
def one_repeat(tmp_path_factory: pytest.TempPathFactory) -> Path:
    conditions = [
        Condition("a", sim("model-a", accuracy=0.6, error_rate=0.0)),
        Condition("b", sim("model-b", accuracy=0.9, error_rate=0.0)),
    ]
    return _run(tmp_path_factory.mktemp("runs"), "one", conditions, repeats=1, n=60)


@pytest.fixture(scope="module")
def three(tmp_path_factory: pytest.TempPathFactory) -> Path:
    conditions = [
        Condition("a", sim("model-a", accuracy=0.5, error_rate=0.0)),
        Condition("b", sim("model-b", accuracy=0.7, error_rate=0.0)),
        Condition("c", sim("model-a", accuracy=0.9, error_rate=0.0, seed=9)),
    ]
    return _run(tmp_path_factory.mktemp("runs"), "three", conditions, repeats=2, n=50)


def test_binary_one_repeat_is_mcnemar_exact(one_repeat: Path) -> None:
    analysis = analyze(one_repeat)
    c = analysis.comparison("accuracy", "b", "a")
    assert (c.design, c.test) == ("paired", "McNemar exact")
    trials = analysis.per_item
    a, b = trials["a"].to_numpy(), trials["b"].to_numpy()
    n01, n10 = int(np.sum((b == 0) & (a == 1))), int(np.sum((b == 1) & (a == 0)))
    # scipy: exact McNemar is a two-sided binomial test on the discordant pairs
    expected = stats.binomtest(min(n01, n10), n01 + n10, 0.5).pvalue
    assert c.p_value == pytest.approx(expected, rel=1e-12)
    assert c.estimate == pytest.approx(b.mean() - a.mean())
    assert c.ci_low < c.estimate < c.ci_high
    assert 0.0 < c.power <= 1.0
    assert "McNemar" in c.reason


def test_continuous_paired_test_matches_scipy(one_repeat: Path) -> None:
    analysis = analyze(one_repeat)
    c = analysis.comparison("latency_ms", "a", "b")
    from crucible.harness import load_run

    t = load_run(one_repeat).trials
    a = _item_means(t, "a", "latency_ms")
    b = _item_means(t, "b", "latency_ms")
    d = a - b
    if stats.shapiro(d).pvalue < 0.05:
        assert c.test == "Wilcoxon signed-rank"
        assert c.p_value == pytest.approx(stats.wilcoxon(a, b).pvalue, rel=1e-9)
    else:
        assert c.test == "paired t"
        assert c.p_value == pytest.approx(stats.ttest_rel(a, b).pvalue, rel=1e-9)
    assert c.estimate == pytest.approx(d.mean())
    assert c.design == "paired"
    assert c.normality_p == pytest.approx(stats.shapiro(d).pvalue, rel=1e-9)


def test_repeats_and_clusters_use_compare_evals(tmp_path: Path) -> None:
    where = tmp_path / "demo"
    run_sync(demo_experiment(items=40, repeats=2), where, progress=False)
    analysis = analyze(where)
    assert analysis.cluster_field == "subject"
    c = analysis.comparison("accuracy", "ensemble_3model", "single_model")
    from crucible.harness import load_run

    stored = load_run(where)
    subjects = {i: str(f["subject"]) for i, f in stored.manifest["items"].items()}
    ref = compare_conditions(
        stored.trials, "ensemble_3model", "single_model", "multiple_choice", cluster=subjects
    )
    assert c.p_value == pytest.approx(ref.p_value, rel=1e-12)
    assert (c.ci_low, c.ci_high) == pytest.approx((ref.ci_low, ref.ci_high), rel=1e-12)
    assert c.n_clusters == ref.n_clusters
    assert "cluster-robust" in c.reason
    # Without clusters the same data give the naive paired SE.
    plain = analyze(where, cluster=None).comparison("accuracy", "ensemble_3model", "single_model")
    ref_plain = compare_conditions(
        stored.trials, "ensemble_3model", "single_model", "multiple_choice"
    )
    assert plain.p_value == pytest.approx(ref_plain.p_value, rel=1e-12)
    assert plain.n_clusters == 0
    # Consensus: the vote table's accuracy per level equals a direct computation.
    table = analysis.consensus
    assert set(table["level"].to_list()) <= {"3/3", "2/3", "1/3"}
    joined = stored.consensus.join(stored.trials, on=["condition", "item_id", "repeat"])
    unanimous = joined.filter(pl.col("agreement") == 1.0)["score_multiple_choice"].fill_null(0)
    row = table.filter(pl.col("level") == "3/3").row(0, named=True)
    assert row["accuracy"] == pytest.approx(unanimous.mean())
    assert row["trials"] == unanimous.len()
    assert "ensemble_3model votes" in analysis.per_item.columns
    assert "single_model votes" not in analysis.per_item.columns
    first = stored.consensus.filter(pl.col("repeat") == 0).sort("item_id")
    shown = analysis.per_item.sort("item_id")["ensemble_3model votes"].to_list()
    assert shown == [f"{round(a * m)}/{m}" for a, m in first.select("agreement", "members").rows()]


def test_three_conditions_omnibus_and_holm(three: Path) -> None:
    analysis = analyze(three)
    omni = next(o for o in analysis.omnibus if o.metric == "accuracy")
    from crucible.harness import load_run

    t = load_run(three).trials
    table = np.column_stack([_item_means(t, c, "score_numeric") for c in ("a", "b", "c")])
    # scipy: Friedman on item means (repeats averaged, so not binary)
    assert omni.test == "Friedman"
    assert omni.p_value == pytest.approx(stats.friedmanchisquare(*table.T).pvalue, rel=1e-9)
    comps = [c for c in analysis.comparisons if c.metric == "accuracy"]
    assert [(c.a, c.b) for c in comps] == [("a", "b"), ("a", "c"), ("b", "c")]
    raw = [c.p_value for c in comps]
    # statsmodels 0.14: multipletests(raw, method="holm")
    holm = multipletests(raw, method="holm")[1]
    assert [c.p_adjusted for c in comps] == pytest.approx(list(holm), rel=1e-12)
    bonf = analyze(three, correction="bonferroni")
    adjusted = [c.p_adjusted for c in bonf.comparisons if c.metric == "accuracy"]
    assert adjusted == pytest.approx(list(multipletests(raw, method="bonferroni")[1]))
    assert all(c.design == "paired" for c in analysis.comparisons)


def test_unpaired_only_without_shared_items(tmp_path: Path) -> None:
    first = Dataset(
        "x", [Item(f"x{i}", f"What is {i} + {i + 1}?", str(2 * i + 1)) for i in range(30)]
    )
    second = Dataset(
        "y", [Item(f"y{i}", f"What is {i} + {i + 2}?", str(2 * i + 2)) for i in range(30)]
    )
    run_x = _run(tmp_path, "x", [Condition("m", sim("model-a", error_rate=0.0))], dataset=first)
    run_y = _run(tmp_path, "y", [Condition("m", sim("model-a", error_rate=0.0))], dataset=second)
    comps = {c.metric: c for c in compare_runs(run_x, run_y)}
    lat = comps["latency_ms"]
    assert (lat.design, lat.test) == ("unpaired", "Welch t")
    from crucible.harness import load_run

    a = _item_means(load_run(run_x).trials, "m", "latency_ms")
    b = _item_means(load_run(run_y).trials, "m", "latency_ms")
    assert lat.p_value == pytest.approx(stats.ttest_ind(a, b, equal_var=False).pvalue, rel=1e-9)
    assert "share no items" in lat.reason
    # Same items in both runs: the comparison across runs is paired.
    again = _run(tmp_path, "x2", [Condition("m", sim("model-b", error_rate=0.0))], dataset=first)
    paired = {c.metric: c for c in compare_runs(run_x, again)}
    assert paired["latency_ms"].design == "paired"


def test_hypotheses(one_repeat: Path) -> None:
    analysis = analyze(
        one_repeat,
        hypotheses=[
            "b > a + 0.02 on accuracy",
            Hypothesis("a", ">", "b", margin=0.0),
            "b > a + 0.9",
        ],
    )
    verdicts = [h.verdict for h in analysis.hypotheses]
    c = analysis.comparison("accuracy", "b", "a")
    assert c.ci_low > 0.02  # accuracy 0.9 vs 0.6 on 60 items
    assert verdicts == [Verdict.SUPPORTED, Verdict.NOT_SUPPORTED, Verdict.NOT_SUPPORTED]
    with pytest.raises(HarnessError, match="names condition 'zzz'"):
        analyze(one_repeat, hypotheses=["zzz > a"])


def test_hypothesis_parse_and_judge() -> None:
    h = Hypothesis.parse("candidate >= baseline - 0.01 on accuracy")
    assert (h.a, h.op, h.b, h.metric, h.margin) == (
        "candidate",
        ">=",
        "baseline",
        "accuracy",
        -0.01,
    )
    assert h.judge(-0.005, 0.02) is Verdict.SUPPORTED
    assert h.judge(-0.05, -0.02) is Verdict.NOT_SUPPORTED
    assert h.judge(-0.02, 0.01) is Verdict.INCONCLUSIVE
    low = Hypothesis.parse("x <= y + 50 on latency_ms")
    assert low.judge(-10.0, 40.0) is Verdict.SUPPORTED
    assert low.judge(60.0, 90.0) is Verdict.NOT_SUPPORTED
    assert str(low) == "x <= y + 50 on latency_ms"
    with pytest.raises(HarnessError, match="cannot read requirement"):
        Hypothesis.parse("better than baseline")


def test_descriptives_and_cost_benefit(one_repeat: Path) -> None:
    from crucible.bench import proportion_ci
    from crucible.harness import load_run

    analysis = analyze(one_repeat)
    t = load_run(one_repeat).trials.filter(pl.col("condition") == "a")
    d = analysis.descriptive("accuracy", "a")
    ci = proportion_ci(int(t["score_numeric"].sum()), t.height)
    assert (d.ci_low, d.ci_high, d.ci_method) == (ci.ci_low, ci.ci_high, "wilson")
    lat = analysis.descriptive("latency_ms", "a")
    sem = stats.sem(t["latency_ms"].to_numpy())
    lo, hi = stats.t.interval(0.95, t.height - 1, loc=t["latency_ms"].mean(), scale=sem)
    assert (lat.ci_low, lat.ci_high) == pytest.approx((lo, hi))
    row = analysis.cost_benefit.filter(pl.col("condition") == "a").row(0, named=True)
    assert row["cost_per_correct"] == pytest.approx(t["cost_usd"].sum() / t["score_numeric"].sum())
    data = analysis.to_dict()
    assert data["comparisons"][0]["p_value"] == analysis.comparisons[0].p_value


def test_continuous_scorer_errors_and_single_condition(tmp_path: Path) -> None:
    from crucible.datasets import Score
    from crucible.harness import load_run, write_report

    def closeness(prediction: str, item: Item) -> Score:
        try:
            return Score(1.0 / (1.0 + abs(float(prediction) - float(item.expected))))
        except ValueError:
            return Score(0.0)

    lim = Limits(concurrency=8, backoff_base_s=0.001, backoff_max_s=0.002, max_retries=0)
    failing = sim("model-a", seed=1, error_rate=0.3, accuracy=0.5)
    exp = Experiment(
        "edge",
        arithmetic(20),
        [Condition("only", failing)],
        scorers=[closeness, "numeric"],
        repeats=2,
        limits=lim,
    )
    where = tmp_path / "edge"
    run_sync(exp, where, progress=False)
    analysis = analyze(where)
    assert [m.name for m in analysis.metrics][:2] == ["closeness", "accuracy"]
    assert analysis.primary is not None and analysis.primary.name == "accuracy"
    assert analysis.comparisons == () and analysis.omnibus == ()
    trials = load_run(where).trials
    errored = int(trials["error_type"].is_not_null().sum())
    assert errored > 0
    assert analysis.errors["trials"].sum() == errored
    # An errored trial scores 0 on scores and is missing from latency.
    d = analysis.descriptive("accuracy", "only")
    assert d.n == trials.height
    assert d.mean == pytest.approx(trials["score_numeric"].fill_null(0).mean())
    assert analysis.descriptive("latency_ms", "only").n == trials.height - errored
    assert analysis.descriptive("closeness", "only").ci_method == "t"
    md = write_report(where, "md")["md"].read_text()
    assert f"{errored} trials errored; scores count them as wrong." in md
