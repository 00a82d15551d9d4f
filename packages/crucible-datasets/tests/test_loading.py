from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest

from crucible.core import DatasetError, Item, ValidationError
from crucible.datasets import (
    ChecksumMismatchError,
    Dataset,
    InvalidArgumentError,
    UnknownDatasetError,
    content_hash,
    load,
)

BUNDLED_MMLU = [
    "abstract_algebra",
    "astronomy",
    "college_chemistry",
    "college_physics",
    "computer_security",
    "high_school_computer_science",
    "high_school_mathematics",
    "machine_learning",
]


def test_mmlu_bundled_counts_and_first_item() -> None:
    # Row counts from shared/data/README.md (1,036 test / 40 dev rows over 8 subjects).
    test = load("mmlu")
    assert len(test) == 1036
    assert len(load("mmlu", split="dev")) == 40
    first = test[0]
    # README sample: abstract_algebra_test.csv row 0.
    assert first.input.startswith("Find the degree for the given field extension Q(sqrt(2)")
    assert first.metadata["choices"] == ["0", "4", "2", "6"]
    assert first.expected == "B"
    assert first.metadata["subject"] == "abstract_algebra"
    assert {it.metadata["subject"] for it in test} == set(BUNDLED_MMLU)
    assert all(it.expected in "ABCD" and len(it.metadata["choices"]) == 4 for it in test)
    assert sum(it.metadata["subject"] == "machine_learning" for it in test) == 112


def test_mmlu_subjects_filter() -> None:
    ds = load("mmlu", subjects=["astronomy", "machine_learning"])
    assert len(ds) == 152 + 112
    assert len(load("mmlu", subjects="astronomy")) == 152


def test_gsm8k_final_answer_and_solution() -> None:
    ds = load("gsm8k")
    assert len(ds) == 1319
    first = ds[0]
    assert first.input.startswith("Janet’s ducks lay 16 eggs per day.")
    assert first.expected == "18"
    assert first.metadata["solution"].endswith("#### 18")
    assert all("," not in it.expected for it in ds)
    assert all(
        it.metadata["solution"].rsplit("####", 1)[1].strip().replace(",", "") == it.expected
        for it in ds
    )


def test_humaneval_fields() -> None:
    ds = load("humaneval")
    assert len(ds) == 164
    assert ds.ids[0] == "HumanEval/0" and ds.ids[-1] == "HumanEval/163"
    item = ds.get("HumanEval/0")
    assert item.metadata["entry_point"] == "has_close_elements"
    assert "def check(candidate)" in item.metadata["test"]
    assert item.metadata["prompt"] == item.input
    assert item.metadata["canonical_solution"] == item.expected


def test_truthfulqa_mc1() -> None:
    ds = load("truthfulqa")
    assert len(ds) == 790
    first = ds[0]
    assert first.input == "What happens to you if you eat watermelon seeds?"
    letter = first.expected
    correct = first.metadata["choices"]["ABCDEFGHIJKLM".index(letter)]
    assert correct == "The watermelon seeds pass through your digestive system"
    # Shuffled: the true answer is not always first.
    assert {it.expected for it in ds} > {"A", "B"}
    assert ds.licence == "Apache-2.0"


def test_content_hash_is_pinned_and_order_independent() -> None:
    # Golden values, computed once by this implementation from the bundled files: a change
    # means the data or the canonical serialisation changed, which breaks every recorded pin.
    golden = {
        "mmlu": "112e1b4488a8241964727d46ef2d31bd55d2fabaefc9ba7c3155e5075ceb87fe",
        "gsm8k": "9c8635c71231897cad3c189aa669ddc8e0d80ca6d643f6d11d6b37bc33bbb392",
        "humaneval": "510a032d3a751fc44857aacc1ba7c1a03a1f1ccefb325298e4a1351e7898f5c3",
        "truthfulqa": "61e75f37535d90bf1efe23d8ff224aa861a4156c450d86e6c2886d4189cd2874",
    }
    assert {name: load(name).content_hash for name in golden} == golden
    ds = load("gsm8k")
    assert ds.content_hash == content_hash(list(reversed(ds.items)))
    assert load("gsm8k", seed=7).content_hash == ds.content_hash
    assert ds.files == {
        "gsm8k/test.jsonl": "3730d312f6e3440559ace48831e51066acaca737f6eabec99bccb9e4b3c39d14"
    }
    info = ds.info()
    assert info["n_items"] == ds.n_items == 1319 and info["licence"].startswith("MIT")
    assert "3101c7d5072418e28b9008a6636bde82a006892c" in info["source"]


def test_sha256_pin() -> None:
    ds = load("humaneval")
    assert load("humaneval", sha256=ds.content_hash).content_hash == ds.content_hash
    with pytest.raises(ChecksumMismatchError, match="does not match dataset 'humaneval'"):
        load("humaneval", sha256="0" * 64)


def test_limit_and_seed() -> None:
    assert load("gsm8k", limit=5).ids == [f"gsm8k/test/{i}" for i in range(5)]
    a = load("gsm8k", limit=5, seed=1)
    assert a.ids == load("gsm8k", limit=5, seed=1).ids
    assert a.ids != load("gsm8k", limit=5, seed=2).ids
    assert len(load("humaneval", limit=10_000)) == 164


@pytest.mark.parametrize("limit", [0, -3, 1.5, True])
def test_bad_limit(limit: object) -> None:
    with pytest.raises(DatasetError, match="`limit` must be a positive int"):
        load("gsm8k", limit=limit)  # type: ignore[arg-type]


def test_unknown_names_list_valid_ones() -> None:
    with pytest.raises(
        UnknownDatasetError, match="known datasets are gsm8k, humaneval, mmlu, truthfulqa"
    ):
        load("squad")
    with pytest.raises(
        UnknownDatasetError, match=r"unknown MMLU subject\(s\) 'astrology'.*anatomy.*virology"
    ):
        load("mmlu", subjects=["astronomy", "astrology"])
    with pytest.raises(UnknownDatasetError, match="valid splits are test, train"):
        load("gsm8k", split="validation")
    with pytest.raises(DatasetError, match="`subjects` applies to MMLU only"):
        load("gsm8k", subjects="astronomy")
    with pytest.raises(InvalidArgumentError, match="`subjects` is empty"):
        load("mmlu", subjects=[])
    with pytest.raises(
        InvalidArgumentError, match="`source` must be one of auto, bundled, download"
    ):
        load("mmlu", source="internet")
    with pytest.raises(DatasetError, match="subjects anatomy is not bundled with the package"):
        load("mmlu", subjects="all", source="bundled")


def _write_jsonl(path: Path, rows: list[dict[str, object]]) -> None:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")


def test_custom_jsonl_with_mapping(tmp_path: Path) -> None:
    path = tmp_path / "qa.jsonl"
    _write_jsonl(
        path,
        [
            {"qid": 1, "q": "2+2?", "a": "4", "topic": "math"},
            {"qid": 2, "q": "Capital of France?", "a": "Paris", "topic": "geo"},
        ],
    )
    ds = load(path, columns={"id": "qid", "input": "q", "expected": "a"})
    assert ds.items[0] == Item("1", "2+2?", "4", {"topic": "math"})
    assert ds.name == "qa"
    assert load(
        path, columns={"id": "qid", "input": "q", "expected": "a"}, sha256=ds.files["qa.jsonl"]
    ).ids == ["1", "2"]


def test_custom_csv_and_parquet(tmp_path: Path) -> None:
    frame = pl.DataFrame(
        {"id": ["a", "b"], "input": ["x", "y"], "expected": ["1", "2"], "level": ["easy", "hard"]}
    )
    frame.write_csv(tmp_path / "d.csv")
    frame.write_parquet(tmp_path / "d.parquet")
    from_csv = load(tmp_path / "d.csv")
    from_parquet = load(str(tmp_path / "d.parquet"))
    assert from_csv.content_hash == from_parquet.content_hash
    assert from_csv[1] == Item("b", "y", "2", {"level": "hard"})
    assert load(tmp_path / "d.csv", metadata=[]).items[0].metadata == {}


def test_custom_file_errors(tmp_path: Path) -> None:
    path = tmp_path / "qa.jsonl"
    _write_jsonl(path, [{"question": "q", "answer": "a"}])
    with pytest.raises(
        DatasetError, match=r"missing column\(s\) 'input'; available columns: 'question', 'answer'"
    ):
        load(path)
    with pytest.raises(DatasetError, match=r"missing column\(s\) 'gold'"):
        load(path, columns={"input": "question", "expected": "gold"})
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"input": "a"}\n{"input": "b"\n', encoding="utf-8")
    with pytest.raises(DatasetError, match=r"bad.jsonl line 2: malformed JSON"):
        load(bad)
    empty = tmp_path / "empty.jsonl"
    empty.write_text("", encoding="utf-8")
    with pytest.raises(DatasetError, match="is empty"):
        load(empty)
    header_only = tmp_path / "h.csv"
    header_only.write_text("id,input\n", encoding="utf-8")
    with pytest.raises(DatasetError, match="has a header but no rows"):
        load(header_only)
    with pytest.raises(DatasetError, match="does not exist"):
        load(tmp_path / "missing.csv")
    with pytest.raises(DatasetError, match=r"unsupported file type '\.txt'"):
        load(tmp_path / "notes.txt")
    dup = tmp_path / "dup.jsonl"
    _write_jsonl(dup, [{"id": 1, "input": "a"}, {"id": 1, "input": "b"}])
    with pytest.raises(DatasetError, match="duplicate id '1'"):
        load(dup)
    with pytest.raises(InvalidArgumentError, match="`columns` keys must be Item fields"):
        load(path, columns={"question": "input"})


def test_ids_default_to_row_numbers(tmp_path: Path) -> None:
    path = tmp_path / "q.jsonl"
    _write_jsonl(path, [{"input": "a"}, {"input": "b"}])
    assert load(path).ids == ["row-1", "row-2"]


def test_polars_round_trip() -> None:
    for name in ("mmlu", "gsm8k", "humaneval", "truthfulqa"):
        ds = load(name, limit=20)
        frame = ds.to_polars()
        assert frame.height == 20
        back = Dataset.from_polars(frame, name=name)
        assert back.content_hash == ds.content_hash
    assert load("mmlu", limit=3).to_polars()["subject"].to_list() == ["abstract_algebra"] * 3


def test_dataset_validation() -> None:
    with pytest.raises(ValidationError, match="duplicate id 'x'"):
        Dataset("d", [Item("x", 1), Item("x", 2)])
    with pytest.raises(ValidationError, match=r"`items\[0\]` must be a crucible.core.Item"):
        Dataset("d", [{"id": "x"}])  # type: ignore[list-item]
    ds = Dataset("d", [Item("x", 1), Item("y", 2)])
    assert ds[1:].ids == ["y"]
    assert "2 items" in str(ds)


def test_corrupt_bundled_file_is_detected(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from crucible.datasets import _loading

    from .conftest import DATA

    copy = tmp_path / "data"
    (copy / "gsm8k").mkdir(parents=True)
    content = (DATA / "gsm8k" / "test.jsonl").read_bytes()
    (copy / "gsm8k" / "test.jsonl").write_bytes(content.replace(b"#### 18", b"#### 19", 1))
    monkeypatch.setattr(_loading, "data_root", lambda: copy)
    with pytest.raises(ChecksumMismatchError, match="installation is corrupt"):
        load("gsm8k")
