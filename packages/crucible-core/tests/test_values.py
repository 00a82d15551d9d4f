from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from crucible.core import Completion, Item, Message, TokenLogprob, Usage, ValidationError


def test_item_round_trip_and_id_conversion() -> None:
    item = Item(7, {"question": "2+2?"}, expected=4, metadata={"subject": "math"})
    assert item.id == "7"
    data = item.to_dict()
    assert json.loads(json.dumps(data)) == data
    assert Item.from_dict(data) == item


@pytest.mark.parametrize("bad", ["", None, 1.5, True])
def test_item_rejects_bad_ids(bad: object) -> None:
    with pytest.raises(ValidationError, match="Item `id`"):
        Item(bad, "x")  # type: ignore[arg-type]


def test_message_validation() -> None:
    assert Message.from_dict({"role": "system", "content": "hi"}) == Message("system", "hi")
    with pytest.raises(ValidationError, match="role"):
        Message("robot", "hi")
    with pytest.raises(ValidationError, match="content"):
        Message("user", 3)  # type: ignore[arg-type]


def test_usage_sums_and_validates() -> None:
    total = Usage(10, 5, 4, 2) + Usage(1, 1, 0, 3)
    assert total == Usage(11, 6, 4, 5)
    assert total.total_tokens == 22
    with pytest.raises(ValidationError, match="cached_input_tokens"):
        Usage(1, 0, cached_input_tokens=2)
    with pytest.raises(ValidationError, match="output_tokens"):
        Usage(1, -1)


def test_completion_round_trip() -> None:
    c = Completion(
        text="B",
        model="m",
        provider="sim",
        usage=Usage(3, 1),
        cost_usd=0.001,
        latency_ms=12.5,
        ttft_ms=3.0,
        finish_reason="stop",
        logprobs=[TokenLogprob("B", -0.1)],
        confidence=0.9,
        raw={"id": "x"},
    )
    data = c.to_dict()
    assert json.loads(json.dumps(data)) == data
    back = Completion.from_dict(data)
    assert back == c
    assert back.raw == {"id": "x"}
    assert "sim:m -> 'B'" in str(c) and "$0.001000" in str(c)


def test_completion_validation() -> None:
    with pytest.raises(ValidationError, match="confidence"):
        Completion("x", "m", "p", confidence=1.5)
    with pytest.raises(ValidationError, match="latency_ms"):
        Completion("x", "m", "p", latency_ms=-1.0)
    assert "unpriced" in str(Completion("x", "m", "p"))


@given(st.integers(0, 10**9), st.integers(0, 10**9), st.integers(0, 10**9))
def test_usage_round_trip_property(a: int, b: int, r: int) -> None:
    usage = Usage(a, b, cached_input_tokens=a // 2, reasoning_tokens=r)
    assert Usage.from_dict(usage.to_dict()) == usage
