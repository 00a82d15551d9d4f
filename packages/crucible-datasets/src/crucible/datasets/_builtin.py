"""Parsers for the built-in datasets' published formats (bytes in, items out).

Each parser names the file and line of anything malformed.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import string
from typing import Any

from crucible.core import DatasetError, Item, Seeds

__all__ = ["parse_gsm8k", "parse_humaneval", "parse_mmlu", "parse_truthfulqa_mc1"]

LETTERS = string.ascii_uppercase


def _text(data: bytes, where: str) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise DatasetError(f"{where}: not UTF-8 text at byte {exc.start}") from None


def parse_mmlu(data: bytes, *, subject: str, split: str, where: str) -> list[Item]:
    """One header-less MMLU CSV (``question,A,B,C,D,answer``)."""
    reader = csv.reader(io.StringIO(_text(data, where), newline=""))
    items = []
    for index, row in enumerate(reader):
        line = reader.line_num
        if len(row) != 6:
            raise DatasetError(
                f"{where} line {line}: expected 6 fields (question,A,B,C,D,answer), got {len(row)}"
            )
        question, *choices, answer = row
        answer = answer.strip()
        if answer not in ("A", "B", "C", "D"):
            raise DatasetError(f"{where} line {line}: answer must be A-D, got {answer!r}")
        items.append(
            Item(
                id=f"mmlu/{subject}/{split}/{index}",
                input=question,
                expected=answer,
                metadata={"subject": subject, "choices": choices},
            )
        )
    return items


def gsm8k_final_answer(solution: str) -> str | None:
    """The number after the last ``####`` of a GSM8K solution, commas removed."""
    if "####" not in solution:
        return None
    return solution.rsplit("####", 1)[1].strip().replace(",", "")


def parse_gsm8k(data: bytes, *, split: str, where: str) -> list[Item]:
    """GSM8K JSON Lines (``question``, ``answer`` ending in ``#### <number>``)."""
    items = []
    for index, record in enumerate(_jsonl(data, where)):
        line, row = record
        for key in ("question", "answer"):
            if not isinstance(row.get(key), str):
                raise DatasetError(f"{where} line {line}: missing string field {key!r}")
        final = gsm8k_final_answer(row["answer"])
        if not final:
            raise DatasetError(f"{where} line {line}: answer has no '#### <number>' final line")
        items.append(
            Item(
                id=f"gsm8k/{split}/{index}",
                input=row["question"],
                expected=final,
                metadata={"solution": row["answer"]},
            )
        )
    return items


def parse_humaneval(data: bytes, *, where: str) -> list[Item]:
    """HumanEval (gzip-compressed JSON Lines)."""
    try:
        raw = gzip.decompress(data)
    except (OSError, EOFError) as exc:
        raise DatasetError(f"{where}: not a valid gzip file ({exc})") from None
    items = []
    for line, row in _jsonl(raw, where):
        missing = [
            k
            for k in ("task_id", "prompt", "canonical_solution", "test", "entry_point")
            if not isinstance(row.get(k), str)
        ]
        if missing:
            raise DatasetError(f"{where} line {line}: missing fields {', '.join(missing)}")
        items.append(
            Item(
                id=row["task_id"],
                input=row["prompt"],
                expected=row["canonical_solution"],
                metadata={
                    "prompt": row["prompt"],
                    "test": row["test"],
                    "entry_point": row["entry_point"],
                    "canonical_solution": row["canonical_solution"],
                },
            )
        )
    return items


def parse_truthfulqa_mc1(csv_data: bytes, mc_data: bytes, *, where: str) -> list[Item]:
    """TruthfulQA MC1: one true answer among 2-13 options.

    Upstream lists the true answer first; options are shuffled here with a fixed, per-question
    seed (``Seeds(0).generator("truthfulqa-mc1", index)``) so the letter is not always ``A``
    and is the same on every machine.
    """
    try:
        tasks = json.loads(_text(mc_data, where))
    except json.JSONDecodeError as exc:
        raise DatasetError(f"{where}: invalid JSON at line {exc.lineno}: {exc.msg}") from None
    rows = list(csv.DictReader(io.StringIO(_text(csv_data, where), newline="")))
    if len(rows) != len(tasks):
        raise DatasetError(
            f"{where}: TruthfulQA.csv has {len(rows)} rows but mc_task.json has {len(tasks)}"
        )
    seeds = Seeds(0)
    items = []
    for index, (task, row) in enumerate(zip(tasks, rows, strict=True)):
        targets: dict[str, int] = task["mc1_targets"]
        options = list(targets)
        order = seeds.generator("truthfulqa-mc1", index).permutation(len(options))
        choices = [options[int(i)] for i in order]
        correct = [c for c in choices if targets[c] == 1]
        if len(correct) != 1 or task["question"] != row["Question"]:
            raise DatasetError(f"{where} question {index}: malformed MC1 targets or row order")
        items.append(
            Item(
                id=f"truthfulqa/{index}",
                input=task["question"],
                expected=LETTERS[choices.index(correct[0])],
                metadata={
                    "choices": choices,
                    "category": row["Category"],
                    "type": row["Type"],
                    "best_answer": row["Best Answer"],
                },
            )
        )
    return items


def _jsonl(data: bytes, where: str) -> list[tuple[int, dict[str, Any]]]:
    rows = []
    for number, line in enumerate(_text(data, where).splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise DatasetError(
                f"{where} line {number}: malformed JSON ({exc.msg} at column {exc.colno}); "
                "each line must be one JSON object"
            ) from None
        if not isinstance(row, dict):
            raise DatasetError(
                f"{where} line {number}: expected a JSON object, got {type(row).__name__}"
            )
        rows.append((number, row))
    if not rows:
        raise DatasetError(f"{where}: the file is empty (no JSON lines)")
    return rows
