"""Red team vs blue team: attack success with and without each defence, and each defence's cost."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol, runtime_checkable

import attrs

from crucible.adversary._evaluate import AttackReport, AttackSpec, Scorer, evaluate
from crucible.adversary._metrics import Proportion, wilson_interval
from crucible.adversary._values import AttackKind
from crucible.core import (
    Completion,
    ConfigurationError,
    Item,
    Message,
    Model,
    Prompt,
    Usage,
    as_messages,
)

__all__ = ["Defence", "DefendedModel", "GuardLike", "RedBlueReport", "red_blue"]


@runtime_checkable
class GuardLike(Protocol):
    """Anything with ``check_input(text)`` returning an object with a boolean ``.safe``
    (a :class:`crucible.guard.Guard` is one)."""

    def check_input(self, text: str) -> Any: ...


#: A defence: a text transform (``None`` = block), or a guard-like object.
Defence = Callable[[str], str | None] | GuardLike


def _apply(defence: Defence, text: str) -> str | None:
    """The text to send after ``defence``, or ``None`` when it blocks."""
    if isinstance(defence, GuardLike):
        result = defence.check_input(text)
        if inspect.isawaitable(result):
            raise ConfigurationError("a defence's `check_input` must be synchronous")
        if not hasattr(result, "safe"):
            raise ConfigurationError(
                f"`check_input` must return an object with `.safe`, got {result!r}"
            )
        if result.safe:
            return text
        redacted = getattr(result, "redacted_text", None)
        return redacted if isinstance(redacted, str) and redacted else None
    out = defence(text)
    if out is not None and not isinstance(out, str):
        raise ConfigurationError(
            f"a defence callable must return str or None, got {type(out).__name__}"
        )
    return out


class DefendedModel:
    """A model behind a defence: user messages pass through the defence first; a blocked call
    returns an empty completion (``raw={"blocked": True}``) without calling the model."""

    def __init__(self, model: Model, defence: Defence) -> None:
        self.model = model
        self.defence = defence

    async def generate(self, prompt: Prompt, **params: Any) -> Completion:
        messages = as_messages(prompt)
        sent: list[Message] = []
        for m in messages:
            if m.role != "user":
                sent.append(m)
                continue
            out = _apply(self.defence, m.content)
            if out is None:
                return Completion("", "defence", "defence", Usage(), raw={"blocked": True})
            sent.append(Message("user", out))
        outgoing: Prompt = sent[0].content if isinstance(prompt, str) else sent
        return await self.model.generate(outgoing, **params)


def _name(defence: Defence) -> str:
    name = getattr(defence, "name", None) or getattr(defence, "__name__", None)
    return str(name) if name else type(defence).__name__


@attrs.frozen
class RedBlueReport:
    """Attack success per (attack, defence) and each defence's false-block rate on clean items.

    Attributes:
        reports: defence name -> :class:`AttackReport` (``"none"`` is the undefended model).
        false_blocks: defence name -> the share of clean item inputs it blocked (Wilson CI).
    """

    reports: dict[str, AttackReport]
    false_blocks: dict[str, Proportion]

    def asr(self, attack: str, defence: str = "none") -> Proportion:
        """The attack success rate of ``attack`` against ``defence``."""
        return self.reports[defence][attack].success

    def rows(self) -> list[dict[str, Any]]:
        out = []
        for defence, report in self.reports.items():
            fb = self.false_blocks.get(defence)
            for row in report.rows():
                out.append(
                    {
                        "defence": defence,
                        **row,
                        "false_block_rate": fb.estimate if fb else 0.0,
                    }
                )
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "reports": {k: v.to_dict() for k, v in self.reports.items()},
            "false_blocks": {k: v.to_dict() for k, v in self.false_blocks.items()},
        }

    def __str__(self) -> str:
        defences = list(self.reports)
        attacks = [r.kind for r in self.reports["none"].results]
        head = f"{'attack':<22}" + "".join(f"{d[:14]:>16}" for d in defences)
        lines = [head]
        for a in attacks:
            lines.append(
                f"{a:<22}" + "".join(f"{self.asr(a, d).estimate:>16.3f}" for d in defences)
            )
        lines.append(
            f"{'false-block rate':<22}"
            + "".join(
                f"{(self.false_blocks[d].estimate if d in self.false_blocks else 0.0):>16.3f}"
                for d in defences
            )
        )
        return "\n".join(lines)


async def red_blue(
    model: Model,
    items: Sequence[Item],
    attacks: Sequence[AttackSpec | AttackKind | str],
    defences: Mapping[str, Defence] | Sequence[Defence],
    *,
    seed: int = 0,
    budget: int = 1,
    scorer: Scorer | None = None,
    judge: Model | None = None,
    confidence: float = 0.95,
) -> RedBlueReport:
    """Run every attack against the model alone and behind each defence.

    A defence is a text transform (``text -> text``, or ``None`` to block) or any object with
    ``check_input(text)`` returning something with ``.safe`` (e.g. a ``crucible.guard.Guard``;
    an unsafe result blocks, unless it carries a non-empty ``redacted_text``, which is sent
    instead). The same seeds are used in every condition, so the differences are paired.

    Returns:
        :class:`RedBlueReport`: ASR per (attack, defence) with Wilson CIs, and each defence's
        false-block rate on the clean item inputs.
    """
    named = dict(defences) if isinstance(defences, Mapping) else {_name(d): d for d in defences}
    if "none" in named:
        raise ConfigurationError("a defence may not be named 'none' (that is the undefended model)")
    for name, d in named.items():
        if not (isinstance(d, GuardLike) or callable(d)):
            raise ConfigurationError(f"defence {name!r} must be callable or have check_input(text)")
    kwargs: dict[str, Any] = {
        "seed": seed,
        "budget": budget,
        "scorer": scorer,
        "judge": judge,
        "confidence": confidence,
    }
    reports = {"none": await evaluate(model, items, attacks, **kwargs)}
    false_blocks: dict[str, Proportion] = {}
    for name, defence in named.items():
        reports[name] = await evaluate(DefendedModel(model, defence), items, attacks, **kwargs)
        blocked = sum(_apply(defence, str(item.input)) is None for item in items)
        false_blocks[name] = wilson_interval(blocked, len(items), confidence=confidence)
    return RedBlueReport(reports, false_blocks)
