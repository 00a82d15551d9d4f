"""Fine-tuning checkpoints evaluated with statistics: which beat the base model, by how much,
where improvement stops, and whether the quality gates pass — and ``crux lora eval``.

A harness experiment runs the base model and every checkpoint's sampler on the same items, so
each checkpoint is compared with the baseline item by item (paired): the difference in mean
score with its confidence interval (:func:`crucible.bench.compare_evals`), McNemar's exact test
when scores are binary (one repeat) and the paired t-test otherwise, and p-values adjusted
across checkpoints (Holm by default). Consecutive checkpoints are compared too, to find where
training stops paying. Gates (``targets={"accuracy": 0.8}``) compare the lower
confidence bound, never the point estimate, with the target. The result can be recorded as
evidence in an :class:`~crucible.lora.AdapterRegistry`, whose promotion to production needs a
passing evaluation.

Example:
    >>> import asyncio, tempfile
    >>> from crucible.core import Item
    >>> from crucible.lora import LoraConfig, create_backend
    >>> backend = create_backend("local", config=LoraConfig(rank=4, seed=0))
    >>> sampler = asyncio.run(backend.save_weights_for_sampler("untrained"))
    >>> items = [Item(str(i), f"Q: {w}?\\n", f"A: {w} is good.") for i, w in enumerate("ab")]
    >>> ev = evaluate_checkpoints_sync(
    ...     [sampler], items, scorer="exact_match", run_dir=tempfile.mkdtemp() + "/ev")
    >>> ev.best is None  # an untrained adapter (B = 0) is the base model
    True
"""

from crucible.framework._finetune import (
    DEFAULT_PARAMS,
    CheckpointComparison,
    CheckpointEvaluation,
    CheckpointResult,
    GateResult,
    checkpoint_files,
    evaluate_checkpoints,
    evaluate_checkpoints_sync,
)
from crucible.framework._finetune_cli import lora_group

__all__ = [
    "DEFAULT_PARAMS",
    "CheckpointComparison",
    "CheckpointEvaluation",
    "CheckpointResult",
    "GateResult",
    "checkpoint_files",
    "evaluate_checkpoints",
    "evaluate_checkpoints_sync",
    "lora_group",
]
