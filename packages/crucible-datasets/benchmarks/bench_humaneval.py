"""All 164 HumanEval canonical solutions in the sandbox, concurrency 2, per backend.

Prints one JSON line.
"""

from __future__ import annotations

import json
import time

from crucible.datasets import available_backends, evaluate_code, load


def main() -> None:
    problems = load("humaneval")
    completions = {item.id: [item.expected] for item in problems}
    figures = {}
    for backend in available_backends():
        start = time.perf_counter()
        evaluation = evaluate_code(problems, completions, backend=backend, concurrency=2)
        figures[backend.value] = {
            "seconds": time.perf_counter() - start,
            "pass@1": evaluation.pass_at_k[1],
        }
    print(json.dumps({"benchmark": "humaneval_canonical_164", "concurrency": 2, **figures}))


if __name__ == "__main__":
    main()
