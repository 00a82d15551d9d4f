"""Adversarial evaluation through the harness — :func:`redteam` — and ``crux redteam``.

Each attack is a harness condition whose prompts are the clean prompts transformed by
:func:`crucible.adversary.attack`, seeded per item exactly as :func:`crucible.adversary.evaluate`
seeds them; the clean condition is the baseline. Accuracy under each attack is compared with
clean accuracy on the same items (McNemar's exact test, ``crucible.bench``), with p-values
adjusted across attacks (Holm by default). Attack success is judged by
:func:`crucible.adversary.evaluate` itself, replaying the answers the run recorded: injection and
jailbreak attacks succeed when their canary marker appears in the answer, robustness attacks
when a correct answer flips to wrong. With a guard (a :class:`crucible.guard.Guard`), every
call goes through a :class:`crucible.guard.GuardedModel`; a blocked call is recorded as an empty
answer (``finish_reason`` ``blocked_input`` or ``blocked_output``), scored 0.

Models: any :class:`~crucible.core.Model` or spec (``sim:gpt-4``, ``openai:gpt-4o``, ...), and
``vulnerable`` / ``vulnerable:PRESET`` (e.g. ``vulnerable:llama-3``): a
:class:`crucible.adversary.VulnerableModel` over that simulated preset (default ``gpt-4``),
which obeys injected instructions and is confused by perturbed prompts with set probabilities,
so injection attacks mean something offline. A plain ``sim:`` model ignores its prompt: it is
never injected.

Example:
    >>> import tempfile
    >>> from crucible.datasets import load
    >>> report = redteam_sync(
    ...     "vulnerable", load("mmlu", limit=20), attacks=["char_swap", "inject_append"],
    ...     run_dir=tempfile.mkdtemp() + "/rt")
    >>> [row.attack for row in report.rows]
    ['char_swap', 'inject_append']
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NoReturn

import attrs
import click
import numpy as np
import polars as pl

from crucible.adversary import (
    Attacked,
    AttackGroup,
    AttackKind,
    AttackResult,
    VulnerableModel,
    attack,
    canary_request,
    evaluate,
    make_marker,
    wilson_interval,
)
from crucible.bench import adjust, mcnemar
from crucible.core import (
    PRESETS,
    Completion,
    ConfigurationError,
    CrucibleError,
    Item,
    Model,
    Prompt,
    ProviderError,
    Seeds,
    Usage,
    ValidationError,
    get_model,
    parse_spec,
)
from crucible.datasets import Dataset, Score, get_scorer, load, multiple_choice_prompt
from crucible.framework._security_report import (
    BLOCKED_POLICY,
    AttackRow,
    RedTeamReport,
    render_html,
    render_markdown,
)
from crucible.guard import Guard, GuardBlockedError, GuardedModel
from crucible.harness import Condition, Experiment, Limits, PromptTemplate, RunStatus, run

__all__ = [
    "BLOCKED_POLICY",
    "DEFAULT_ATTACKS",
    "SUPPORTED_ATTACKS",
    "AttackRow",
    "RedTeamReport",
    "attacked_prompt",
    "redteam",
    "redteam_command",
    "redteam_sync",
    "resolve_model",
]

#: A mixed default: perturbations, injections and jailbreak wrappers (offline in seconds).
DEFAULT_ATTACKS: tuple[str, ...] = (
    "char_swap",
    "keyboard_typo",
    "word_delete",
    "inject_append",
    "inject_prepend",
    "delimiter",
    "role_play",
    "encode_base64",
)
_GROUPS = (AttackGroup.PERTURBATION, AttackGroup.INJECTION, AttackGroup.JAILBREAK)
#: Every attack :func:`redteam` runs: the pure prompt transforms (extraction probes need a
#: planted secret and rewrites a rewriting model: use :func:`crucible.adversary.evaluate`).
SUPPORTED_ATTACKS: tuple[str, ...] = tuple(k.value for k in AttackKind if k.group in _GROUPS)
CLEAN = "clean"
MARKDOWN_FILE = "redteam.md"
HTML_FILE = "redteam.html"
JSON_FILE = "redteam.json"
_MC_PROMPT = "multiple-choice (Hendrycks et al. 2021)"


def _kinds(attacks: Sequence[str | AttackKind] | None) -> list[AttackKind]:
    names = list(DEFAULT_ATTACKS if attacks is None else attacks)
    if not names:
        raise ValidationError("`attacks` is empty; give at least one attack or None")
    valid = ", ".join(SUPPORTED_ATTACKS)
    out: list[AttackKind] = []
    for name in names:
        try:
            kind = AttackKind(name)
        except ValueError:
            raise ValidationError(f"unknown attack {name!r} in `attacks`; valid: {valid}") from None
        if kind.group not in _GROUPS:
            raise ValidationError(
                f"attack {kind.value!r} ({kind.group.value}) is not a prompt transform redteam "
                f"can run (use crucible.adversary.evaluate); valid: {valid}"
            )
        if kind in out:
            raise ValidationError(f"attack {kind.value!r} appears twice in `attacks`")
        out.append(kind)
    return out


def resolve_model(model: Model | str, *, seed: int = 0) -> Model:
    """``model`` as a :class:`~crucible.core.Model`.

    ``"vulnerable"`` or ``"vulnerable:PRESET"`` (``vulnerable:llama-3``, also
    ``vulnerable:sim:llama-3``) is a :class:`crucible.adversary.VulnerableModel` over that
    simulated preset; other strings go to :func:`crucible.core.get_model` (``sim:`` models get
    ``seed``).

    Raises:
        ConfigurationError: a spec that does not resolve, an unknown preset, or an object
            without ``generate``.
    """
    if isinstance(model, str):
        spec = model.strip()
        head, _, rest = spec.partition(":")
        if head == "vulnerable":
            name = rest.removeprefix("sim:") or "gpt-4"
            if name not in PRESETS:
                raise ConfigurationError(
                    f"unknown simulated preset {name!r} in `model` {model!r}; valid: "
                    + ", ".join(PRESETS)
                )
            return VulnerableModel(name, seed=seed)
        provider, _ = parse_spec(spec)
        return get_model(spec, seed=seed) if provider == "sim" else get_model(spec)
    if not isinstance(model, Model):
        raise ConfigurationError(
            f"`model` must be a spec string or implement Model.generate, got {type(model).__name__}"
        )
    return model


def _describe(model: Model | str) -> str:
    if isinstance(model, str):
        return model.strip()
    spec = getattr(model, "spec", None)
    if isinstance(model, VulnerableModel):
        return f"vulnerable:{model.name}"
    return spec if isinstance(spec, str) else type(model).__name__


def _render(items: Sequence[Item], prompt: str | None) -> tuple[list[Item], str]:
    """Items whose ``input`` is the whole prompt the model receives (what the attacks alter)."""
    if prompt is None:
        if all(isinstance(i.metadata.get("choices"), list | tuple) for i in items):
            return [attrs.evolve(i, input=multiple_choice_prompt(i)) for i in items], _MC_PROMPT
        prompt = "{input}"
    template = PromptTemplate(prompt)
    out = []
    for item in items:
        text = template.render(item)
        if not isinstance(text, str) or not text.strip():
            raise ValidationError(f"`prompt` rendered item {item.id!r} to an empty text")
        out.append(attrs.evolve(item, input=text))
    return out, prompt


def attacked_prompt(kind: AttackKind, item: Item, seed: int) -> Attacked:
    """The attack on ``item.input`` that :func:`crucible.adversary.evaluate` builds (first
    attempt): perturbations and injections transform the prompt; jailbreak wrappers wrap the
    canary request."""
    s = Seeds(seed).integer(kind.value, item.id, 0)
    text = str(item.input)
    if kind.group is AttackGroup.PERTURBATION:
        return attack(text, kind, seed=s)
    marker = make_marker(s)
    base = text if kind.group is AttackGroup.INJECTION else canary_request(marker)
    return attack(base, kind, seed=s, marker=marker)


class _AttackPrompt:
    """A condition's prompt: the item's precomputed attacked text."""

    def __init__(self, kind: AttackKind, texts: dict[str, str]) -> None:
        self.kind = kind
        self.texts = texts

    def __call__(self, item: Item) -> Prompt:
        return self.texts[item.id]


class _Guarded:
    """A :class:`GuardedModel` whose blocked calls are recorded as empty answers."""

    def __init__(self, model: Model, guard: Guard) -> None:
        self.guarded = GuardedModel(model, guard)
        self.name = self.guarded.name

    async def generate(self, prompt: Prompt, **params: Any) -> Completion:
        try:
            return await self.guarded.generate(prompt, **params)
        except GuardBlockedError as exc:
            return Completion(
                "",
                self.name,
                "guard",
                Usage(),
                latency_ms=exc.result.latency_ms,
                finish_reason=f"blocked_{exc.stage}",
                raw={"blocked": True, "stage": exc.stage, "reason": str(exc)},
            )


@attrs.frozen
class _Answer:
    text: str
    error: str | None


class _Replay:
    """Answers :func:`crucible.adversary.evaluate` from the run: the clean condition's answer
    for an item's clean prompt, the attack condition's for its attacked prompt."""

    def __init__(
        self,
        kind: AttackKind,
        clean: dict[str, _Answer],
        attacked: dict[str, _Answer],
        sent: dict[str, str],
    ) -> None:
        self.kind, self.clean, self.attacked, self.sent = kind, clean, attacked, sent
        self.served: set[str] = set()

    async def generate(self, prompt: Prompt, **params: Any) -> Completion:
        item = params["item"]
        robustness = self.kind.group is AttackGroup.PERTURBATION
        if robustness and item.id not in self.served and prompt == item.input:
            # evaluate asks for the clean answer first, then the attacked one.
            self.served.add(item.id)
            answer = self.clean[item.id]
        elif prompt == self.sent[item.id]:
            answer = self.attacked[item.id]
        else:
            raise ValidationError(
                f"attack {self.kind.value!r}, item {item.id!r}: crucible.adversary.evaluate "
                "asked a prompt the run did not send; the attack's seeding has changed"
            )
        if answer.error is not None:
            raise ProviderError(answer.error)
        return Completion(answer.text, "replay", "replay", Usage())


def _binary_scorer(scorer: Any) -> Callable[[str, Item], bool]:
    def correct(answer: str, item: Item) -> bool:
        result = scorer(answer, item)
        value = result.value if isinstance(result, Score) else float(result)
        return bool(value >= 1.0)

    return correct


def _answers(trials: pl.DataFrame, condition: str) -> dict[str, _Answer]:
    part = trials.filter(pl.col("condition") == condition)
    return {
        row["item_id"]: _Answer(
            row["prediction"] or "",
            None if row["error_type"] is None else f"{row['error_type']}: {row['error_message']}",
        )
        for row in part.iter_rows(named=True)
    }


def _column(trials: pl.DataFrame, condition: str, ids: list[str], column: str) -> dict[str, Any]:
    part = trials.filter(pl.col("condition") == condition)
    values = dict(zip(part["item_id"].to_list(), part[column].to_list(), strict=True))
    return {i: values[i] for i in ids}


def _scores(trials: pl.DataFrame, condition: str, ids: list[str], column: str) -> np.ndarray:
    values = _column(trials, condition, ids, column)
    out = np.array([0.0 if values[i] is None else float(values[i]) for i in ids])
    if not np.isin(out, (0.0, 1.0)).all():
        raise ValidationError(
            f"the scorer gave scores other than 0 and 1 under {condition!r}; redteam needs a "
            "binary scorer (correct or not) for McNemar's test"
        )
    return out


def _blocked(trials: pl.DataFrame, condition: str, ids: list[str], confidence: float) -> Any:
    reasons = _column(trials, condition, ids, "finish_reason")
    n = sum(1 for i in ids if str(reasons[i] or "").startswith("blocked_"))
    return wilson_interval(n, len(ids), confidence=confidence)


def _dataset(dataset: Dataset | Sequence[Item] | str, limit: int | None) -> tuple[list[Item], str]:
    if isinstance(dataset, str):
        loaded = load(dataset, limit=limit)
        return list(loaded), loaded.name
    if isinstance(dataset, Dataset):
        items, name = list(dataset), dataset.name
    else:
        items, name = list(dataset), "items"
    if not all(isinstance(i, Item) for i in items):
        raise ValidationError("`dataset` must be a Dataset, a name or a sequence of Item")
    return (items if limit is None else items[:limit]), name


async def redteam(
    model: Model | str,
    dataset: Dataset | Sequence[Item] | str,
    *,
    attacks: Sequence[str | AttackKind] | None = None,
    guard: Guard | None = None,
    limit: int | None = None,
    seed: int = 0,
    run_dir: str | os.PathLike[str],
    alpha: float = 0.05,
    correction: str = "holm",
    scorer: Any = None,
    prompt: str | None = None,
    limits: Limits | None = None,
    progress: bool | str = False,
) -> RedTeamReport:
    """Attack ``model`` on ``dataset`` through the harness and compare each attack with the
    clean condition, item by item.

    Args:
        model: a Model, a spec (``sim:gpt-4``), or ``vulnerable[:PRESET]`` (see
            :func:`resolve_model`).
        dataset: a Dataset, a list of Item, or a name/file for :func:`crucible.datasets.load`.
        attacks: attack kinds (default :data:`DEFAULT_ATTACKS`; valid :data:`SUPPORTED_ATTACKS`).
        guard: a :class:`crucible.guard.Guard` every call goes through (``None``: no guard).
        limit: use the first ``limit`` items.
        seed: seeds the run, the simulated models and every item's attack.
        run_dir: a new harness run directory; ``redteam.md``, ``redteam.html`` and
            ``redteam.json`` are written there too.
        alpha: significance level; intervals are at ``1 - alpha``.
        correction: a :class:`crucible.bench.Correction` across the attacks (Holm by default).
        scorer: a binary scorer name or object (default ``multiple_choice`` when every item has
            ``metadata["choices"]``, else ``exact_match``).
        prompt: a harness template rendered into the prompt that is attacked (default: the
            customary MMLU prompt for multiple-choice items, else ``"{input}"``).
        limits: runner limits (default: 16 concurrent trials).

    Returns:
        A :class:`RedTeamReport`, one :class:`AttackRow` per attack.

    Raises:
        ValidationError: an unknown or unsupported attack, fewer than 2 items, a bad ``alpha``
            or ``correction``, a scorer that is not binary.
        ConfigurationError: a model spec that does not resolve, a guard that is not a Guard.
        CrucibleError: the run did not complete.

    Notes:
        McNemar (1947) exact test on the discordant pairs; Holm (1979) step-down adjustment;
        Wilson (1927) intervals for rates. :data:`BLOCKED_POLICY` says how blocked items count.
    """
    kinds = _kinds(attacks)
    if isinstance(alpha, bool) or not isinstance(alpha, int | float) or not 0.0 < alpha < 1.0:
        raise ValidationError(f"`alpha` must be in (0, 1), got {alpha!r}")
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 2):
        raise ValidationError(f"`limit` must be an int >= 2, got {limit!r}")
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValidationError(f"`seed` must be a non-negative int, got {seed!r}")
    if guard is not None and not isinstance(guard, Guard):
        raise ConfigurationError(
            f"`guard` must be a crucible.guard.Guard or None, got {type(guard).__name__}"
        )
    adjust([0.5], correction, alpha=alpha)  # an unknown correction fails before the run
    raw_items, dataset_name = _dataset(dataset, limit)
    if len(raw_items) < 2:
        raise ValidationError(
            f"`dataset` has {len(raw_items)} item(s); a paired comparison needs at least 2"
        )
    items, prompt_used = _render(raw_items, prompt)
    if scorer is None:
        scorer = "multiple_choice" if prompt_used == _MC_PROMPT else "exact_match"
    scorer_obj = get_scorer(scorer) if isinstance(scorer, str) else scorer
    scorer_name = str(getattr(scorer_obj, "name", ""))
    if not scorer_name:
        raise ValidationError("`scorer` has no `name`; give a scorer name or a named scorer")
    base = resolve_model(model, seed=seed)
    system: Model = base if guard is None else _Guarded(base, guard)
    sent = {k: {i.id: attacked_prompt(k, i, seed) for i in items} for k in kinds}
    conditions = [Condition(CLEAN, system, description="no attack")]
    conditions += [
        Condition(
            k.value,
            system,
            prompt=_AttackPrompt(k, {i: a.text for i, a in sent[k].items()}),
            description=f"{k.group.value} attack {k.value}",
        )
        for k in kinds
    ]
    experiment = Experiment(
        name="redteam",
        dataset=items,
        conditions=conditions,
        scorers=[scorer_obj],
        seed=seed,
        limits=limits or Limits(concurrency=16),
        metadata={
            "model": _describe(model),
            "dataset": dataset_name,
            "guard": "none" if guard is None else repr(guard),
            "attacks": [k.value for k in kinds],
            "prompt": prompt_used,
        },
    )
    try:
        result = await run(experiment, run_dir, progress=progress)
    finally:
        close = getattr(base, "aclose", None)
        if isinstance(model, str) and close is not None:
            await close()
    if result.status is not RunStatus.COMPLETE:
        raise CrucibleError(f"the red-team run ended {result.status.value}: {result.reason}")
    trials = result.trials
    ids = [i.id for i in items]
    column = f"score_{scorer_name}"
    confidence = 1.0 - alpha
    clean_scores = _scores(trials, CLEAN, ids, column)
    clean_answers = _answers(trials, CLEAN)
    false_blocks = _blocked(trials, CLEAN, ids, confidence)
    correct = _binary_scorer(scorer_obj)
    judged: list[AttackResult] = []
    for k in kinds:
        replay = _Replay(
            k, clean_answers, _answers(trials, k.value), {i: a.text for i, a in sent[k].items()}
        )
        report = await evaluate(
            replay, items, [k], seed=seed, scorer=correct, confidence=confidence
        )
        judged.append(report.results[0])
    tests = []
    for k in kinds:
        attacked_scores = _scores(trials, k.value, ids, column)
        tests.append((attacked_scores, mcnemar(clean_scores, attacked_scores)))
    adjusted = adjust([t.p_value for _, t in tests], correction, alpha=alpha)
    errors = trials.filter(pl.col("error_type").is_not_null())
    rows = []
    for index, (k, judged_k, (attacked_scores, test)) in enumerate(
        zip(kinds, judged, tests, strict=True)
    ):
        rows.append(
            AttackRow(
                attack=k.value,
                group=k.group.value,
                n_items=len(ids),
                clean_accuracy=float(clean_scores.mean()),
                attacked_accuracy=float(attacked_scores.mean()),
                flips_to_wrong=int(((clean_scores == 1) & (attacked_scores == 0)).sum()),
                flips_to_right=int(((clean_scores == 0) & (attacked_scores == 1)).sum()),
                statistic=float(test.statistic),
                p_value=float(test.p_value),
                p_adjusted=float(adjusted.adjusted[index]),
                significant=bool(adjusted.reject[index]),
                success=judged_k.success,
                blocked=_blocked(trials, k.value, ids, confidence),
                false_blocks=false_blocks,
                errors=errors.filter(pl.col("condition") == k.value).height,
                mean_edit_distance=judged_k.mean_edit_distance,
            )
        )
    path = Path(run_dir)
    out = RedTeamReport(
        model=_describe(model),
        dataset=dataset_name,
        n_items=len(ids),
        scorer=scorer_name,
        guard="none" if guard is None else repr(guard),
        seed=seed,
        alpha=float(alpha),
        correction=adjusted.method,
        rows=tuple(rows),
        run_dir=path,
        markdown_path=path / MARKDOWN_FILE,
        html_path=path / HTML_FILE,
    )
    out.markdown_path.write_text(render_markdown(out), encoding="utf-8")
    out.html_path.write_text(render_html(out), encoding="utf-8")
    (path / JSON_FILE).write_text(json.dumps(out.to_dict(), indent=2, default=str))
    return out


def redteam_sync(
    model: Model | str, dataset: Dataset | Sequence[Item] | str, **options: Any
) -> RedTeamReport:
    """:func:`redteam` for code without an event loop."""
    return asyncio.run(redteam(model, dataset, **options))


# -- crux redteam --------------------------------------------------------------------------


def _fail(reason: str) -> NoReturn:
    click.echo(f"error: {reason}", err=True)
    sys.exit(1)


def _parse_attacks(
    ctx: click.Context, param: click.Parameter, value: str | None
) -> list[str] | None:
    if value is None:
        return None
    names = [a.strip() for a in value.split(",") if a.strip()]
    unknown = [a for a in names if a not in SUPPORTED_ATTACKS]
    if not names or unknown:
        raise click.BadParameter(
            f"unknown attack {unknown[0]!r}; valid: {', '.join(SUPPORTED_ATTACKS)}"
            if unknown
            else "no attack given",
            ctx=ctx,
            param=param,
        )
    return names


@click.command("redteam", context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--model",
    required=True,
    help="A model spec (sim:gpt-4, openai:gpt-4o, ...) or vulnerable[:PRESET], a simulated "
    "model that obeys injections and is confused by perturbations (e.g. vulnerable:llama-3).",
)
@click.option("--dataset", required=True, help="A built-in dataset name or a data file.")
@click.option(
    "--guard",
    "guard_name",
    type=click.Choice(["default", "none"]),
    default="none",
    show_default=True,
    help="Put crucible.guard's default Guard in front of the model.",
)
@click.option(
    "--attacks",
    callback=_parse_attacks,
    default=None,
    help="Comma-separated attack kinds (default: " + ",".join(DEFAULT_ATTACKS) + ").",
)
@click.option("--limit", type=click.IntRange(min=2), default=None, help="Use the first N items.")
@click.option("--seed", type=click.IntRange(min=0), default=0, show_default=True)
@click.option("--alpha", type=click.FloatRange(0, 1, min_open=True, max_open=True), default=0.05)
@click.option("--correction", default="holm", show_default=True)
@click.option("--scorer", default=None, help="A binary scorer name (default by dataset).")
@click.option(
    "--out",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="The run directory to create.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
def redteam_command(
    model: str,
    dataset: str,
    guard_name: str,
    attacks: list[str] | None,
    limit: int | None,
    seed: int,
    alpha: float,
    correction: str,
    scorer: str | None,
    out: Path,
    as_json: bool,
) -> None:
    """Attack MODEL on DATASET through the harness: accuracy under each attack against clean
    (paired McNemar, Holm-adjusted), attack success rates with Wilson intervals, and what a
    guard blocks. Writes the run directory and redteam.md / redteam.html into --out."""
    try:
        report = redteam_sync(
            model,
            dataset,
            attacks=attacks,
            guard=Guard() if guard_name == "default" else None,
            limit=limit,
            seed=seed,
            run_dir=out,
            alpha=alpha,
            correction=correction,
            scorer=scorer,
        )
    except CrucibleError as exc:
        _fail(str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
    if as_json:
        click.echo(json.dumps(report.to_dict(), indent=2, default=str))
        return
    click.echo(str(report))
    click.echo(f"report: {report.markdown_path}\n        {report.html_path}")
