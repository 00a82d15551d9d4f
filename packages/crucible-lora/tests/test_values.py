"""Validation of configs and data, chunking and metric reduction from worked values."""

from __future__ import annotations

import numpy as np
import pytest

from crucible.core import ConfigurationError, CrucibleError, ValidationError
from crucible.lora import (
    AdamParams,
    Datum,
    LoraConfig,
    SamplingParams,
    UnknownBackendError,
    chunk_data,
    create_backend,
    reduce_metrics,
)
from crucible.lora._chunking import datum_bytes
from crucible.lora._losses import parse_loss


def test_tinker_defaults() -> None:
    adam = AdamParams()
    assert (adam.learning_rate, adam.beta1, adam.beta2, adam.eps) == (1e-4, 0.9, 0.95, 1e-12)
    assert (adam.weight_decay, adam.grad_clip_norm) == (0.0, 0.0)
    cfg = LoraConfig()
    assert (cfg.rank, cfg.alpha, cfg.scale) == (32, None, 1.0)
    assert LoraConfig(rank=8, alpha=32).scale == 4.0


@pytest.mark.parametrize("rank", [0, -3, 1.5, True])
def test_rank_must_be_positive(rank: object) -> None:
    with pytest.raises(ValidationError, match="`rank` must be a positive int"):
        LoraConfig(rank=rank)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("kwargs", "argument"),
    [
        ({"learning_rate": 0.0}, "learning_rate"),
        ({"learning_rate": -1e-3}, "learning_rate"),
        ({"beta1": 1.0}, "beta1"),
        ({"beta1": -0.1}, "beta1"),
        ({"beta2": 1.5}, "beta2"),
        ({"eps": 0.0}, "eps"),
        ({"weight_decay": -1.0}, "weight_decay"),
        ({"grad_clip_norm": float("nan")}, "grad_clip_norm"),
    ],
)
def test_adam_params_are_validated(kwargs: dict[str, float], argument: str) -> None:
    with pytest.raises(ValidationError, match=f"`{argument}`"):
        AdamParams(**kwargs)


def test_lora_config_other_fields() -> None:
    with pytest.raises(ValidationError, match="`dropout` must be in"):
        LoraConfig(dropout=1.0)
    with pytest.raises(ValidationError, match="`alpha`"):
        LoraConfig(alpha=0)
    with pytest.raises(ValidationError, match="trains nothing"):
        LoraConfig(train_mlp=False, train_attn=False, train_unembed=False)
    with pytest.raises(ValidationError, match="`top_p`"):
        SamplingParams(top_p=0.0)
    assert SamplingParams(stop="\n").stop == ("\n",)


def test_datum_lengths_must_match() -> None:
    with pytest.raises(ValidationError, match=r"`loss_fn_inputs\['weights'\]` has length 2"):
        Datum([1, 2, 3], {"target_tokens": [2, 3, 4], "weights": [1.0, 1.0]})
    with pytest.raises(ValidationError, match="needs 'target_tokens'"):
        Datum([1, 2], {"weights": [1.0, 1.0]})
    with pytest.raises(ValidationError, match="`model_input`"):
        Datum([], {"target_tokens": []})


def test_datum_from_prompt_completion_masks_the_prompt() -> None:
    d = Datum.from_prompt_completion([10, 11, 12], [20, 21])
    assert d.model_input == (10, 11, 12, 20)
    assert d.target_tokens.tolist() == [11, 12, 20, 21]
    assert d.weights.tolist() == [0.0, 0.0, 1.0, 1.0]


def test_unknown_names_list_the_valid_ones() -> None:
    with pytest.raises(
        ValidationError, match="valid losses: 'cross_entropy', 'importance_sampling', 'ppo'"
    ):
        parse_loss("mse")
    with pytest.raises(UnknownBackendError, match="valid backends: local, tinker") as info:
        create_backend("nope")
    assert isinstance(info.value, ConfigurationError)
    assert isinstance(info.value, CrucibleError)


def _d(n: int) -> Datum:
    return Datum(list(range(n)), {"target_tokens": list(range(1, n + 1)), "weights": [1.0] * n})


def test_chunking_by_count_and_size() -> None:
    # Each datum of n tokens: 4n (tokens) + 8n (targets) + 4n (weights) = 16n bytes.
    assert datum_bytes(_d(10)) == 160
    data = [_d(10)] * 7
    assert [len(c) for c in chunk_data(data, max_count=3)] == [3, 3, 1]
    assert [len(c) for c in chunk_data(data, max_bytes=480)] == [3, 3, 1]
    assert [len(c) for c in chunk_data(data, max_bytes=479)] == [2, 2, 2, 1]
    # A datum bigger than the limit still travels, alone.
    assert [len(c) for c in chunk_data([_d(100), _d(1)], max_bytes=50)] == [1, 1]
    assert sum(len(c) for c in chunk_data([_d(3)] * 2500)) == 2500
    assert [len(c) for c in chunk_data([_d(3)] * 2500)] == [1024, 1024, 452]


def test_metric_reduction_worked_values() -> None:
    chunks = [
        {
            "loss:sum": 1.0,
            "acc:mean": 0.5,
            "lo:min": 3.0,
            "hi:max": 1.0,
            "t:slack": 2.0,
            "run:unique": 7.0,
            "noreduce": 9.0,
        },
        {
            "loss:sum": 2.5,
            "acc:mean": 1.0,
            "lo:min": 1.0,
            "hi:max": 4.0,
            "t:slack": 5.0,
            "run:unique": 8.0,
            "noreduce": 9.0,
        },
    ]
    out = reduce_metrics(chunks, weights=[1, 3])
    assert out == {
        "loss:sum": 3.5,
        "acc:mean": 0.875,  # (0.5·1 + 1.0·3) / 4
        "lo:min": 1.0,
        "hi:max": 4.0,
        "t:slack": 5.0 - 4.25,  # max − weighted mean (2·1 + 5·3) / 4
        "run:unique": 7.0,
        "run:unique_1": 8.0,
    }
    assert reduce_metrics([]) == {}
    assert reduce_metrics([{"x:mean": 1.0}, {"y:mean": 2.0}]) == {}
    with pytest.raises(ValidationError, match="`weights`"):
        reduce_metrics(chunks, weights=[1])


def test_loss_inputs_are_checked() -> None:
    from crucible.lora._losses import LossFn, loss_and_grad

    with pytest.raises(ValidationError, match=r"needs `loss_fn_inputs\['advantages'\]`"):
        loss_and_grad(LossFn.IMPORTANCE_SAMPLING, np.zeros(2), {"logprobs": np.zeros(2)})
    lp = np.log(np.array([0.5, 0.25]))
    loss, grad = loss_and_grad(LossFn.CROSS_ENTROPY, lp, {"weights": np.array([1.0, 2.0])})
    assert loss.sum() == pytest.approx(np.log(2) + 2 * np.log(4))
    assert grad.tolist() == [-1.0, -2.0]
