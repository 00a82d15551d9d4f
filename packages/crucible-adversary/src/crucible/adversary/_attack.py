"""The entry points: :func:`attack` for pure seeded transforms, :func:`rewrite` for model-driven
rewrites."""

from __future__ import annotations

from typing import Any

from crucible.adversary._perturb import PERTURBATIONS
from crucible.adversary._values import (
    MAX_TEXT_LENGTH,
    Attacked,
    AttackGroup,
    AttackKind,
    check_rate,
    check_text,
    parse_kind,
)
from crucible.adversary._wrappers import EXTRACTIONS, INJECTIONS, JAILBREAKS, make_marker
from crucible.core import ConfigurationError, Model, Seeds, ValidationError

__all__ = ["attack", "rewrite"]

_OPTIONS: dict[AttackGroup, frozenset[str]] = {
    AttackGroup.PERTURBATION: frozenset({"rate"}),
    AttackGroup.INJECTION: frozenset({"payload", "marker", "filler_chars", "template"}),
    AttackGroup.JAILBREAK: frozenset({"marker", "persona"}),
    AttackGroup.EXTRACTION: frozenset({"secret"}),
    AttackGroup.REWRITE: frozenset({"temperature", "language", "style"}),
}
_WRAPPERS = {**INJECTIONS, **JAILBREAKS, **EXTRACTIONS}


def _check_seed(seed: object) -> int:
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValidationError(f"`seed` must be a non-negative int, got {seed!r}")
    return seed


def _check_options(kind: AttackKind, options: dict[str, Any]) -> None:
    allowed = _OPTIONS[kind.group]
    unknown = set(options) - allowed
    if unknown:
        raise ValidationError(
            f"attack {kind.value!r} got unknown option(s) {sorted(unknown)}; valid options: "
            f"{', '.join(sorted(allowed)) or 'none'}"
        )


def attack(
    text: str,
    kind: AttackKind | str,
    *,
    seed: int,
    max_length: int = MAX_TEXT_LENGTH,
    **options: Any,
) -> Attacked:
    """Apply the attack ``kind`` to ``text``; the same ``seed`` gives the same text.

    Args:
        text: the prompt to attack.
        kind: an :class:`AttackKind` name (``"char_swap"``, ``"inject_append"``, ``"role_play"``, ...).
        seed: drives every random choice (positions, typos, payload wording, marker).
        max_length: longest ``text`` accepted (characters).
        **options: ``rate`` in [0, 1] for perturbations (default 0.1); ``payload``, ``marker``,
            ``filler_chars``, ``template`` for injections; ``marker``, ``persona`` for jailbreaks.

    Returns:
        :class:`Attacked`, whose ``options`` hold every default that was filled in.

    Raises:
        ValidationError: empty, non-string or too long text, unknown kind or option, ``rate``
            outside [0, 1].
        ConfigurationError: a model-driven kind (use :func:`rewrite`).

    Example:
        >>> attack("What is the capital of France?", "char_swap", seed=1, rate=0.2).text
        'hWat is the capitla fo Farnce?'
        >>> attack("Summarise this.", "inject_append", seed=1).marker
        'MARK-05929717'
    """
    check_text(text, max_length=max_length)
    kind = parse_kind(kind)
    seed = _check_seed(seed)
    if kind.group is AttackGroup.REWRITE:
        raise ConfigurationError(
            f"attack {kind.value!r} rewrites with a model: use `await rewrite(text, "
            f"{kind.value!r}, model=..., seed=...)`"
        )
    _check_options(kind, options)
    opts = dict(options)
    if kind.group is AttackGroup.PERTURBATION:
        opts["rate"] = check_rate(opts.get("rate", 0.1))
    if kind.group in (AttackGroup.INJECTION, AttackGroup.JAILBREAK):
        marker = opts.setdefault("marker", make_marker(seed))
        if not isinstance(marker, str) or not marker:
            raise ValidationError(f"`marker` must be a non-empty string, got {marker!r}")
    rng = Seeds(seed).generator("crucible.adversary", kind.value)
    if kind.group is AttackGroup.PERTURBATION:
        out = PERTURBATIONS[kind.value](text, rng, opts["rate"])
    else:
        out = _WRAPPERS[kind.value](text, rng, opts)
    return Attacked(text, out, kind, {"seed": seed, **opts})


_REWRITE_PROMPTS = {
    AttackKind.PARAPHRASE: (
        "Paraphrase the following text. Keep its meaning and every number; change the wording. "
        "Reply with the paraphrase only.\n\n{text}"
    ),
    AttackKind.FORMALITY: (
        "Rewrite the following text in a {style} register. Keep its meaning and every number. "
        "Reply with the rewrite only.\n\n{text}"
    ),
}
_TRANSLATE = (
    "Translate the following text into {language}. Reply with the translation only.\n\n{text}"
)


async def _ask(model: Model, prompt: str, seed: int, temperature: float) -> str:
    completion = await model.generate(prompt, temperature=temperature, seed=seed)
    out = completion.text.strip()
    if not out:
        raise ValidationError(f"the rewriting model {model!r} returned an empty text")
    return out


async def rewrite(
    text: str,
    kind: AttackKind | str,
    *,
    model: Model,
    seed: int,
    max_length: int = MAX_TEXT_LENGTH,
    **options: Any,
) -> Attacked:
    """Rewrite ``text`` with ``model``: ``paraphrase``, ``back_translation`` or ``formality``.

    Options: ``temperature`` (default 0.7), ``language`` (pivot of back-translation, default
    French), ``style`` (``formal`` or ``informal``, default formal). ``seed`` is sent to the
    model as its sampling seed. The intermediate translation is kept in ``options``.

    Raises:
        ValidationError: bad text, unknown kind/option, or an empty rewrite.
        ConfigurationError: a pure kind (use :func:`attack`) or ``model`` without ``generate``.
    """
    check_text(text, max_length=max_length)
    kind = parse_kind(kind)
    seed = _check_seed(seed)
    if kind.group is not AttackGroup.REWRITE:
        raise ConfigurationError(
            f"attack {kind.value!r} needs no model: use `attack(text, {kind.value!r}, seed=...)`"
        )
    if not isinstance(model, Model):
        raise ConfigurationError(
            f"`model` must implement Model.generate, got {type(model).__name__}"
        )
    _check_options(kind, options)
    opts: dict[str, Any] = dict(options)
    temperature = opts.setdefault("temperature", 0.7)
    if kind is AttackKind.BACK_TRANSLATION:
        language = opts.setdefault("language", "French")
        pivot = await _ask(
            model, _TRANSLATE.format(language=language, text=text), seed, temperature
        )
        out = await _ask(
            model, _TRANSLATE.format(language="English", text=pivot), seed, temperature
        )
        opts["pivot"] = pivot
    else:
        style = opts.setdefault("style", "formal") if kind is AttackKind.FORMALITY else ""
        if kind is AttackKind.FORMALITY and style not in ("formal", "informal"):
            raise ValidationError(f"`style` must be one of formal, informal; got {style!r}")
        prompt = _REWRITE_PROMPTS[kind].format(text=text, style=style)
        out = await _ask(model, prompt, seed, temperature)
    opts["model"] = str(getattr(model, "spec", repr(model)))
    return Attacked(text, out, kind, {"seed": seed, **opts})
