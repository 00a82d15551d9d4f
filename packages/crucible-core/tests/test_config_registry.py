from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from crucible.core import (
    Completion,
    ConfigurationError,
    Model,
    ModelRegistry,
    SimulatedModel,
    get_model,
    load_config,
    parse_spec,
)


def test_precedence_argument_env_file(tmp_path: Path) -> None:
    path = tmp_path / "crucible.toml"
    path.write_text("[defaults]\ntimeout_s = 30\n[providers.openai]\ntimeout_s = 20\n")
    cfg = load_config(path)
    assert cfg.get("timeout_s", provider="openai", cast=float, environ={}) == 20.0
    assert cfg.get("timeout_s", provider="anthropic", cast=float, environ={}) == 30.0
    env = {"CRUCIBLE_TIMEOUT_S": "10"}
    assert cfg.get("timeout_s", provider="openai", cast=float, environ=env) == 10.0
    env["CRUCIBLE_OPENAI_TIMEOUT_S"] = "5"
    assert cfg.get("timeout_s", provider="openai", cast=float, environ=env) == 5.0
    assert cfg.get("timeout_s", 1.0, provider="openai", cast=float, environ=env) == 1.0


def test_config_errors_name_the_source(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("[defaults\nx=1")
    with pytest.raises(ConfigurationError, match=r"bad\.toml is not valid TOML"):
        load_config(bad)
    with pytest.raises(ConfigurationError, match="does not exist"):
        load_config(tmp_path / "missing.toml")
    with pytest.raises(ConfigurationError, match="CRUCIBLE_TIMEOUT_S='soon'"):
        load_config(environ={}).get("timeout_s", cast=float, environ={"CRUCIBLE_TIMEOUT_S": "soon"})


def test_env_config_path_and_sim_seed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "elsewhere.toml"
    path.write_text("[defaults]\nseed = 9\n")
    monkeypatch.setenv("CRUCIBLE_CONFIG", str(path))
    model = get_model("sim:gpt-4")
    assert isinstance(model, SimulatedModel)
    assert model.seed == 9
    assert get_model("sim:gpt-4", seed=3).seed == 3  # type: ignore[attr-defined]


@pytest.mark.parametrize("spec", ["gpt-4", ":gpt-4", "sim:", "", 42])
def test_malformed_specs_list_known_providers(spec: Any) -> None:
    with pytest.raises(
        ConfigurationError,
        match="Known providers: anthropic, gemini, openai, openai-compatible, sim",
    ):
        get_model(spec)


def test_parse_spec_keeps_colons_in_names() -> None:
    assert parse_spec("openai-compatible:org/model:q4") == ("openai-compatible", "org/model:q4")


class EchoModel:
    def __init__(self, name: str, **options: Any) -> None:
        self.name = name

    async def generate(self, prompt: Any, **params: Any) -> Completion:
        return Completion(text=str(prompt), model=self.name, provider="echo")


def test_register_and_protocol() -> None:
    registry = ModelRegistry()
    registry.register("echo", EchoModel)
    model = registry.get("echo:loud")
    assert isinstance(model, Model)
    assert asyncio.run(model.generate("hi")).text == "hi"
    with pytest.raises(ConfigurationError, match="already registered"):
        registry.register("echo", EchoModel)
    registry.register("echo", EchoModel, replace=True)
    with pytest.raises(ConfigurationError, match="without ':'"):
        registry.register("a:b", EchoModel)


def test_entry_point_providers_load_on_miss(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import importlib.metadata as md

    (tmp_path / "echo_provider_plugin.py").write_text(
        "from crucible.core import Completion\n"
        "class Echo:\n"
        "    def __init__(self, name, **options):\n"
        "        self.name = name\n"
        "    async def generate(self, prompt, **params):\n"
        "        return Completion(text=str(prompt), model=self.name, provider='echo')\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    ep = md.EntryPoint(name="echo", value="echo_provider_plugin:Echo", group="crucible.models")
    broken = md.EntryPoint(
        name="broken", value="no_such_module_xyz:Factory", group="crucible.models"
    )

    def fake_entry_points(**kwargs: Any) -> list[md.EntryPoint]:
        return [ep, broken] if kwargs.get("group") == "crucible.models" else []

    monkeypatch.setattr(md, "entry_points", fake_entry_points)
    registry = ModelRegistry()
    assert "echo" in registry.providers()
    assert asyncio.run(registry.get("echo:x").generate("ok")).text == "ok"
    with pytest.raises(ConfigurationError, match="failed to load"):
        registry.get("broken:x")
    with pytest.raises(ConfigurationError, match=r"unknown provider 'nope'.*broken, echo"):
        registry.get("nope:x")
