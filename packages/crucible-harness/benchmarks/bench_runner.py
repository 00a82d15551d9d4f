"""Runner throughput: crucible-harness against Inspect AI on 2 000 samples.

* zero-latency model + string-match scorer: samples/s timed as a whole process (start-up
  included) and as the run call alone, for crucible-harness and for Inspect AI (its
  ``mockllm/model`` with the ``match()`` scorer);
* a model that sleeps 50 ms, 2 000 samples at concurrency 200: ideal wall time 0.5 s, compared
  with the run call (which also creates, fills and closes the DuckDB run directory) and with
  the span from the first trial's start to the last trial's end.

Prints one JSON line. Inspect AI runs in the interpreter named by ``$INSPECT_PYTHON`` (default:
this one); without it installed its figures are null with the reason.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import tempfile
import textwrap
import time

N = 2000
SLEEP_S = 0.05
CONCURRENCY = 200

CRUCIBLE = textwrap.dedent(
    """
    import asyncio, json, sys, tempfile, time
    from crucible.core import Completion, Item, Usage
    from crucible.harness import Condition, Experiment, Limits, run

    N, SLEEP, CONCURRENCY = int(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3])

    class Echo:
        spec = "bench:echo"

        async def generate(self, prompt, **params):
            if SLEEP:
                await asyncio.sleep(SLEEP)
            item = params["item"]
            return Completion(item.expected, "echo", "bench", Usage(8, 2), cost_usd=0.0)

    items = [Item(str(i), f"Say {i}", str(i)) for i in range(N)]
    experiment = Experiment(
        "bench", items, [Condition("echo", Echo())], scorers=["exact_match"],
        limits=Limits(concurrency=CONCURRENCY),
    )
    t0 = time.perf_counter()
    result = asyncio.run(run(experiment, tempfile.mkdtemp()))
    elapsed = time.perf_counter() - t0
    trials = result.trials
    assert trials.height == N and trials["score_exact_match"].sum() == N
    span = (trials["finished_at"].max() - trials["started_at"].min()).total_seconds()
    print(json.dumps({"run_s": elapsed, "trials_span_s": span}))
    """
)

INSPECT = textwrap.dedent(
    """
    import json, sys, tempfile, time
    from inspect_ai import Task, eval
    from inspect_ai.dataset import Sample
    from inspect_ai.model import ModelAPI
    from inspect_ai.scorer import match
    from inspect_ai.solver import generate

    N = int(sys.argv[1])

    # mockllm counts prompt tokens with tiktoken, whose encoding is downloaded on first use;
    # count characters / 4 instead so the benchmark runs offline (this only makes Inspect faster).
    async def _count_text_tokens(self, text):
        return max(1, len(text) // 4)

    ModelAPI.count_text_tokens = _count_text_tokens
    task = Task(
        dataset=[Sample(input=f"Say {i}", target=str(i)) for i in range(N)],
        solver=generate(),
        scorer=match(),
    )
    t0 = time.perf_counter()
    logs = eval(task, model="mockllm/model", log_dir=tempfile.mkdtemp(), display="none",
                max_connections=16, max_samples=16)
    elapsed = time.perf_counter() - t0
    assert logs[0].status == "success" and len(logs[0].samples) == N
    print(json.dumps({"run_s": elapsed}))
    """
)


def _process(python: str, code: str, *args: object) -> dict[str, float]:
    t0 = time.perf_counter()
    out = subprocess.run(
        [python, "-c", code, *map(str, args)], capture_output=True, text=True, check=False
    )
    total = time.perf_counter() - t0
    if out.returncode != 0:
        raise RuntimeError(out.stderr.strip().splitlines()[-1] if out.stderr else "failed")
    inner = json.loads(out.stdout.strip().splitlines()[-1])
    return {
        **inner,
        "process_s": total,
        "samples_per_s_process": N / total,
        "samples_per_s_run": N / inner["run_s"],
    }


def _best(python: str, code: str, *args: object, repeats: int = 3) -> dict[str, float]:
    runs = [_process(python, code, *args) for _ in range(repeats)]
    return min(runs, key=lambda r: r["run_s"])


def main() -> None:
    crucible = _best(sys.executable, CRUCIBLE, N, 0.0, 16)
    sleeping = _best(sys.executable, CRUCIBLE, N, SLEEP_S, CONCURRENCY)
    ideal = N * SLEEP_S / CONCURRENCY
    inspect_python = os.environ.get("INSPECT_PYTHON", sys.executable)
    inspect: dict[str, object] | None
    try:
        found = _best(inspect_python, INSPECT, N, repeats=1)  # about a minute per run
        inspect = {**found, "python": inspect_python}
    except RuntimeError as exc:
        inspect = {"error": str(exc)}
    speedup: dict[str, float | None] = {"process": None, "run": None}
    if inspect is not None and "run_s" in inspect:
        speedup = {
            "process": crucible["samples_per_s_process"] / float(inspect["samples_per_s_process"]),  # type: ignore[arg-type]
            "run": crucible["samples_per_s_run"] / float(inspect["samples_per_s_run"]),  # type: ignore[arg-type]
        }
    print(
        json.dumps(
            {
                "benchmark": "runner",
                "n": N,
                "crucible_zero_latency": crucible,
                "inspect_ai_zero_latency": inspect,
                "speedup_vs_inspect_ai": speedup,
                "crucible_sleep_50ms_c200": {
                    **sleeping,
                    "ideal_s": ideal,
                    "run_over_ideal": sleeping["run_s"] / ideal,
                    "trials_span_over_ideal": sleeping["trials_span_s"] / ideal,
                },
                "cpus": os.cpu_count(),
                "python": platform.python_version(),
                "tmp": tempfile.gettempdir(),
            }
        )
    )


if __name__ == "__main__":
    main()
