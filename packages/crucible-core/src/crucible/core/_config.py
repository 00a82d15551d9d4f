"""Settings resolved with one precedence: arguments, then ``CRUCIBLE_*`` environment, then ``crucible.toml``.

``crucible.toml`` is read from the path given, else ``$CRUCIBLE_CONFIG``, else ``./crucible.toml``::

    [defaults]
    seed = 7
    timeout_s = 30

    [providers.openai-compatible]
    base_url = "http://127.0.0.1:8080/v1"
    max_retries = 2

    [pricing."openai-compatible:gemma-3-270m"]
    input = 0.0
    output = 0.0

A provider setting is looked up as ``CRUCIBLE_<PROVIDER>_<NAME>`` (provider upper-cased, ``-`` → ``_``),
then ``CRUCIBLE_<NAME>``, then ``[providers.<provider>]``, then ``[defaults]``.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, TypeVar

from crucible.core._errors import ConfigurationError
from crucible.core._pricing import Pricing

__all__ = ["Config", "load_config"]

T = TypeVar("T")


def _env_name(*parts: str) -> str:
    return "_".join(["CRUCIBLE", *(p.upper().replace("-", "_").replace(".", "_") for p in parts)])


class Config:
    """The parsed ``crucible.toml`` (possibly empty) and the precedence rules over it.

    Example:
        >>> cfg = Config({"defaults": {"timeout_s": 30}})
        >>> cfg.get("timeout_s", provider="openai", cast=float, default=60.0, environ={})
        30.0
        >>> cfg.get("timeout_s", 5.0, provider="openai", cast=float, environ={})
        5.0
    """

    def __init__(self, data: Mapping[str, Any] | None = None, *, path: Path | None = None) -> None:
        self.data: dict[str, Any] = dict(data or {})
        self.path = path

    def __repr__(self) -> str:
        return f"Config(path={str(self.path) if self.path else None!r})"

    def get(
        self,
        name: str,
        argument: T | None = None,
        *,
        provider: str | None = None,
        cast: Callable[[Any], T] = lambda v: v,
        default: T | None = None,
        environ: Mapping[str, str] | None = None,
    ) -> T | None:
        """Resolve setting ``name``: argument, environment, ``crucible.toml``, then ``default``."""
        if argument is not None:
            return argument
        env = os.environ if environ is None else environ
        names = ([_env_name(provider, name)] if provider else []) + [_env_name(name)]
        for var in names:
            raw = env.get(var)
            if raw is not None and raw != "":
                try:
                    return cast(raw)
                except (TypeError, ValueError) as exc:
                    raise ConfigurationError(
                        f"environment variable {var}={raw!r} is invalid: {exc}"
                    ) from exc
        tables: list[tuple[str, Mapping[str, Any]]] = []
        if provider:
            tables.append((f"[providers.{provider}]", self._table("providers", provider)))
        tables.append(("[defaults]", self._table("defaults")))
        for where, table in tables:
            if name in table:
                try:
                    return cast(table[name])
                except (TypeError, ValueError) as exc:
                    raise ConfigurationError(
                        f"{self.path or 'crucible.toml'}: {where} {name} = {table[name]!r} is invalid: {exc}"
                    ) from exc
        return default

    def value(
        self,
        name: str,
        argument: T | None,
        *,
        default: T,
        provider: str | None = None,
        cast: Callable[[Any], T] = lambda v: v,
    ) -> T:
        """Like :meth:`get`, for settings that always have a value."""
        found = self.get(name, argument, provider=provider, cast=cast)
        return default if found is None else found

    def _table(self, *keys: str) -> Mapping[str, Any]:
        node: Any = self.data
        for key in keys:
            if not isinstance(node, Mapping):
                return {}
            node = node.get(key, {})
        return node if isinstance(node, Mapping) else {}

    def pricing(self, overrides: Mapping[str, Any] | None = None) -> Pricing:
        """The price table: defaults, then ``[pricing]`` from the file, then ``overrides``."""
        merged: dict[str, Any] = dict(self._table("pricing"))
        merged.update(overrides or {})
        version = self._table("pricing_table").get("version")
        return Pricing(merged, version=version) if merged or version else Pricing()


def load_config(
    path: str | os.PathLike[str] | None = None, *, environ: Mapping[str, str] | None = None
) -> Config:
    """Read ``crucible.toml`` (explicit path, ``$CRUCIBLE_CONFIG``, or ``./crucible.toml``).

    A missing default file gives an empty config; a missing explicit file or invalid TOML raises
    :class:`ConfigurationError` naming the file.
    """
    env = os.environ if environ is None else environ
    explicit = path if path is not None else env.get("CRUCIBLE_CONFIG")
    candidate = Path(explicit) if explicit else Path.cwd() / "crucible.toml"
    if not candidate.exists():
        if explicit:
            raise ConfigurationError(
                f"config file {candidate} does not exist (from `path` or CRUCIBLE_CONFIG)"
            )
        return Config()
    if candidate.is_dir():
        raise ConfigurationError(
            f"config path {candidate} is a directory; point it at a crucible.toml file"
        )
    try:
        data = tomllib.loads(candidate.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigurationError(f"{candidate} is not valid TOML: {exc}") from exc
    return Config(data, path=candidate)
