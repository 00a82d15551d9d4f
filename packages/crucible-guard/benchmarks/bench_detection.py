"""Detection quality of the default Guard on the labelled corpus (corpus/detection.jsonl).

Prints one JSON line: per attack category (prompt_injection, jailbreak) the recall of the
detector of that name on prompts labelled with it and its precision against benign prompts; the binary attack-vs-benign precision/recall/F1 of the whole guard
(input checks, default threshold); the false-positive rate on benign prompts overall and on the
hand-written look-alikes; recall per source and per evasion. Run from anywhere:

    python packages/crucible-guard/benchmarks/bench_detection.py
"""

from __future__ import annotations

import json
import time
from collections import defaultdict
from pathlib import Path

from crucible.guard import Guard

CORPUS = Path(__file__).parent / "corpus" / "detection.jsonl"
CATEGORIES = ("prompt_injection", "jailbreak")


def _prf(tp: int, fp: int, fn: int) -> dict[str, float]:
    p = tp / (tp + fp) if tp + fp else float("nan")
    r = tp / (tp + fn) if tp + fn else float("nan")
    f = 2 * p * r / (p + r) if p + r else 0.0
    return {
        "precision": round(p, 4),
        "recall": round(r, 4),
        "f1": round(f, 4),
        "tp": tp,
        "fp": fp,
        "fn": fn,
    }


def main() -> None:
    rows = [json.loads(line) for line in CORPUS.read_text().split("\n") if line]
    guard = Guard(["prompt_injection", "jailbreak"])
    t0 = time.perf_counter()
    fired: list[set[str]] = []
    for row in rows:
        result = guard.check_input(row["text"])
        fired.append({d.detector for d in result.violations})
    elapsed = time.perf_counter() - t0

    per_category = {}
    for cat in CATEGORIES:
        tp = sum(1 for r, f in zip(rows, fired, strict=True) if r["label"] == cat and cat in f)
        # A detector firing on an attack of the other category is not a false positive (DAN
        # prompts also override instructions): precision is against benign prompts only.
        fp = sum(1 for r, f in zip(rows, fired, strict=True) if r["label"] == "benign" and cat in f)
        fn = sum(1 for r, f in zip(rows, fired, strict=True) if r["label"] == cat and cat not in f)
        per_category[cat] = _prf(tp, fp, fn)
    attack = [r["label"] != "benign" for r in rows]
    flagged = [bool(f) for f in fired]
    tp = sum(a and f for a, f in zip(attack, flagged, strict=True))
    fp = sum((not a) and f for a, f in zip(attack, flagged, strict=True))
    fn = sum(a and not f for a, f in zip(attack, flagged, strict=True))
    by_source: dict[str, list[bool]] = defaultdict(list)
    for r, f in zip(rows, flagged, strict=True):
        by_source[r["source"]].append(f)
    benign = [f for r, f in zip(rows, flagged, strict=True) if r["label"] == "benign"]
    hard = by_source["handwritten:hard-benign"]
    print(
        json.dumps(
            {
                "bench": "guard_detection",
                "n": len(rows),
                "n_attacks": sum(attack),
                "n_benign": len(benign),
                "per_category": per_category,
                "attack_vs_benign": _prf(tp, fp, fn),
                "false_positive_rate_benign": round(sum(benign) / len(benign), 4),
                "false_positive_rate_hard_benign": round(sum(hard) / len(hard), 4),
                "flag_rate_by_source": {
                    k: round(sum(v) / len(v), 4) for k, v in sorted(by_source.items())
                },
                "ms_per_prompt": round(elapsed / len(rows) * 1000, 3),
            }
        )
    )


if __name__ == "__main__":
    main()
