from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from crucible.core.testing import Reply, ScriptedServer
from crucible.framework.cli import installed_packages, main


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("CRUCIBLE_CONFIG", raising=False)


def test_version_lists_every_crucible_package(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--version"]) == 0
    out = capsys.readouterr().out
    assert "crucible-core 0.1.0" in out
    assert "crucible-framework 0.1.0" in out
    assert [name for name, _ in installed_packages()] == sorted(
        name for name, _ in installed_packages()
    )


def test_ask_sim_prints_text_tokens_cost_latency(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["ask", "sim:gpt-4", "What is 2+2?", "--seed", "0"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "4"
    assert "model sim:gpt-4" in out[-1]
    assert "tokens 3 in / 92 out" in out[-1]
    assert "cost $0.005610" in out[-1]
    assert "latency 3654 ms" in out[-1]


def test_ask_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["ask", "sim:model-b", "What is 6*7?", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["provider"] == "sim"
    assert data["usage"]["input_tokens"] == 3
    assert data["cost_usd"] == pytest.approx(
        (3 * 5.0 + data["usage"]["output_tokens"] * 25.0) / 1e6
    )


@pytest.mark.parametrize(
    ("argv", "code", "message"),
    [
        (["ask", "gpt-4", "hi"], 2, "malformed model spec 'gpt-4'"),
        (["ask", "nope:x", "hi"], 2, "unknown provider 'nope'. Known providers: anthropic"),
        (["ask", "sim:gpt-9", "hi"], 2, "unknown simulated model 'gpt-9'"),
        (["ask", "openai:gpt-4o", "hi"], 2, "OPENAI_API_KEY"),
        (
            [
                "ask",
                "openai-compatible:x",
                "hi",
                "--base-url",
                "http://127.0.0.1:9/v1",
                "--retries",
                "0",
            ],
            1,
            "ProviderConnectionError",
        ),
        (["ask", "sim:gpt-4"], 2, "Missing argument 'PROMPT'"),
    ],
)
def test_ask_errors_are_clean(
    argv: list[str],
    code: int,
    message: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    assert main(argv) == code
    err = capsys.readouterr().err
    assert message in err
    assert "Traceback" not in err


@pytest.fixture
async def server() -> AsyncIterator[ScriptedServer]:
    async with ScriptedServer() as s:
        yield s


async def test_ask_against_openai_compatible_server(server: ScriptedServer) -> None:
    server.script(
        Reply({"error": {"message": "busy"}}, 429, {"Retry-After": "0"}),
        Reply(
            {
                "choices": [{"text": " 4", "finish_reason": "stop"}],
                "usage": {"prompt_tokens": 9, "completion_tokens": 1},
                "model": "gemma",
            }
        ),
    )
    # Run the CLI in a subprocess: the server lives on this test's event loop.
    proc = await _run(
        [
            sys.executable,
            "-m",
            "crucible.framework",
            "ask",
            "openai-compatible:gemma",
            "Q: 2+2?\nA:",
            "--base-url",
            server.base_url + "/v1",
            "--endpoint",
            "completions",
            "--max-tokens",
            "1",
        ]
    )
    assert proc[0] == 0, proc[2]
    assert proc[1].splitlines()[0] == " 4"
    assert "tokens 9 in / 1 out" in proc[1]
    assert "cost unpriced" in proc[1]
    assert "no price for 'openai-compatible:gemma'" in proc[2]
    assert len(server.requests) == 2
    assert server.requests[-1].json == {"model": "gemma", "prompt": "Q: 2+2?\nA:", "max_tokens": 1}


async def _run(argv: list[str]) -> tuple[int, str, str]:
    import asyncio

    proc = await asyncio.create_subprocess_exec(
        *argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    return proc.returncode or 0, out.decode(), err.decode()


def test_models_json_lists_providers_presets_prices(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["models", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["providers"] == ["anthropic", "gemini", "openai", "openai-compatible", "sim"]
    assert data["presets"]["gpt-4"]["latency_p99_ms"] == pytest.approx(5000)
    assert data["prices"]["openai:gpt-4o"] == {
        "input": 2.5,
        "output": 10.0,
        "cached_input": 1.25,
        "reasoning": None,
    }


def test_models_table(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["models"]) == 0
    out = capsys.readouterr().out
    assert "Simulated presets" in out and "model-b" in out and "anthropic:claude-sonnet-4-5" in out


def test_facade_reexports_core() -> None:
    import crucible.core
    import crucible.framework

    for name in crucible.core.__all__:
        if name in crucible.framework.__all__ and name != "__version__":
            assert getattr(crucible.framework, name) is getattr(crucible.core, name)
    assert crucible.framework.get_model is crucible.core.get_model


def test_packages_are_lazy_submodules() -> None:
    import crucible.core
    import crucible.framework

    assert crucible.framework.PACKAGES["production_eval"] == "crucible.production_eval"
    with pytest.raises(AttributeError, match="no attribute 'nonsense'"):
        crucible.framework.nonsense  # noqa: B018
    for name, target in crucible.framework.PACKAGES.items():
        try:
            module = getattr(crucible.framework, name)
        except AttributeError as exc:
            assert f"pip install crucible-{name.replace('_', '-')}" in str(exc)
        else:
            assert module.__name__ == target
    assert crucible.core.__name__ == "crucible.core"


def test_harness_commands_are_mounted(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    for command in ("ask", "models", "run", "estimate", "resume", "demo"):
        assert f"  {command} " in out
    code = main(
        ["demo", "--items", "8", "--repeats", "1", "--quiet", "--run-dir", str(tmp_path / "run")]
    )
    assert code == 0
    assert (tmp_path / "run" / "run.duckdb").exists()
    assert main(["resume", str(tmp_path / "missing")]) != 0
    assert "error:" in capsys.readouterr().err


def test_lora_eval_is_mounted(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["lora", "--help"]) == 0
    assert "eval" in capsys.readouterr().out
    assert main(["lora", "eval", "/nonexistent/registry.duckdb", "--dataset", "mmlu"]) != 0


def test_redteam_is_mounted(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert main(["redteam", "--help"]) == 0
    assert "--attacks" in capsys.readouterr().out
    code = main(
        [
            "redteam",
            "--model",
            "sim:gpt-4",
            "--dataset",
            "mmlu",
            "--attacks",
            "nope",
            "--out",
            str(tmp_path / "rt"),
        ]
    )
    assert code == 2
    assert "nope" in capsys.readouterr().err


def test_production_eval_commands_are_mounted(capsys: pytest.CaptureFixture[str]) -> None:
    for command in ("monitor", "abtest", "optimize"):
        assert main([command, "--help"]) == 0
    out = capsys.readouterr().out
    assert "ingest" in out
    assert "design" in out


def test_gate_dispatches_on_run_dir_or_candidate(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    # A finished run: crucible-harness's gate.
    run_dir = tmp_path / "run"
    assert (
        main(["demo", "--items", "12", "--repeats", "1", "--quiet", "--run-dir", str(run_dir)]) == 0
    )
    capsys.readouterr()
    code = main(
        [
            "gate",
            str(run_dir),
            "--require",
            "ensemble_3model >= single_model - 0.5 on multiple_choice",
        ]
    )
    assert code == 0, capsys.readouterr()
    code = main(
        [
            "gate",
            str(run_dir),
            "--require",
            "ensemble_3model >= single_model + 0.9 on multiple_choice",
        ]
    )
    assert code in (1, 2)
    # From scratch: crucible-production-eval's gate (bad input exits 3 with a one-line reason).
    code = main(["gate", "--candidate", "sim:nope", "--baseline", "sim:gpt-4", "--dataset", "mmlu"])
    assert code != 0
    assert main(["gate"]) == 2
