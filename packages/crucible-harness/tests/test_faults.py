"""A local OpenAI-compatible server injecting 20 % faults: 429, 500, hangs, truncated JSON."""

from __future__ import annotations

import random
import re
from collections import Counter
from pathlib import Path

import polars as pl

from crucible.core import Pricing, get_model
from crucible.core.testing import Recorded, Reply, ScriptedServer
from crucible.harness import Condition, Limits, RateLimit, RunStatus, run

from .conftest import experiment

QUESTION = re.compile(r"What is (\d+) \+ (\d+)\?")
#: Fault kind served -> the error type the run must record for it.
RECORDED_AS = {
    "429": "RateLimitError",
    "500": "ServerError",
    "hang": "ProviderTimeoutError",
    "truncated": "BadResponseError",
}


class FaultyProvider:
    """Answers additions correctly, except for 20 % of requests (5 % of each fault kind)."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.served: Counter[str] = Counter()

    def __call__(self, request: Recorded) -> Reply:
        u = self.rng.random()
        kind = "ok" if u >= 0.2 else ("429", "500", "hang", "truncated")[int(u / 0.05)]
        self.served[kind] += 1
        if kind == "429":
            return Reply({"error": {"message": "slow down"}}, 429, {"Retry-After": "0.01"})
        if kind == "500":
            return Reply({"error": {"message": "overloaded"}}, 500)
        if kind == "hang":
            return Reply(hang_s=30.0)
        if kind == "truncated":
            return Reply(raw=b'{"id": "r1", "choices": [{"message": {"role": "assist')
        text = request.json["messages"][-1]["content"]
        match = QUESTION.search(text)
        answer = str(int(match.group(1)) + int(match.group(2))) if match else "?"
        return Reply(
            {
                "id": "r1",
                "model": "fake",
                "choices": [
                    {"message": {"role": "assistant", "content": answer}, "finish_reason": "stop"}
                ],
                "usage": {"prompt_tokens": 12, "completion_tokens": 2},
            }
        )


async def test_run_completes_through_injected_faults_and_records_every_error(
    tmp_path: Path,
) -> None:
    provider = FaultyProvider(seed=3)
    async with ScriptedServer(provider) as server:
        model = get_model(
            "openai-compatible:fake",
            base_url=server.base_url + "/v1",
            max_retries=0,
            pricing=Pricing({"openai-compatible:fake": {"input": 1.0, "output": 2.0}}),
        )
        exp = experiment(
            n=40,
            repeats=2,
            conditions=[Condition("remote", model, params={"temperature": 0})],
            limits=Limits(
                concurrency=16,
                timeout_s=0.5,
                max_retries=10,
                backoff_base_s=0.001,
                backoff_max_s=0.01,
                rate_limit=RateLimit(rpm=60_000),
            ),
        )
        try:
            result = await run(exp, tmp_path)
        finally:
            await model.aclose()  # type: ignore[attr-defined]
        requests = len(server.requests)

    trials, attempts = result.trials, result.attempts
    assert result.status is RunStatus.COMPLETE
    assert trials.height == 80
    assert trials.select("condition", "item_id", "repeat").unique().height == 80
    assert trials["error_type"].null_count() == 80
    assert trials["score_numeric"].to_list() == [1.0] * 80
    assert sum(provider.served[k] for k in RECORDED_AS) > 0.1 * requests  # faults were served

    # Every request the server answered is one recorded attempt, and every fault one error.
    assert attempts.height == requests
    recorded = Counter(attempts["error_type"].drop_nulls().to_list())
    assert recorded == Counter({RECORDED_AS[k]: n for k, n in provider.served.items() if k != "ok"})
    per_trial = attempts.group_by("condition", "item_id", "repeat").agg(pl.len().alias("n"))
    joined = trials.join(per_trial, on=["condition", "item_id", "repeat"])
    assert (joined["attempts"] == joined["n"]).all()
    assert trials["cost_usd"].to_list() == [12e-6 + 4e-6] * 80
