"""Pretrain the shipped base model ``crucible-tiny-byte-lm`` on ``tools/corpus.txt``.

Recipe: byte-level tokens; random windows of 64 bytes, batch 16; AdamW (lr 3e-3 with linear
warm-up over 100 steps and cosine decay to 3e-4, beta2 0.95, weight decay 0.01, gradient clip
1.0); float32; seed 0. Writes ``src/crucible/lora/data/tiny_byte_lm.safetensors`` and prints
one JSON line with the final training loss and the wall time.

    python tools/pretrain_base.py --steps 1500
"""

from __future__ import annotations

import argparse
import json
import math
import os
import time
from pathlib import Path

# One BLAS thread: these matrices are small, and threads only contend on a shared machine.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np

from crucible.lora._adam import AdamState
from crucible.lora._base import BASE_MODEL_NAME
from crucible.lora._checkpoint import CheckpointKind, write_checkpoint
from crucible.lora._config import AdamParams
from crucible.lora._transformer import (
    ModelShape,
    backward,
    dlogits_from_dlogprobs,
    forward,
    init_base,
    target_logprobs,
)

HERE = Path(__file__).resolve().parent
OUT = HERE.parent / "src" / "crucible" / "lora" / "data" / "tiny_byte_lm.safetensors"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--steps", type=int, default=1500)
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--window", type=int, default=64)
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()

    data = np.frombuffer((HERE / "corpus.txt").read_bytes(), dtype=np.uint8).astype(np.int64)
    shape = ModelShape()
    rng = np.random.default_rng(0)
    params = {k: v.astype(np.float32) for k, v in init_base(shape, rng).items()}
    adam = AdamState()
    start = time.perf_counter()
    loss = float("nan")
    for step in range(args.steps):
        warm = min(1.0, (step + 1) / 100)
        cos = 0.5 * (1 + math.cos(math.pi * step / args.steps))
        lr = 3e-3 * warm * (0.1 + 0.9 * cos)
        starts = rng.integers(0, len(data) - args.window - 1, args.batch)
        x = np.stack([data[s : s + args.window] for s in starts])
        y = np.stack([data[s + 1 : s + args.window + 1] for s in starts])
        logits, cache = forward(params, {}, x, shape=shape, scale=1.0)
        lp, logp = target_logprobs(logits.astype(np.float64), y)
        n = lp.size
        loss = float(-lp.sum() / n)
        dlogits = dlogits_from_dlogprobs(np.full(lp.shape, -1.0 / n), logp, y)
        grads = backward(dlogits.astype(np.float32), cache, shape=shape, want_base=True)
        adam.step(
            params,
            grads,
            AdamParams(learning_rate=lr, weight_decay=0.01, grad_clip_norm=1.0, eps=1e-8),
        )
        if step % 100 == 0:
            print(f"step {step:5d}  loss {loss:.3f}  lr {lr:.2e}", flush=True)
    elapsed = time.perf_counter() - start
    meta = {"name": BASE_MODEL_NAME, "shape": shape.to_dict(), "steps": args.steps, "seed": 0}
    write_checkpoint(args.out, params, kind=CheckpointKind.BASE, meta=meta, dtype=np.float32)
    n_params = sum(v.size for v in params.values())
    print(
        json.dumps(
            {
                "final_loss": round(loss, 4),
                "steps": args.steps,
                "seconds": round(elapsed, 1),
                "parameters": int(n_params),
                "bytes": args.out.stat().st_size,
            }
        )
    )


if __name__ == "__main__":
    main()
