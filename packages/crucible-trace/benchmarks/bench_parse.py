"""Parse, render and extract_code throughput on a large messy model output.

Prints one JSON line. Run: ``python packages/crucible-trace/benchmarks/bench_parse.py``.
"""

from __future__ import annotations

import json
import statistics
import time
from pathlib import Path

from crucible.trace import Chain, extract_code, parse, render

EVENTS = 2_000
ROUNDS = 5
CORPUS = Path(__file__).resolve().parents[1] / "tests" / "corpus"


def _messy_text() -> str:
    """The test corpus (clean and broken outputs alike) repeated to about EVENTS blocks."""
    pieces = [p.read_text(encoding="utf-8") for p in sorted(CORPUS.glob("*.txt"))]
    text = "\n\n".join(pieces)
    blocks = text.lower().count("<event")
    return "\n\n".join([text] * (EVENTS // blocks + 1))


def _median_s(fn: object) -> float:
    times = []
    for _ in range(ROUNDS):
        start = time.perf_counter()
        fn()  # type: ignore[operator]
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    text = _messy_text()
    result = parse(text)
    n_blocks = len(result.events) + len({p.event for p in result.problems if not p.recovered})
    parse_s = _median_s(lambda: parse(text))
    extract_s = _median_s(lambda: extract_code(text))
    chain = Chain(name="bench", events=list(result.events))
    rendered = render(chain)
    render_s = _median_s(lambda: render(chain))
    reparse_s = _median_s(lambda: parse(rendered))
    print(
        json.dumps(
            {
                "benchmark": "crucible-trace parse",
                "input_kb": round(len(text) / 1024, 1),
                "event_blocks": n_blocks,
                "events_kept": len(result.events),
                "parse_messy_events_per_s": round(n_blocks / parse_s),
                "parse_messy_mb_per_s": round(len(text) / parse_s / 1e6, 2),
                "extract_code_mb_per_s": round(len(text) / extract_s / 1e6, 2),
                "render_events_per_s": round(len(chain) / render_s),
                "parse_rendered_events_per_s": round(len(chain) / reparse_s),
            }
        )
    )


if __name__ == "__main__":
    main()
