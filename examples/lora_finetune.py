"""Fine-tune the shipped tiny model to a new answer style, then register and promote it.

The base model ``crucible-tiny-byte-lm`` only knows proverbs and fables. We teach it, with LoRA
on the local CPU backend, to answer ``Q: <word>?`` with ``A: <word> is good.``; the loss falls,
the samples change, the checkpoint with the lowest held-out loss is evaluated on held-out
words, and — when the evaluation passes — registered and promoted to production with the
evaluation's run directory as evidence.

    python examples/lora_finetune.py [workdir]

Runs offline in well under a minute on 2 CPU cores.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import sys
import tempfile
import time
from pathlib import Path

from crucible.lora import (
    AdamParams,
    AdapterRegistry,
    BackendUnavailableError,
    Callback,
    Evidence,
    LocalBackend,
    LoraConfig,
    Trainer,
    create_backend,
    plot_training_curve,
    to_datum,
)

TRAIN_WORDS = (
    "fox sun ant crow hare lion dog wolf boy bird oak rose moon king cat owl frog bee ship tree "
    "man sky rain wind hill milk corn egg hen goat horse lamb duck bear deer mouse rat seed stone"
)
HELD_OUT_WORDS = "cow sea pig star fish"


def items(words: str) -> list[dict[str, str]]:
    return [{"prompt": f"Q: {w}?\n", "completion": f"A: {w} is good.\n"} for w in words.split()]


def in_style(text: str) -> bool:
    return text.startswith("A: ") and text.endswith("good.")


async def samples(backend: LocalBackend, prompts: list[str]) -> list[str]:
    sampler = backend.sampler()
    return [
        (await sampler.generate(p, max_tokens=24, temperature=0, stop="\n")).text for p in prompts
    ]


async def main(workdir: Path) -> None:
    started = time.perf_counter()
    config = LoraConfig(rank=8, alpha=16, seed=0)
    adam = AdamParams(learning_rate=5e-3)
    train, held_out = items(TRAIN_WORDS), items(HELD_OUT_WORDS)
    backend = create_backend("local", config=config, checkpoint_dir=workdir / "states")
    assert isinstance(backend, LocalBackend)
    show = ["Q: fox?\n", "Q: cow?\n"]
    print("before:", await samples(backend, show))

    saved: list[str] = []

    class KeepPaths(Callback):
        def on_checkpoint(self, step: int, path: str) -> None:
            saved.append(path)

    trainer = Trainer(
        backend,
        config,
        adam,
        batch_size=8,
        epochs=25,
        checkpoint_every=15,
        seed=0,
        checkpoint_dir=workdir / "run",
        callbacks=[KeepPaths()],
    )
    result = await trainer.fit(train)
    print(f"loss {result.losses[0]:.3f} -> {result.losses[-1]:.4f} in {len(result.history)} steps")
    print("after: ", await samples(backend, show))

    # Pick the checkpoint with the lowest loss on held-out words.
    held_data = [to_datum(i, backend) for i in held_out]
    tokens = sum(float(d.weights.sum()) for d in held_data)
    scores = {}
    for path in saved:
        probe = LocalBackend(config)
        await probe.load_state(path)
        scores[path] = (await probe.forward(held_data, "cross_entropy")).loss / tokens
    best = min(scores, key=scores.__getitem__)
    await backend.load_state(best)
    print(f"best checkpoint {Path(best).name}: held-out loss {scores[best]:.3f}")

    # Evaluate it on the held-out words and keep the run directory as evidence.
    sampler = await backend.save_weights_for_sampler("qa-style-best")
    outputs = [
        (await sampler.generate(i["prompt"], max_tokens=24, temperature=0, stop="\n")).text
        for i in held_out
    ]
    style_rate = sum(in_style(o) for o in outputs) / len(outputs)
    eval_dir = workdir / "eval-qa-style"
    eval_dir.mkdir(parents=True, exist_ok=True)
    summary = {"style_rate": style_rate, "held_out_loss": scores[best], "n": len(outputs)}
    (eval_dir / "results.json").write_text(json.dumps({"outputs": outputs, **summary}, indent=2))
    print("held-out:", outputs, f"style rate {style_rate:.0%}")

    data_hash = hashlib.sha256(json.dumps(train, sort_keys=True).encode()).hexdigest()
    with AdapterRegistry(workdir / "adapters.duckdb") as registry:
        registry.register(
            "qa-style-v1",
            base_model=backend.base_model,
            checkpoint_path=sampler.path,
            lora_config=config,
            training_config={"adam": adam.to_dict(), "batch_size": 8, "epochs": 15, "seed": 0},
            dataset_hashes=[data_hash],
            metrics={"held_out_loss": scores[best], "style_rate": style_rate},
            tags=["example"],
        )
        registry.promote("qa-style-v1", "staging")
        evidence = Evidence(eval_dir, passed=style_rate >= 0.8, summary=summary)
        record = registry.promote("qa-style-v1", "production", evidence=evidence)
        print("registered:", record)
    try:
        print("curve:", plot_training_curve(result.history, workdir / "loss.png"))
    except BackendUnavailableError:
        print("curve: skipped (matplotlib is not installed)")
    print(f"took {time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(tempfile.mkdtemp(prefix="lora-"))
    asyncio.run(main(target))
