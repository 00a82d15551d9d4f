"""The shipped tiny base model and its byte-level tokenizer.

``crucible-tiny-byte-lm`` is a 2-layer, d_model 64 decoder-only transformer over the 256 byte
values, pretrained by ``tools/pretrain_base.py`` on a few kilobytes of public-domain text
(well-known proverbs and eight of Aesop's fables retold in plain words); its weights ship with the package as float32
safetensors (see the README for size and recipe).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from importlib import resources
from pathlib import Path
from typing import Any

import attrs
import numpy as np

from crucible.lora._checkpoint import CheckpointKind, read_checkpoint
from crucible.lora._errors import CheckpointError
from crucible.lora._transformer import ModelShape

__all__ = ["BASE_MODEL_NAME", "BaseWeights", "ByteTokenizer", "load_base"]

BASE_MODEL_NAME = "crucible-tiny-byte-lm"
_BASE_FILE = "tiny_byte_lm.safetensors"


class ByteTokenizer:
    """UTF-8 bytes as tokens (vocabulary 256); decoding replaces invalid sequences.

    Example:
        >>> ByteTokenizer().encode("Hi!")
        [72, 105, 33]
    """

    vocab_size = 256

    def encode(self, text: str) -> list[int]:
        return list(text.encode("utf-8"))

    def decode(self, tokens: Sequence[int]) -> str:
        return bytes(int(t) & 0xFF for t in tokens).decode("utf-8", errors="replace")


@attrs.frozen(eq=False)
class BaseWeights:
    """A base model: its name, its shape and its (frozen) weights."""

    name: str
    shape: ModelShape
    params: dict[str, np.ndarray]

    def astype(self, dtype: type[np.floating[Any]]) -> BaseWeights:
        return BaseWeights(
            self.name, self.shape, {k: v.astype(dtype) for k, v in self.params.items()}
        )


def default_base_path() -> Path:
    """Path of the shipped base model file."""
    return Path(str(resources.files("crucible.lora") / "data" / _BASE_FILE))


def load_base(path: str | os.PathLike[str] | None = None) -> BaseWeights:
    """Load a base model file (the shipped one when ``path`` is None).

    Raises:
        CheckpointError: the file is missing, not safetensors, not a base model, or incomplete.
    """
    p = default_base_path() if path is None else Path(path)
    tensors, meta = read_checkpoint(p, kinds=(CheckpointKind.BASE,), argument="base")
    try:
        shape = ModelShape(**meta["shape"])
        name = str(meta["name"])
    except (KeyError, TypeError) as exc:
        raise CheckpointError(f"`base` {str(p)!r} lacks its model shape or name ({exc})") from exc
    if "tok_emb" not in tensors or tensors["tok_emb"].shape != (shape.vocab_size, shape.d_model):
        raise CheckpointError(f"`base` {str(p)!r} does not hold weights of shape {shape}")
    return BaseWeights(name, shape, tensors)
