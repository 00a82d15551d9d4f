"""Ask the five simulated demo models the same questions and compare accuracy, cost and latency.

Runs offline in about a second: python examples/simulated_models.py
"""

from __future__ import annotations

import asyncio

from crucible.core import Item, get_model

QUESTIONS = [
    Item(f"q{i}", f"What is {a}+{b}?", expected=str(a + b))
    for i, (a, b) in enumerate((a, b) for a in range(1, 11) for b in range(1, 11))
]


async def main() -> None:
    for name in ("gpt-4", "claude-3", "gemini-pro", "llama-3", "mixtral"):
        model = get_model(f"sim:{name}", seed=42)
        correct = cost = latency = failures = 0
        for item in QUESTIONS:
            try:
                c = await model.generate(item.input, item=item)
            except Exception as exc:  # simulated 1 % provider errors
                failures += 1
                print(f"  {name} {item.id}: {type(exc).__name__}")
                continue
            correct += c.text == item.expected
            cost += c.cost_usd or 0.0
            latency += c.latency_ms
        answered = len(QUESTIONS) - failures
        print(
            f"{name:10s} accuracy {correct / answered:.1%}  cost ${cost:.4f}  "
            f"mean latency {latency / answered:.0f} ms  errors {failures}"
        )


if __name__ == "__main__":
    asyncio.run(main())
