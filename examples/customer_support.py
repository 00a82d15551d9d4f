"""Example 10: customer-support ticket classification — keep the production model or deploy an
ensemble?

80 bundled tickets (``data/support_tickets.jsonl``: billing, technical, account, general). The
production condition is one model at temperature 0; the proposal is a weighted three-model
ensemble. Both classify every ticket (paired analysis). The deployment decision follows the
guide: a release gate (the ensemble may lose at most 2 points of accuracy and must keep the
P95 latency under the 2 s SLA), and the return on investment when a misclassification costs $5
of agent time.

    python examples/customer_support.py [--fast]

Simulated members wait out their simulated latency on crucible.hedging's virtual clock, so an
ensemble's latency (the wall time of its slowest needed member) is meaningful and the run
still takes well under a second of real time.
"""

from __future__ import annotations

import json
from pathlib import Path

from _common import fast_mode, print_analysis, run_experiment

from crucible.core import Item, SimulatedModel
from crucible.datasets import Dataset
from crucible.ensemble import Ensemble
from crucible.harness import Analysis, Budget, Condition, Experiment, Limits, gate

DATA = Path(__file__).with_name("data") / "support_tickets.jsonl"
PROMPT = (
    "Classify this customer support ticket into one category:\n- billing\n- technical\n"
    "- account\n- general\n\nTicket: {input}\n\nCategory:"
)
ERROR_COST_USD = 5.0
P95_SLA_MS = 2000.0
REQUIREMENTS = ("proposed_ensemble >= production_single - 0.02 on accuracy",)


def tickets(limit: int | None = None) -> Dataset:
    lines = DATA.read_text(encoding="utf-8").splitlines()
    items = [Item.from_dict(json.loads(line)) for line in lines if line.strip()]
    return Dataset("support_tickets", items[:limit] if limit else items)


def build(fast: bool) -> Experiment:
    members = [
        SimulatedModel(m, seed=5, time_scale=1.0) for m in ("gemini-pro", "gpt-4", "claude-3")
    ]
    return Experiment(
        "customer-support",
        tickets(40 if fast else None),
        [
            Condition(
                "production_single",
                SimulatedModel("gpt-4", seed=5, time_scale=1.0),
                prompt=PROMPT,
                params={"temperature": 0.0},
                description="current production model",
            ),
            Condition(
                "proposed_ensemble",
                Ensemble(members, voting="weighted", weights=(0.90, 0.94, 0.93), name="weighted-3"),
                prompt=PROMPT,
                description="proposed 3-model weighted ensemble",
            ),
        ],
        scorers=["exact_match"],
        repeats=1 if fast else 3,
        seed=5,
        limits=Limits(concurrency=32, backoff_base_s=0.001, backoff_max_s=0.002),
        budget=Budget(usd=50.0, confirm_above_usd=None),
    )


def roi(analysis: Analysis) -> dict[str, float]:
    """Per 1000 tickets: error cost saved, extra model cost, net benefit (the guide's ROI)."""
    base = analysis.descriptive("accuracy", "production_single").mean
    prop = analysis.descriptive("accuracy", "proposed_ensemble").mean
    base_cost = analysis.descriptive("cost_usd", "production_single").mean
    prop_cost = analysis.descriptive("cost_usd", "proposed_ensemble").mean
    savings = (prop - base) * 1000 * ERROR_COST_USD
    extra = (prop_cost - base_cost) * 1000
    return {"error_cost_saved": savings, "additional_cost": extra, "net_benefit": savings - extra}


def main(fast: bool = False, run_dir: str | None = None, report: bool = True) -> Analysis:
    analysis = run_experiment(
        build(fast), run_dir, hypotheses=REQUIREMENTS, report=report, virtual_clock=True
    )
    print_analysis(analysis, ("accuracy", "latency_ms", "cost_usd"))
    verdict = gate(analysis.run_dir, REQUIREMENTS)
    print(verdict)
    p95 = analysis.descriptive("latency_ms", "proposed_ensemble").p95
    print(f"proposed P95 latency {p95:.0f} ms (SLA {P95_SLA_MS:.0f} ms)")
    numbers = roi(analysis)
    print({k: round(v, 2) for k, v in numbers.items()})
    deploy = verdict.passed and p95 <= P95_SLA_MS and numbers["net_benefit"] > 0
    print("recommendation:", "deploy the ensemble" if deploy else "keep the production model")
    return analysis


if __name__ == "__main__":
    main(fast_mode())
