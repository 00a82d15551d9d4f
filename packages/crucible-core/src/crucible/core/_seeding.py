"""One seed fans out to named, independent random streams.

Streams are derived with :class:`numpy.random.SeedSequence` from the root seed and a stable
digest of the stream's name (BLAKE2b, never Python's salted ``hash()``), so a stream depends
only on (seed, name): not on the order streams are requested, on concurrency, or on the machine.
"""

from __future__ import annotations

import hashlib

import numpy as np

from crucible.core._errors import ValidationError

__all__ = ["Seeds", "stable_hash"]


def stable_hash(*parts: object, bits: int = 64) -> int:
    """Hash ``parts`` to an unsigned integer that is the same on every machine and run.

    Example:
        >>> stable_hash("sim", "gpt-4", "item-1", 0) == stable_hash("sim", "gpt-4", "item-1", 0)
        True
    """
    if bits not in (32, 64, 128):
        raise ValidationError(f"`bits` must be 32, 64 or 128, got {bits}")
    digest = hashlib.blake2b(digest_size=bits // 8)
    for part in parts:
        encoded = repr(part).encode("utf-8") if not isinstance(part, str | bytes) else part
        if isinstance(encoded, str):
            encoded = encoded.encode("utf-8")
        digest.update(len(encoded).to_bytes(8, "little"))
        digest.update(encoded)
    return int.from_bytes(digest.digest(), "little")


def _check_seed(seed: int) -> int:
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise ValidationError(f"`seed` must be a non-negative int, got {seed!r}")
    return int(seed)


class Seeds:
    """A root seed and the named streams derived from it.

    Example:
        >>> seeds = Seeds(42)
        >>> a = seeds.generator("bootstrap").integers(0, 100, 3)
        >>> b = Seeds(42).generator("bootstrap").integers(0, 100, 3)
        >>> bool((a == b).all())
        True
    """

    __slots__ = ("_seed",)

    def __init__(self, seed: int) -> None:
        self._seed = _check_seed(seed)

    @property
    def seed(self) -> int:
        return self._seed

    def __repr__(self) -> str:
        return f"Seeds({self._seed})"

    def sequence(self, *names: object) -> np.random.SeedSequence:
        """The :class:`~numpy.random.SeedSequence` of the stream named by ``names``."""
        key = stable_hash(*names, bits=128)
        return np.random.SeedSequence(entropy=[self._seed, key & (2**64 - 1), key >> 64])

    def generator(self, *names: object) -> np.random.Generator:
        """An independent :class:`~numpy.random.Generator` for the stream named by ``names``."""
        return np.random.Generator(np.random.PCG64(self.sequence(*names)))

    def integer(self, *names: object) -> int:
        """A 63-bit integer seed for the named stream (for libraries that take an int)."""
        return int(self.sequence(*names).generate_state(1, np.uint64)[0] >> np.uint64(1))
