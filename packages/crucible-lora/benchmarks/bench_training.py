"""Fine-tuning throughput and loss curve of the local backend on the shipped tiny model.

Task: 40 prompt/completion pairs ("Q: <word>?" -> "A: <word> is good."), LoRA rank 8 (alpha 16)
on every attention and MLP projection and the unembedding, AdamW lr 5e-3, batch 8, 10 epochs
(50 steps), float32, one BLAS thread. Also measures greedy sampling speed. Prints one JSON line.

    python packages/crucible-lora/benchmarks/bench_training.py
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import asyncio
import json
import platform
import time

from crucible.lora import AdamParams, LocalBackend, LoraConfig, Trainer, load_base
from crucible.lora._base import default_base_path

WORDS = [
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


async def main() -> None:
    config = LoraConfig(rank=8, alpha=16, seed=0)
    backend = LocalBackend(config)
    data = [{"prompt": f"Q: {w}?\n", "completion": f"A: {w} is good.\n"} for w in WORDS]
    trainer = Trainer(
        backend,
        config,
        AdamParams(learning_rate=5e-3),
        batch_size=8,
        epochs=10,
        seed=0,
        progress=False,
    )
    start = time.perf_counter()
    result = await trainer.fit(data)
    train_s = time.perf_counter() - start
    sampler = backend.sampler()
    start = time.perf_counter()
    out = await sampler.generate("Q: fox?\n", max_tokens=32, temperature=0)
    sample_s = time.perf_counter() - start
    base = load_base()
    n_base = sum(v.size for v in base.params.values())
    n_lora = sum(v.size for v in backend.adapters.values())
    losses = result.losses
    print(
        json.dumps(
            {
                "bench": "lora_local_finetune",
                "steps": len(losses),
                "steps_per_s": round(len(losses) / train_s, 1),
                "input_tokens_per_step": round(
                    sum(len(d["prompt"]) + len(d["completion"]) - 1 for d in data)
                    * 10
                    / len(losses)
                ),
                "loss_first": round(losses[0], 3),
                "loss_by_epoch_end": [round(losses[i], 3) for i in range(4, len(losses), 5)],
                "sample_tokens_per_s": round(out.usage.output_tokens / sample_s, 1),
                "base_parameters": int(n_base),
                "adapter_parameters": int(n_lora),
                "base_file_bytes": default_base_path().stat().st_size,
                "python": platform.python_version(),
                "cpu_count": os.cpu_count(),
            }
        )
    )


if __name__ == "__main__":
    asyncio.run(main())
