"""Checkpoint evaluation: paired statistics against crucible.bench and statsmodels, gates, the
registry's promotion rule, ``crux lora eval`` and bad input."""

from __future__ import annotations

import asyncio
import json
import math
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from click.testing import CliRunner
from scipy import stats
from statsmodels.stats.multitest import multipletests

from crucible.bench import compare_evals, mcnemar, proportion_ci
from crucible.core import Item, ValidationError
from crucible.datasets import get_scorer
from crucible.framework.finetune import (
    CheckpointEvaluation,
    checkpoint_files,
    evaluate_checkpoints,
    evaluate_checkpoints_sync,
    lora_group,
)
from crucible.lora import (
    BASE_MODEL_NAME,
    AdamParams,
    AdapterRegistry,
    CheckpointError,
    LocalBackend,
    LoraConfig,
    PromotionError,
    Trainer,
    create_backend,
)

TRAIN_WORDS = [
    "fox",
    "sun",
    "ant",
    "crow",
    "hare",
    "lion",
    "dog",
    "wolf",
    "boy",
    "bird",
    "oak",
    "rose",
    "moon",
    "king",
    "cat",
    "owl",
    "frog",
    "bee",
    "ship",
    "tree",
    "man",
    "sky",
    "rain",
    "wind",
]
HELD_OUT = [
    "cow",
    "sea",
    "pig",
    "star",
    "fish",
    "ox",
    "elk",
    "yak",
    "emu",
    "eel",
    "gnu",
    "bat",
    "web",
    "map",
    "cup",
    "pen",
    "box",
    "key",
    "car",
    "bus",
]
STYLE = r"^A: \w+ is good\.$"
CONFIG = LoraConfig(rank=8, alpha=16, seed=0)


def style_scorer() -> object:
    return get_scorer("regex", pattern=STYLE)


def held_out_items() -> list[Item]:
    return [Item(w, f"Q: {w}?\n", f"A: {w} is good.") for w in HELD_OUT]


@pytest.fixture(scope="module")
def training(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A short run on the shipped tiny model: checkpoints after 9 and 18 steps."""
    root = tmp_path_factory.mktemp("train")
    backend = create_backend("local", config=CONFIG, checkpoint_dir=root / "backend")
    trainer = Trainer(
        backend,
        CONFIG,
        AdamParams(learning_rate=5e-3),
        batch_size=8,
        epochs=6,
        checkpoint_every=9,
        seed=0,
        checkpoint_dir=root / "run",
    )
    data = [{"prompt": f"Q: {w}?\n", "completion": f"A: {w} is good.\n"} for w in TRAIN_WORDS]
    asyncio.run(trainer.fit(data))
    return {"root": root, "run": root / "run", "backend": root / "backend"}


@pytest.fixture(scope="module")
def evaluation(
    training: dict[str, Path], tmp_path_factory: pytest.TempPathFactory
) -> CheckpointEvaluation:
    return evaluate_checkpoints_sync(
        training["run"],
        held_out_items(),
        scorer=style_scorer(),
        run_dir=tmp_path_factory.mktemp("eval") / "run",
    )


def per_item(ev: CheckpointEvaluation, condition: str) -> np.ndarray:
    rows = ev.trials.filter(pl.col("condition") == condition).sort("item_id")
    return rows["score_regex"].to_numpy().astype(float)


def test_checkpoint_files_are_in_training_order(training: dict[str, Path]) -> None:
    names = [p.name for p in checkpoint_files(training["run"])]
    assert names == ["step-000009.safetensors", "step-000018.safetensors"]


def test_paired_statistics_equal_crucible_bench(evaluation: CheckpointEvaluation) -> None:
    base = per_item(evaluation, "base")
    assert [c.name for c in evaluation.checkpoints] == ["step-000009", "step-000018"]
    for c in evaluation.checkpoints:
        mine = per_item(evaluation, c.name)
        cmp = c.versus_baseline
        assert cmp.test == "mcnemar-exact"
        assert cmp.p_value == mcnemar(mine, base).p_value
        assert cmp.n_items == 20
        if np.ptp(mine - base) > 0:
            ref = compare_evals(mine, base, confidence=0.95)
            assert (cmp.estimate, cmp.ci_low, cmp.ci_high) == (
                ref.estimate,
                ref.ci_low,
                ref.ci_high,
            )
        else:
            assert math.isnan(cmp.ci_low)
            assert "no variance" in cmp.note
        ref_score = proportion_ci(int(mine.sum()), mine.size, confidence=0.95)
        assert (c.score.ci_low, c.score.ci_high) == (ref_score.ci_low, ref_score.ci_high)
    # The trained checkpoint answers in the new style far more often than the base model.
    last = evaluation.result("step-000018")
    assert evaluation.baseline_score.estimate == 0.0
    assert last.score.estimate >= 0.5
    assert last.beats_baseline
    assert evaluation.best == "step-000018"


def test_holm_adjustment_matches_statsmodels(evaluation: CheckpointEvaluation) -> None:
    raw = [c.versus_baseline.p_value for c in evaluation.checkpoints]
    # statsmodels 0.14: multipletests(raw, alpha=0.05, method="holm")
    reject, adjusted, _, _ = multipletests(raw, alpha=0.05, method="holm")
    assert [c.versus_baseline.p_adjusted for c in evaluation.checkpoints] == pytest.approx(
        adjusted.tolist(), abs=1e-15
    )
    for c, rej in zip(evaluation.checkpoints, reject, strict=True):
        assert c.beats_baseline == (bool(rej) and c.versus_baseline.estimate > 0)
    # Holm by hand for two tests: the smaller p doubles, the larger is kept if not below it.
    low, high = sorted(raw)
    assert sorted(c.versus_baseline.p_adjusted for c in evaluation.checkpoints) == pytest.approx(
        [min(1.0, 2 * low), max(min(1.0, 2 * low), high)]
    )


def test_steps_compare_consecutive_checkpoints(evaluation: CheckpointEvaluation) -> None:
    first, second = evaluation.steps
    assert (first.against, first.checkpoint) == ("base", "step-000009")
    assert (second.against, second.checkpoint) == ("step-000009", "step-000018")
    a, b = per_item(evaluation, "step-000018"), per_item(evaluation, "step-000009")
    assert second.p_value == mcnemar(a, b).p_value
    # Fixed sequence: the adjusted p-value is the running maximum of the raw ones.
    assert first.p_adjusted == first.p_value
    assert second.p_adjusted == max(first.p_value, second.p_value)
    assert first.significant == (first.estimate > 0 and first.p_value <= 0.05)
    assert second.significant == (first.significant and second.p_adjusted <= 0.05)
    assert (first.significant, second.significant) == (True, True)
    assert evaluation.improvement_stops_at == "step-000018"


def test_mcnemar_p_value_matches_scipy(evaluation: CheckpointEvaluation) -> None:
    base = per_item(evaluation, "base")
    mine = per_item(evaluation, "step-000018")
    gained, lost = int(((mine == 1) & (base == 0)).sum()), int(((mine == 0) & (base == 1)).sum())
    # scipy 1.x: stats.binomtest(min(b, c), b + c, 0.5).pvalue, two-sided exact McNemar
    expected = stats.binomtest(min(gained, lost), gained + lost, 0.5).pvalue
    assert evaluation.result("step-000018").versus_baseline.p_value == pytest.approx(
        expected, rel=1e-12
    )


def test_report_and_to_dict(evaluation: CheckpointEvaluation) -> None:
    report = evaluation.report_path.read_text()
    assert evaluation.report_path == evaluation.run_dir / "checkpoints.md"
    assert "**Best checkpoint: `step-000018`**" in report
    assert "| `step-000018` |" in report
    data = json.loads((evaluation.run_dir / "checkpoints.json").read_text())
    assert data == json.loads(json.dumps(evaluation.to_dict()))
    assert data["best"] == "step-000018"
    assert data["checkpoints"][1]["versus_baseline"]["test"] == "mcnemar-exact"
    assert "step-000018" in str(evaluation)


async def test_gates_are_decided_by_the_ci_lower_bound(
    training: dict[str, Path], evaluation: CheckpointEvaluation, tmp_path: Path
) -> None:
    last = evaluation.result("step-000018")
    # Between the CI lower bound and the estimate: the point estimate clears it, the CI does not.
    accuracy_target = (last.score.ci_low + last.score.estimate) / 2
    improvement_target = last.versus_baseline.ci_low - 0.01
    gated = await evaluate_checkpoints(
        [checkpoint_files(training["run"])[-1]],
        held_out_items(),
        scorer=style_scorer(),
        run_dir=tmp_path / "gated",
        targets={"accuracy": accuracy_target, "improvement": improvement_target},
    )
    accuracy, improvement = gated.result("step-000018").gates
    assert last.score.estimate > accuracy_target
    assert not accuracy.passed
    assert accuracy.ci_low == last.score.ci_low
    assert improvement.passed
    assert improvement.ci_low == last.versus_baseline.ci_low
    assert not gated.result("step-000018").passed
    assert "## Quality gates" in gated.report_path.read_text()


def register(registry: AdapterRegistry, adapter_id: str, path: Path) -> None:
    registry.register(
        adapter_id,
        base_model=BASE_MODEL_NAME,
        checkpoint_path=path,
        lora_config=CONFIG,
        training_config={"lr": 5e-3, "checkpoint": path.name},
        dataset_hashes=["style-words"],
    )


def test_promotion_needs_a_passing_evaluation(training: dict[str, Path], tmp_path: Path) -> None:
    early, late = checkpoint_files(training["run"])
    with AdapterRegistry(tmp_path / "adapters.duckdb") as registry:
        register(registry, "style-early", early)
        register(registry, "style-late", late)
        registry.promote("style-late", "staging")
        with pytest.raises(PromotionError, match="needs `evidence`"):
            registry.promote("style-late", "production")
        # A failing evaluation (a gate the CI cannot reach) is recorded and blocks production.
        failing = evaluate_checkpoints_sync(
            registry,
            held_out_items(),
            adapters=["style-late"],
            scorer=style_scorer(),
            run_dir=tmp_path / "failing",
            targets={"accuracy": 0.999},
        )
        assert failing.result("style-late").beats_baseline
        assert not failing.result("style-late").passed
        with pytest.raises(PromotionError, match="needs `evidence`"):
            failing.record_evidence(registry, "style-late")
        assert [e.passed for e in registry.get("style-late").evidence] == [False]
        assert registry.get("style-late").stage.value == "staging"
        passing = evaluate_checkpoints_sync(
            registry,
            held_out_items(),
            adapters=["style-early", "style-late"],
            scorer=style_scorer(),
            run_dir=tmp_path / "passing",
        )
        assert [c.name for c in passing.checkpoints] == ["style-early", "style-late"]
        record = passing.record_evidence(registry, "style-late")
        assert record.stage.value == "production"
        evidence = record.evidence[-1]
        assert evidence.passed
        assert evidence.run_dir == str(tmp_path / "passing")
        assert (
            evidence.summary["p_adjusted"]
            == passing.result("style-late").versus_baseline.p_adjusted
        )


def test_untrained_adapter_equals_the_base_model(tmp_path: Path) -> None:
    sampler = asyncio.run(LocalBackend(CONFIG).save_weights_for_sampler("untrained"))
    ev = evaluate_checkpoints_sync(
        [sampler], held_out_items()[:5], scorer="exact_match", run_dir=tmp_path / "run"
    )
    only = ev.result("untrained")
    assert only.versus_baseline.estimate == 0.0
    assert only.versus_baseline.p_value == 1.0
    assert ev.best is None
    assert ev.improvement_stops_at == "base"


def test_sampled_repeats_use_the_paired_t_test_and_are_reproducible(
    training: dict[str, Path], tmp_path: Path
) -> None:
    late = checkpoint_files(training["run"])[-1]
    runs = [
        evaluate_checkpoints_sync(
            [late],
            held_out_items()[:8],
            scorer=style_scorer(),
            run_dir=tmp_path / name,
            repeats=2,
            params={"temperature": 1.0, "max_tokens": 20},
            seed=7,
        )
        for name in ("one", "two")
    ]
    first, second = (
        r.trials.sort("condition", "item_id", "repeat").select("condition", "item_id", "prediction")
        for r in runs
    )
    assert first.equals(second)  # sampling is seeded per trial, not by schedule or process
    ev = runs[0]
    cmp = ev.result("step-000018").versus_baseline
    assert cmp.test == "paired-t"
    matrix = {
        name: ev.trials.filter(pl.col("condition") == name)
        .pivot(on="repeat", index="item_id", values="score_regex")
        .sort("item_id")
        .drop("item_id")
        .to_numpy()
        .astype(float)
        for name in ("base", "step-000018")
    }
    ref = compare_evals(matrix["step-000018"], matrix["base"])
    assert (cmp.estimate, cmp.ci_low, cmp.ci_high, cmp.p_value) == (
        ref.estimate,
        ref.ci_low,
        ref.ci_high,
        ref.p_value,
    )
    assert ev.result("step-000018").score.method == "t"


def write_items(path: Path) -> Path:
    lines = [
        json.dumps({"id": i.id, "input": i.input, "expected": i.expected}) for i in held_out_items()
    ]
    path.write_text("\n".join(lines) + "\n")
    return path


def test_cli_on_a_training_run(training: dict[str, Path], tmp_path: Path) -> None:
    data = write_items(tmp_path / "style.jsonl")
    args = ["eval", str(training["run"]), "--dataset", str(data), "--scorer", "regex"]
    args += ["--pattern", STYLE, "--limit", "12", "--out", str(tmp_path / "out")]
    result = CliRunner().invoke(lora_group, [*args, "--json"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.output)
    assert payload["n_items"] == 12
    assert [c["name"] for c in payload["checkpoints"]] == ["step-000009", "step-000018"]
    assert (tmp_path / "out" / "checkpoints.md").is_file()
    table = CliRunner().invoke(
        lora_group,
        [
            "eval",
            str(training["run"]),
            "--dataset",
            str(data),
            "--adapters",
            "step-000018",
            "--out",
            str(tmp_path / "table"),
            "--target",
            "accuracy=0.2",
        ],
    )
    assert table.exit_code == 0, table.output
    assert "step-000018" in table.output
    assert "step-000009" not in table.output
    assert "improvement stops at" in table.output


def test_cli_on_a_registry_and_bad_input(training: dict[str, Path], tmp_path: Path) -> None:
    data = write_items(tmp_path / "style.jsonl")
    db = tmp_path / "adapters.duckdb"
    with AdapterRegistry(db) as registry:
        register(registry, "style-late", checkpoint_files(training["run"])[-1])
    runner = CliRunner()
    ok = runner.invoke(
        lora_group,
        ["eval", str(db), "--dataset", str(data), "--out", str(tmp_path / "r"), "--json"],
    )
    assert ok.exit_code == 0, ok.output
    assert json.loads(ok.output)["checkpoints"][0]["name"] == "style-late"
    unknown = runner.invoke(
        lora_group, ["eval", str(db), "--dataset", str(data), "--adapters", "nope"]
    )
    assert unknown.exit_code == 1
    assert "no adapter with `adapter_id` 'nope'" in unknown.output
    missing = runner.invoke(lora_group, ["eval", str(tmp_path / "gone"), "--dataset", str(data)])
    assert missing.exit_code == 1
    assert "does not exist" in missing.output
    empty = tmp_path / "empty"
    empty.mkdir()
    none = runner.invoke(lora_group, ["eval", str(empty), "--dataset", str(data)])
    assert none.exit_code == 1
    assert "holds no .safetensors checkpoint" in none.output
    bad_target = runner.invoke(
        lora_group, ["eval", str(db), "--dataset", str(data), "--target", "accuracy"]
    )
    assert bad_target.exit_code == 1
    assert "--target must be METRIC=NUMBER" in bad_target.output


def test_bad_input_gives_clear_errors(training: dict[str, Path], tmp_path: Path) -> None:
    items = held_out_items()
    with pytest.raises(ValidationError, match="`checkpoints` is empty"):
        evaluate_checkpoints_sync([], items, scorer="exact_match", run_dir=tmp_path / "a")
    with pytest.raises(CheckpointError, match="does not exist"):
        evaluate_checkpoints_sync(
            [tmp_path / "missing.safetensors"], items, scorer="exact_match", run_dir=tmp_path / "b"
        )
    with (
        AdapterRegistry(":memory:") as registry,
        pytest.raises(ValidationError, match="no adapter with `adapter_id` 'ghost'"),
    ):
        evaluate_checkpoints_sync(
            registry, items, adapters=["ghost"], scorer="exact_match", run_dir=tmp_path / "c"
        )
    path = checkpoint_files(training["run"])[-1]
    with pytest.raises(ValidationError, match="unknown `targets` metric 'f1'"):
        evaluate_checkpoints_sync(
            [path], items, scorer="exact_match", run_dir=tmp_path / "d", targets={"f1": 0.5}
        )
    with pytest.raises(ValidationError, match="needs at least 2"):
        evaluate_checkpoints_sync([path], items[:1], scorer="exact_match", run_dir=tmp_path / "e")
    with pytest.raises(ValidationError, match="`baseline` 'nope' is neither"):
        evaluate_checkpoints_sync(
            [path], items, scorer="exact_match", run_dir=tmp_path / "f", baseline="nope"
        )
    with pytest.raises(ValidationError, match="`adapters` selects adapter ids"):
        evaluate_checkpoints_sync(
            [path], items, scorer="exact_match", run_dir=tmp_path / "g", adapters=["x"]
        )
    assert not (tmp_path / "a").exists()
