"""Fine-tune the shipped tiny model, then decide with statistics which checkpoint to ship.

The base model ``crucible-tiny-byte-lm`` knows proverbs and fables. With LoRA on the local CPU
backend we teach it to answer ``Q: <word>?`` with ``A: <word> is good.`` (the task of
crucible-lora's ``examples/lora_finetune.py``) for 150 steps, saving a checkpoint every 25.
Then every checkpoint and the base model answer the same 40 held-out words, and the paired analysis says
which checkpoints answer in the new style more often than the base model (McNemar's exact test,
Holm-adjusted across checkpoints), by how much (paired differences with CIs), where
improvement stops, and whether the quality gate — style rate at least 80 %, judged by the
CI's lower bound — passes. The best checkpoint is registered and promoted to production with
the evaluation's run directory as evidence; promotion without that evidence is refused.

    python examples/lora_evaluate.py [workdir]

Runs offline on 2 CPU cores in about 7 s (3.3 s after the imports). The best checkpoint
is chosen on the same 40 items it is judged on, so its estimate is optimistic (the winner's
curse): confirm it on fresh items before trusting the gate by a small margin.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import sys
import tempfile
import time
from pathlib import Path

from crucible.core import Item
from crucible.datasets import get_scorer
from crucible.framework.finetune import checkpoint_files, evaluate_checkpoints
from crucible.lora import (
    AdamParams,
    AdapterRegistry,
    LoraConfig,
    PromotionError,
    Trainer,
    create_backend,
)

TRAIN_WORDS = [
    "fox",
    "sun",
    "ant",
    "crow",
    "hare",
    "lion",
    "dog",
    "wolf",
    "boy",
    "bird",
    "oak",
    "rose",
    "moon",
    "king",
    "cat",
    "owl",
    "frog",
    "bee",
    "ship",
    "tree",
    "man",
    "sky",
    "rain",
    "wind",
    "hill",
    "milk",
    "corn",
    "egg",
    "hen",
    "goat",
    "horse",
    "lamb",
    "duck",
    "bear",
    "deer",
    "mouse",
    "rat",
    "seed",
    "stone",
]
HELD_OUT_WORDS = [
    "cow",
    "sea",
    "pig",
    "star",
    "fish",
    "ox",
    "elk",
    "yak",
    "emu",
    "eel",
    "gnu",
    "bat",
    "web",
    "map",
    "cup",
    "pen",
    "box",
    "key",
    "car",
    "bus",
    "hat",
    "bed",
    "jar",
    "net",
    "pot",
    "rug",
    "fan",
    "mat",
    "van",
    "jam",
    "ink",
    "gem",
    "ice",
    "oil",
    "tea",
    "pie",
    "bun",
    "nut",
    "fig",
    "pea",
]
# The new answer shape: what the fine-tune is meant to teach.
STYLE = r"^A: \w+ is good\.$"


def training_data(words: list[str]) -> list[dict[str, str]]:
    return [{"prompt": f"Q: {w}?\n", "completion": f"A: {w} is good.\n"} for w in words]


async def main(workdir: Path) -> None:
    started = time.perf_counter()
    config = LoraConfig(rank=8, alpha=16, seed=0)
    adam = AdamParams(learning_rate=5e-3)
    backend = create_backend("local", config=config, checkpoint_dir=workdir / "states")
    trainer = Trainer(
        backend,
        config,
        adam,
        batch_size=8,
        epochs=30,
        checkpoint_every=25,
        seed=0,
        checkpoint_dir=workdir / "train",
    )
    train = training_data(TRAIN_WORDS)
    result = await trainer.fit(train)
    print(f"trained: {result} ({time.perf_counter() - started:.1f} s)")

    # Base model vs every checkpoint, on the same held-out words.
    held_out = [Item(w, f"Q: {w}?\n", f"A: {w} is good.") for w in HELD_OUT_WORDS]
    evaluation = await evaluate_checkpoints(
        workdir / "train",
        held_out,
        scorer=get_scorer("regex", pattern=STYLE),
        run_dir=workdir / "eval",
        targets={"accuracy": 0.8},
    )
    print(evaluation)
    print(f"evaluated ({time.perf_counter() - started:.1f} s)")
    if evaluation.best is None:
        print("no checkpoint beats the base model: nothing to register")
        return

    best = evaluation.result(evaluation.best)
    path = next(p for p in checkpoint_files(workdir / "train") if p.stem == best.name)
    data_hash = hashlib.sha256(json.dumps(train, sort_keys=True).encode()).hexdigest()
    with AdapterRegistry(workdir / "adapters.duckdb") as registry:
        registry.register(
            "qa-style-v1",
            base_model=backend.base_model,
            checkpoint_path=path,
            lora_config=config,
            training_config={"adam": adam.to_dict(), "batch_size": 8, "checkpoint": best.name},
            dataset_hashes=[data_hash],
            metrics={"style_rate": best.score.estimate, "style_rate_ci_low": best.score.ci_low},
        )
        registry.promote("qa-style-v1", "staging")
        try:
            registry.promote("qa-style-v1", "production")
        except PromotionError as exc:
            print(f"without evidence: refused ({exc})")
        try:
            record = evaluation.record_evidence(registry, "qa-style-v1", checkpoint=best.name)
            print(f"with evidence: {record}")
        except PromotionError as exc:
            print(f"with failing evidence: refused ({exc})")
    print(f"report: {evaluation.report_path}")
    print(f"took {time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(tempfile.mkdtemp(prefix="lora-eval-"))
    asyncio.run(main(target))
