"""Output checks: system-prompt leakage (planted canaries and verbatim overlap) and a
length/format validator (JSON matching a small schema)."""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Mapping, Sequence
from typing import Any

from crucible.core import ValidationError
from crucible.guard._detectors import Context
from crucible.guard._values import Detection, Stage

__all__ = ["FormatDetector", "LeakageDetector", "make_canary"]

_WORD = re.compile(r"\w+")


def make_canary(seed: int | None = None) -> str:
    """A fresh canary token (``CANARY-`` + 16 hex digits); ``seed`` makes it reproducible."""
    if seed is None:
        return f"CANARY-{secrets.token_hex(8)}"
    from crucible.core import stable_hash

    return f"CANARY-{stable_hash('crucible.guard.canary', seed):016x}"


class LeakageDetector:
    """Finds the system prompt in a model's output.

    Two signals: a planted canary token (see :meth:`Guard.plant_canary`) appearing anywhere in
    the output (confidence 1.0), and a run of at least ``min_words`` consecutive words copied
    verbatim from the system prompt, taken from ``system_prompt`` or ``context["system_prompt"]``
    (confidence 0.9).
    """

    name = "leakage"
    categories = ("canary_leak", "system_prompt_leak")
    stages = frozenset({Stage.OUTPUT})

    def __init__(
        self,
        canaries: Sequence[str] = (),
        *,
        system_prompt: str | None = None,
        min_words: int = 8,
    ) -> None:
        if isinstance(min_words, bool) or not isinstance(min_words, int) or min_words < 2:
            raise ValidationError(f"`min_words` must be an int >= 2, got {min_words!r}")
        self.canaries = list(canaries)
        self.system_prompt = system_prompt
        self.min_words = min_words

    def add_canary(self, canary: str) -> None:
        """Look for ``canary`` from now on."""
        if not isinstance(canary, str) or len(canary) < 8:
            raise ValidationError(f"`canary` must be a string of >= 8 characters, got {canary!r}")
        self.canaries.append(canary)

    def detect(self, text: str, context: Context = None) -> list[Detection]:
        found: list[Detection] = []
        lowered = text.casefold()
        for canary in self.canaries:
            start = lowered.find(canary.casefold())
            while start >= 0:
                end = start + len(canary)
                found.append(
                    Detection(self.name, "canary_leak", 1.0, start, end, "planted canary in output")
                )
                start = lowered.find(canary.casefold(), end)
        prompt = (context or {}).get("system_prompt") or self.system_prompt
        if isinstance(prompt, str) and prompt:
            found.extend(self._overlap(text, prompt))
        return sorted(found, key=lambda d: d.start)

    def _overlap(self, text: str, prompt: str) -> list[Detection]:
        n = self.min_words
        words = [m.group().casefold() for m in _WORD.finditer(prompt)]
        grams = {tuple(words[i : i + n]) for i in range(len(words) - n + 1)}
        if not grams:
            return []
        spans = [m.span() for m in _WORD.finditer(text)]
        out_words = [text[s:e].casefold() for s, e in spans]
        found: list[Detection] = []
        i = 0
        while i <= len(out_words) - n:
            if tuple(out_words[i : i + n]) in grams:
                j = i + n
                while j < len(out_words) and tuple(out_words[j - n + 1 : j + 1]) in grams:
                    j += 1
                start, end = spans[i][0], spans[j - 1][1]
                found.append(
                    Detection(
                        self.name,
                        "system_prompt_leak",
                        0.9,
                        start,
                        end,
                        f"{j - i} consecutive words of the system prompt",
                    )
                )
                i = j
            else:
                i += 1
        return found


_JSON_TYPES: dict[str, tuple[type, ...]] = {
    "object": (dict,),
    "array": (list,),
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
    "null": (type(None),),
}


def _schema_errors(value: Any, schema: Mapping[str, Any], path: str = "$") -> list[str]:
    errors: list[str] = []
    kind = schema.get("type")
    if kind is not None:
        kinds = [kind] if isinstance(kind, str) else list(kind)
        ok = any(
            isinstance(value, _JSON_TYPES[k])
            and not (k in ("integer", "number") and isinstance(value, bool))
            for k in kinds
        )
        if not ok:
            return [f"{path}: expected {'/'.join(kinds)}, got {type(value).__name__}"]
    if "enum" in schema and value not in schema["enum"]:
        errors.append(f"{path}: {value!r} not in {schema['enum']}")
    if isinstance(value, int | float) and not isinstance(value, bool):
        if "minimum" in schema and value < schema["minimum"]:
            errors.append(f"{path}: {value} < minimum {schema['minimum']}")
        if "maximum" in schema and value > schema["maximum"]:
            errors.append(f"{path}: {value} > maximum {schema['maximum']}")
    if isinstance(value, str) and "maxLength" in schema and len(value) > schema["maxLength"]:
        errors.append(f"{path}: longer than maxLength {schema['maxLength']}")
    if isinstance(value, dict):
        props = schema.get("properties", {})
        errors += [
            f"{path}: missing required {k!r}" for k in schema.get("required", ()) if k not in value
        ]
        if schema.get("additionalProperties") is False:
            errors += [f"{path}: unexpected property {k!r}" for k in value if k not in props]
        for key, sub in props.items():
            if key in value:
                errors += _schema_errors(value[key], sub, f"{path}.{key}")
    if isinstance(value, list) and isinstance(schema.get("items"), Mapping):
        for i, element in enumerate(value):
            errors += _schema_errors(element, schema["items"], f"{path}[{i}]")
    return errors


class FormatDetector:
    """Validates an output's length and format.

    Args:
        max_chars: longest allowed output (``too_long`` beyond it).
        min_chars: shortest allowed output (``too_short`` below it).
        json_schema: when given, the output must be JSON and match this subset of JSON Schema:
            ``type`` (incl. lists of types), ``properties``, ``required``,
            ``additionalProperties: false``, ``items``, ``enum``, ``minimum``, ``maximum``,
            ``maxLength``. A schema in ``context["json_schema"]`` overrides it per call.

    Example:
        >>> d = FormatDetector(json_schema={"type": "object", "required": ["answer"]})
        >>> [x.category for x in d.detect('{"answer": 4}')], [x.category for x in d.detect("4")]
        ([], ['schema_mismatch'])
    """

    name = "format"
    categories = ("too_long", "too_short", "invalid_json", "schema_mismatch")
    stages = frozenset({Stage.OUTPUT})

    def __init__(
        self,
        *,
        max_chars: int | None = None,
        min_chars: int | None = None,
        json_schema: Mapping[str, Any] | None = None,
    ) -> None:
        for arg, value in (("max_chars", max_chars), ("min_chars", min_chars)):
            if value is not None and (
                isinstance(value, bool) or not isinstance(value, int) or value < 0
            ):
                raise ValidationError(f"`{arg}` must be a non-negative int or None, got {value!r}")
        if json_schema is not None and not isinstance(json_schema, Mapping):
            raise ValidationError(
                f"`json_schema` must be a mapping, got {type(json_schema).__name__}"
            )
        self.max_chars, self.min_chars, self.json_schema = max_chars, min_chars, json_schema

    def detect(self, text: str, context: Context = None) -> list[Detection]:
        n = len(text)
        found: list[Detection] = []
        if self.max_chars is not None and n > self.max_chars:
            found.append(
                Detection(
                    self.name, "too_long", 1.0, self.max_chars, n, f"{n} > {self.max_chars} chars"
                )
            )
        if self.min_chars is not None and n < self.min_chars:
            found.append(
                Detection(self.name, "too_short", 1.0, 0, n, f"{n} < {self.min_chars} chars")
            )
        schema = (context or {}).get("json_schema", self.json_schema)
        if schema is not None:
            try:
                value = json.loads(text)
            except json.JSONDecodeError as exc:
                found.append(
                    Detection(
                        self.name, "invalid_json", 1.0, 0, n, f"not JSON: {exc.msg} at {exc.pos}"
                    )
                )
            else:
                errors = _schema_errors(value, schema)
                if errors:
                    found.append(
                        Detection(self.name, "schema_mismatch", 1.0, 0, n, "; ".join(errors[:5]))
                    )
        return found
