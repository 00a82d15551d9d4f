"""AdamW over a dict of arrays, with Tinker's parameter names and global-norm clipping."""

from __future__ import annotations

import numpy as np

from crucible.lora._config import AdamParams

__all__ = ["AdamState"]


class AdamState:
    """First and second moments per parameter and the step count.

    ``step`` applies one update in place (Kingma & Ba, 2015, Algorithm 1, with bias correction;
    decoupled weight decay as in Loshchilov & Hutter, 2019; global-norm clipping first).
    """

    def __init__(self) -> None:
        self.m: dict[str, np.ndarray] = {}
        self.v: dict[str, np.ndarray] = {}
        self.t = 0

    def step(
        self, params: dict[str, np.ndarray], grads: dict[str, np.ndarray], adam: AdamParams
    ) -> dict[str, float]:
        """Update ``params`` from ``grads``; returns ``grad_norm`` and ``learning_rate``."""
        norm = float(np.sqrt(sum(float((g.astype(np.float64) ** 2).sum()) for g in grads.values())))
        factor = 1.0
        if adam.grad_clip_norm > 0 and norm > adam.grad_clip_norm:
            factor = adam.grad_clip_norm / norm
        self.t += 1
        c1 = 1.0 - adam.beta1**self.t
        c2 = 1.0 - adam.beta2**self.t
        for name, g in grads.items():
            p = params[name]
            g = g * factor
            m = self.m.get(name)
            v = self.v.get(name)
            m = (1 - adam.beta1) * g if m is None else adam.beta1 * m + (1 - adam.beta1) * g
            v = (1 - adam.beta2) * g * g if v is None else adam.beta2 * v + (1 - adam.beta2) * g * g
            self.m[name], self.v[name] = m, v
            update = (m / c1) / (np.sqrt(v / c2) + adam.eps)
            if adam.weight_decay:
                p *= 1.0 - adam.learning_rate * adam.weight_decay
            p -= (adam.learning_rate * update).astype(p.dtype)
        return {"grad_norm": norm, "learning_rate": adam.learning_rate}

    def to_tensors(self) -> dict[str, np.ndarray]:
        out: dict[str, np.ndarray] = {"adam.t": np.asarray([self.t], dtype=np.int64)}
        for name, m in self.m.items():
            out["adam.m." + name] = m
            out["adam.v." + name] = self.v[name]
        return out

    @classmethod
    def from_tensors(cls, tensors: dict[str, np.ndarray]) -> AdamState:
        state = cls()
        if "adam.t" in tensors:
            state.t = int(tensors["adam.t"][0])
        for key, value in tensors.items():
            if key.startswith("adam.m."):
                state.m[key[len("adam.m.") :]] = value.copy()
            elif key.startswith("adam.v."):
                state.v[key[len("adam.v.") :]] = value.copy()
        return state
