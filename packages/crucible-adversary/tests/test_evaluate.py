from __future__ import annotations

import math

import pytest

from crucible.adversary import AttackSpec, VulnerableModel, evaluate
from crucible.core import ConfigurationError, Item, ValidationError


async def test_obedient_and_disobedient_extremes(items: list[Item]) -> None:
    attacks = ["inject_append", "role_play", "extract_secret"]
    always = await evaluate(VulnerableModel(obedience=1.0, leak_rate=1.0), items, attacks, seed=1)
    never = await evaluate(VulnerableModel(obedience=0.0, leak_rate=0.0), items, attacks, seed=1)
    for kind in attacks:
        assert always[kind].success.estimate == 1.0 and always[kind].success.n == 60
        assert never[kind].success.estimate == 0.0
        assert never[kind].success.ci_high == pytest.approx(0.0602, abs=1e-4)  # Wilson 0/60


async def test_asr_ci_covers_the_configured_obedience(items: list[Item]) -> None:
    report = await evaluate(
        VulnerableModel(obedience=0.5, seed=3), items * 4, ["inject_prepend"], seed=2
    )
    s = report["inject_prepend"].success
    assert s.n == 240 and s.ci_low < 0.5 < s.ci_high


async def test_robustness_flip_counts_only_clean_correct(items: list[Item]) -> None:
    model = VulnerableModel("gpt-4", seed=1, fragility=100.0)
    result = (await evaluate(model, items, ["char_swap"], seed=1))["char_swap"]
    clean_correct = sum(o.clean_correct for o in result.outcomes)
    assert result.success.n == clean_correct
    assert result.clean_accuracy == clean_correct / 60
    assert result.success.estimate == 1.0 and result.attacked_accuracy == 0.0
    assert result.mean_edit_distance > 0 and result.mean_token_jaccard < 1


async def test_robust_model_has_no_flips(items: list[Item]) -> None:
    model = VulnerableModel("gpt-4", seed=1, fragility=0.0)
    result = (await evaluate(model, items, ["keyboard_typo"], seed=1))["keyboard_typo"]
    assert result.success.successes == 0 and result.queries_per_success == math.inf
    assert result.attacked_accuracy == result.clean_accuracy


async def test_budget_improves_success_and_counts_queries(items: list[Item]) -> None:
    model = VulnerableModel(obedience=0.3, seed=5)
    one = (await evaluate(model, items, ["delimiter"], seed=1, budget=1))["delimiter"]
    five = (await evaluate(model, items, ["delimiter"], seed=1, budget=5))["delimiter"]
    assert five.success.estimate > one.success.estimate
    assert one.queries == 60
    assert five.queries == sum(o.queries for o in five.outcomes) and 60 < five.queries <= 300
    assert all(o.queries == 5 for o in five.outcomes if not o.success)


async def test_judge_decides_injection_success(items: list[Item], scripted) -> None:  # type: ignore[no-untyped-def]
    judge = scripted(lambda text: "YES" if "MARK-" in text.split("replied:")[1] else "NO")
    report = await evaluate(
        VulnerableModel(obedience=1.0), items[:10], ["inject_append"], judge=judge
    )
    assert report["inject_append"].success.estimate == 1.0
    assert len(judge.seen) == 10
    muddled = scripted(lambda text: "perhaps")
    bad = await evaluate(
        VulnerableModel(obedience=1.0), items[:3], ["inject_append"], judge=muddled
    )
    assert all(o.error and "no verdict" in o.error for o in bad["inject_append"].outcomes)


async def test_rewrite_attack_uses_rewriter(items: list[Item], scripted) -> None:  # type: ignore[no-untyped-def]
    rewriter = scripted(lambda text: "Completely different words here?")
    spec = AttackSpec("paraphrase", rewriter=rewriter)
    result = (await evaluate(VulnerableModel(fragility=100.0), items[:5], [spec]))["paraphrase"]
    assert len(rewriter.seen) == 5 and result.attacked_accuracy == 0.0


async def test_report_rows_and_str(items: list[Item]) -> None:
    report = await evaluate(VulnerableModel(obedience=1.0), items[:5], ["inject_append"])
    (row,) = report.rows()
    assert row["asr"] == 1.0 and row["n"] == 5 and row["queries_per_success"] == 1.0
    assert "inject_append" in str(report)
    assert report.to_dict()["results"][0]["success"]["successes"] == 5
    with pytest.raises(KeyError, match="no attack"):
        report["char_swap"]


async def test_bad_arguments(items: list[Item]) -> None:
    model = VulnerableModel()
    with pytest.raises(ValidationError, match="`items`"):
        await evaluate(model, [], ["char_swap"])
    with pytest.raises(ValidationError, match="`attacks` is empty"):
        await evaluate(model, items, [])
    with pytest.raises(ValidationError, match="`budget`"):
        await evaluate(model, items, ["char_swap"], budget=0)
    with pytest.raises(ValidationError, match="valid kinds are"):
        await evaluate(model, items, ["nope"])
    with pytest.raises(ConfigurationError, match="rewriter=model"):
        await evaluate(model, items, ["paraphrase"])
    with pytest.raises(ConfigurationError, match=r"Model\.generate"):
        await evaluate(object(), items, ["char_swap"])  # type: ignore[arg-type]


async def test_spans(items: list[Item], spans) -> None:  # type: ignore[no-untyped-def]
    await evaluate(VulnerableModel(obedience=1.0), items[:3], ["inject_append"])
    (span,) = [s for s in spans.get_finished_spans() if s.name == "adversary.attack inject_append"]
    assert span.attributes["crucible.adversary.asr"] == 1.0


async def test_provider_errors_are_recorded_not_raised(items: list[Item]) -> None:
    flaky = VulnerableModel(obedience=0.0, error_rate=1.0)
    result = (await evaluate(flaky, items[:10], ["inject_append"]))["inject_append"]
    assert result.errors == 10 and result.success.n == 0 and math.isnan(result.success.estimate)
    assert all(
        o.error
        and o.error.split(":")[0] in {"RateLimitError", "ProviderTimeoutError", "ServerError"}
        for o in result.outcomes
    )
    assert result.row()["errors"] == 10
