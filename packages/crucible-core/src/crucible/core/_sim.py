"""Simulated models: seeded, offline stand-ins with a stated accuracy, latency, error and cost profile.

Every answer, latency and failure is a pure function of (seed, model, item id, repeat) — and, for
failures, the attempt number — so results are identical under any concurrency or call order.

How an answer is drawn (Thurstone-style latent difficulty):

* each item has a difficulty ``d ~ N(0, 1)`` drawn from (seed, item id) only, shared by all models;
* a model answers correctly when ``sqrt(rho) * d + sqrt(1 - rho) * e < Phi^-1(accuracy)`` with
  ``e ~ N(0, 1)`` drawn from (seed, model, item id, repeat). The marginal accuracy is exactly
  ``accuracy``; ``rho`` (``difficulty_weight``) makes models agree on easy items and disagree on
  hard ones;
* a wrong answer is of the right kind (another choice letter, a nearby wrong number, the flipped
  boolean, a listed incorrect answer) and, with probability ``distractor_affinity``, the item's
  shared attractive distractor, so wrong models sometimes agree with each other.
"""

from __future__ import annotations

import asyncio
import math
import re
from collections.abc import Mapping
from fractions import Fraction
from statistics import NormalDist
from typing import Any

import attrs

from crucible.core._errors import (
    ConfigurationError,
    ProviderTimeoutError,
    RateLimitError,
    ServerError,
)
from crucible.core._latency import LatencyProfile
from crucible.core._model import BaseModel, Prompt, prompt_text
from crucible.core._pricing import Pricing
from crucible.core._seeding import Seeds, stable_hash
from crucible.core._values import Completion, Item, Message, TokenLogprob, Usage

__all__ = ["PRESETS", "SimProfile", "SimulatedModel"]

_STD = NormalDist()
ERROR_KINDS = ("rate_limit", "timeout", "server")
#: Chosen so the five demo presets disagree on about 15 % of items (see tests).
DEFAULT_DIFFICULTY_WEIGHT = 0.6


def _unit(instance: object, attribute: attrs.Attribute[float], value: float) -> None:
    if not isinstance(value, int | float) or not 0.0 <= value <= 1.0:
        raise ConfigurationError(f"SimProfile `{attribute.name}` must be in [0, 1], got {value!r}")


def _nonneg(instance: object, attribute: attrs.Attribute[float], value: float) -> None:
    if not isinstance(value, int | float) or not math.isfinite(value) or value < 0:
        raise ConfigurationError(
            f"SimProfile `{attribute.name}` must be a finite number >= 0, got {value!r}"
        )


def _error_mix(value: Mapping[str, float]) -> dict[str, float]:
    mix = dict(value)
    unknown = set(mix) - set(ERROR_KINDS)
    if unknown:
        raise ConfigurationError(
            f"SimProfile `error_mix` has unknown kinds {sorted(unknown)}; use {ERROR_KINDS}"
        )
    if not mix or any(v < 0 for v in mix.values()) or sum(mix.values()) <= 0:
        raise ConfigurationError(
            f"SimProfile `error_mix` needs non-negative weights with a positive sum, got {mix}"
        )
    return mix


@attrs.frozen(slots=True)
class SimProfile:
    """The behaviour of a simulated model.

    Attributes:
        accuracy: probability of a correct answer when the item is given.
        latency: the latency distribution (ms) reported and, scaled by ``time_scale``, waited.
        error_rate: probability that a call fails with a typed provider error.
        error_mix: relative weights of ``rate_limit`` / ``timeout`` / ``server`` failures.
        output_tokens: mean billed output tokens per call (log-normal around it).
        input_tokens: billed input tokens per call; ``None`` estimates them from the prompt
            (about 4 characters per token).
        difficulty_weight: ``rho``, the share of answer variance explained by item difficulty.
        distractor_affinity: probability that a wrong answer is the item's shared distractor.
        time_scale: 0 = answer at once, 1 = wait the simulated latency in real time.
    """

    accuracy: float = attrs.field(validator=_unit)
    latency: LatencyProfile
    error_rate: float = attrs.field(default=0.0, validator=_unit)
    error_mix: dict[str, float] = attrs.field(
        factory=lambda: {"rate_limit": 0.4, "timeout": 0.3, "server": 0.3}, converter=_error_mix
    )
    output_tokens: float = attrs.field(default=100.0, validator=_nonneg)
    input_tokens: int | None = None
    difficulty_weight: float = attrs.field(default=DEFAULT_DIFFICULTY_WEIGHT, validator=_unit)
    distractor_affinity: float = attrs.field(default=0.6, validator=_unit)
    time_scale: float = attrs.field(default=0.0, validator=_nonneg)

    def to_dict(self) -> dict[str, Any]:
        data = attrs.asdict(self, recurse=False)
        data["latency"] = self.latency.to_dict()
        return data


_DEMO_LATENCY = LatencyProfile.from_quantiles(p50=500.0, p95=2000.0, p99=5000.0, slow_fraction=0.1)

#: Presets: the five models of the interactive demos (P50 500 ms / P95 2 s / P99 5 s with a 10 %
#: slow tail, 1 % errors) and the stats-lab pair (A: 87 %, 800 ms mean; B: 91 %, 600 ms mean; priced
#: so 500 input + 100 output tokens cost $0.002 and $0.005).
PRESETS: dict[str, SimProfile] = {
    "gpt-4": SimProfile(accuracy=0.94, latency=_DEMO_LATENCY, error_rate=0.01),
    "claude-3": SimProfile(accuracy=0.93, latency=_DEMO_LATENCY, error_rate=0.01),
    "gemini-pro": SimProfile(accuracy=0.90, latency=_DEMO_LATENCY, error_rate=0.01),
    "llama-3": SimProfile(accuracy=0.87, latency=_DEMO_LATENCY, error_rate=0.01),
    "mixtral": SimProfile(accuracy=0.85, latency=_DEMO_LATENCY, error_rate=0.01),
    "model-a": SimProfile(accuracy=0.87, latency=LatencyProfile.from_mean(800.0, 0.35)),
    "model-b": SimProfile(accuracy=0.91, latency=LatencyProfile.from_mean(600.0, 0.35)),
}

_LETTER = re.compile(r"^[A-Z]$")
_NUMBER = re.compile(r"^-?\d[\d,]*(?:\.\d+)?$")
_ARITH = re.compile(r"(-?\d+(?:\.\d+)?)\s*([-+*/x×÷])\s*(-?\d+(?:\.\d+)?)")
_TRUE = {"true", "yes"}
_FALSE = {"false", "no"}


@attrs.frozen(slots=True)
class _Task:
    """What a correct answer is and which wrong answers are plausible."""

    correct: str
    wrong: tuple[str, ...]


def _format_number(value: Fraction, like: str) -> str:
    if value.denominator == 1:
        text = str(value.numerator)
    else:
        decimals = len(like.split(".")[1]) if "." in like else 2
        text = f"{float(value):.{max(decimals, 2)}f}".rstrip("0").rstrip(".")
    if "," in like and value.denominator == 1 and abs(value.numerator) >= 1000:
        text = f"{value.numerator:,}"
    return text


def _numeric_task(expected: Fraction, like: str) -> _Task:
    step = max(Fraction(1), abs(expected) / 10) if expected.denominator == 1 else Fraction(1, 2)
    step = Fraction(math.floor(step)) if step.denominator != 1 and step > 1 else step
    offsets = (step, -step, 2 * step, -2 * step, 10 * step)
    candidates = [expected + off for off in offsets]
    if expected != 0:
        candidates.append(expected * 2)
    wrong = tuple(dict.fromkeys(_format_number(c, like) for c in candidates if c != expected))
    return _Task(_format_number(expected, like), wrong)


def _task_for(item: Item | None, text: str) -> _Task | None:
    expected = None if item is None else item.expected
    metadata = {} if item is None else item.metadata
    listed_wrong = tuple(
        str(w) for key in ("incorrect_answers", "distractors") for w in (metadata.get(key) or ())
    )
    if isinstance(expected, bool):
        return _Task(str(expected), (str(not expected),))
    if isinstance(expected, int | float) and math.isfinite(expected):
        return _numeric_task(Fraction(expected).limit_denominator(10**6), str(expected))
    if isinstance(expected, list | tuple) and expected:
        wrong = listed_wrong or ("I don't know.",)
        return _Task(str(expected[0]), wrong)
    if isinstance(expected, str):
        stripped = expected.strip()
        if _LETTER.match(stripped):
            choices = metadata.get("choices")
            n = (
                len(choices)
                if isinstance(choices, list | tuple) and choices
                else max(4, ord(stripped) - 64)
            )
            letters = tuple(chr(65 + i) for i in range(n) if chr(65 + i) != stripped)
            return _Task(stripped, letters or ("A" if stripped != "A" else "B",))
        if _NUMBER.match(stripped):
            return _numeric_task(Fraction(stripped.replace(",", "")), stripped)
        if stripped.lower() in _TRUE | _FALSE:
            flipped = {"true": "false", "yes": "no", "false": "true", "no": "yes"}[stripped.lower()]
            if stripped[0].isupper():
                flipped = flipped.capitalize()
            return _Task(stripped, (flipped,))
        return _Task(stripped, listed_wrong or ("I don't know.",))
    match = _ARITH.search(text)
    if match is not None:
        a, op, b = Fraction(match.group(1)), match.group(2), Fraction(match.group(3))
        if op in "/÷" and b == 0:
            return None
        value = {"+": a + b, "-": a - b, "*": a * b, "x": a * b, "×": a * b}.get(op)
        if value is None:
            value = a / b
        return _numeric_task(value, match.group(1))
    return None


class SimulatedModel(BaseModel):
    """A seeded simulated model (provider ``sim``).

    Args:
        name: a preset name (see :data:`PRESETS`) or any name when ``profile`` is given.
        profile: the behaviour; defaults to the preset called ``name``.
        seed: root seed; the same seed gives the same answers, latencies and failures.
        time_scale: overrides the profile's (0 = no waiting, 1 = real time).
        **overrides: any :class:`SimProfile` field (``accuracy=0.7``, ``error_rate=0``, ...).

    Pass ``item=`` (and ``repeat=``, ``attempt=``) to :meth:`generate` to get an answer scored
    against the item's ``expected``.

    Example:
        >>> import asyncio
        >>> from crucible.core import Item
        >>> model = SimulatedModel("gpt-4", seed=1)
        >>> item = Item("q1", "2+2?", expected="4")
        >>> asyncio.run(model.generate("2+2?", item=item)).text in {"4", "5", "3", "6", "2", "14", "8"}
        True
    """

    provider = "sim"

    def __init__(
        self,
        name: str,
        profile: SimProfile | None = None,
        *,
        seed: int = 0,
        time_scale: float | None = None,
        pricing: Pricing | None = None,
        capture_content: bool | None = None,
        **overrides: Any,
    ) -> None:
        super().__init__(name, pricing=pricing, capture_content=capture_content)
        if profile is None:
            if name not in PRESETS:
                raise ConfigurationError(
                    f"unknown simulated model {name!r}; presets are {', '.join(sorted(PRESETS))} "
                    "(or pass profile=SimProfile(...))"
                )
            profile = PRESETS[name]
        if time_scale is not None:
            overrides["time_scale"] = time_scale
        if overrides:
            known = {f.name for f in attrs.fields(SimProfile)}
            unknown = set(overrides) - known
            if unknown:
                raise ConfigurationError(
                    f"unknown simulated-model option(s) {sorted(unknown)}; valid: {sorted(known)}"
                )
            profile = attrs.evolve(profile, **overrides)
        self.profile = profile
        self.seeds = Seeds(seed)

    @property
    def seed(self) -> int:
        return self.seeds.seed

    async def _generate(
        self, prompt: Prompt, messages: list[Message], params: dict[str, Any]
    ) -> Completion:
        item = params.get("item")
        if item is not None and not isinstance(item, Item):
            raise ConfigurationError(
                f"`item` must be a crucible.core.Item, got {type(item).__name__}"
            )
        repeat = int(params.get("repeat", 0))
        attempt = int(params.get("attempt", 0))
        text = prompt_text(prompt)
        item_id = item.id if item is not None else f"prompt:{stable_hash(text):016x}"
        p = self.profile

        draws = self.seeds.generator("sim", self.name, item_id, repeat).random(8)
        latency_ms = p.latency.sample_from_uniforms(float(draws[1]), _STD.inv_cdf(_clip(draws[2])))
        ttft_ms = latency_ms * (0.1 + 0.3 * float(draws[7]))

        fail = self.seeds.generator("sim-error", self.name, item_id, repeat, attempt).random(2)
        if p.time_scale > 0:
            await asyncio.sleep(latency_ms / 1000.0 * p.time_scale)
        if fail[0] < p.error_rate:
            self._raise_error(float(fail[1]), latency_ms)

        task = _task_for(item, text)
        if task is None:
            answer, correct = f"Simulated answer from sim:{self.name}.", None
        else:
            difficulty = self.seeds.generator("difficulty", item_id).standard_normal()
            e = _STD.inv_cdf(_clip(draws[0]))
            rho = p.difficulty_weight
            latent = math.sqrt(rho) * difficulty + math.sqrt(1 - rho) * e
            correct = bool(latent < _threshold(p.accuracy))
            if correct:
                answer = task.correct
            else:
                shared = self.seeds.generator("distractor", item_id).integers(len(task.wrong))
                if draws[5] < p.distractor_affinity:
                    answer = task.wrong[int(shared)]
                else:
                    answer = task.wrong[int(draws[6] * len(task.wrong)) % len(task.wrong)]

        if correct is None:
            confidence = 0.5
        elif correct:
            confidence = 0.6 + 0.39 * math.sqrt(float(draws[3]))
        else:
            confidence = 0.25 + 0.5 * float(draws[3])
        in_tokens = (
            p.input_tokens if p.input_tokens is not None else max(1, math.ceil(len(text) / 4))
        )
        out_tokens = max(
            math.ceil(len(answer) / 4),
            round(p.output_tokens * math.exp(0.3 * _STD.inv_cdf(_clip(draws[4])) - 0.045)),
        )
        usage = Usage(input_tokens=in_tokens, output_tokens=out_tokens)
        raw = {
            "simulated": True,
            "correct": correct,
            "item_id": item_id,
            "repeat": repeat,
            "seed": self.seed,
        }
        return self._completion(
            answer,
            usage,
            latency_ms=latency_ms,
            ttft_ms=ttft_ms,
            finish_reason="stop",
            logprobs=[TokenLogprob(answer, math.log(confidence))],
            confidence=confidence,
            raw=raw,
        )

    def _raise_error(self, u: float, latency_ms: float) -> None:
        mix = self.profile.error_mix
        total = sum(mix.values())
        acc = 0.0
        kind = ERROR_KINDS[-1]
        for name in ERROR_KINDS:
            acc += mix.get(name, 0.0) / total
            if u < acc:
                kind = name
                break
        where: dict[str, Any] = {"provider": "sim", "model": self.name}
        if kind == "rate_limit":
            raise RateLimitError(
                f"sim:{self.name} simulated rate limit (429); retry after 1 s",
                retry_after_s=1.0,
                status=429,
                **where,
            )
        if kind == "timeout":
            raise ProviderTimeoutError(
                f"sim:{self.name} simulated timeout after {latency_ms:.0f} ms", **where
            )
        raise ServerError(f"sim:{self.name} simulated server error (500)", status=500, **where)


def _clip(u: float) -> float:
    return min(max(float(u), 1e-12), 1 - 1e-12)


def _threshold(accuracy: float) -> float:
    if accuracy <= 0.0:
        return -math.inf
    if accuracy >= 1.0:
        return math.inf
    return _STD.inv_cdf(accuracy)
