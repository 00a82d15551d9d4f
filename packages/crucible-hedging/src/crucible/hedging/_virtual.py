"""Run asyncio code on a simulated clock: every sleep and timeout completes at once, in order.

Hedging decisions depend on time. To study a policy over thousands of calls (or test it) without
waiting, run the real code on an event loop whose ``time()`` is virtual: when the loop would
block until its next timer, the clock jumps to that timer instead. Latencies measured with
``loop.time()`` are then exact, whatever the machine's load. Only for code that waits on timers
and tasks (simulated models); real network I/O on a virtual clock would see its timeouts fire
at once.
"""

from __future__ import annotations

import asyncio
import selectors
from collections.abc import Coroutine
from typing import Any, TypeVar

__all__ = ["VirtualClockLoop", "run_virtual"]

T = TypeVar("T")


class _Clock:
    __slots__ = ("now",)

    def __init__(self) -> None:
        self.now = 0.0


class _VirtualSelector(selectors.DefaultSelector):
    """Polls without blocking and advances the clock by the time the loop meant to wait."""

    def __init__(self, clock: _Clock) -> None:
        super().__init__()
        self._clock = clock

    def select(self, timeout: float | None = None) -> list[tuple[selectors.SelectorKey, int]]:
        if timeout is None:
            # Nothing scheduled: only another thread or real I/O can wake the loop.
            result: list[tuple[selectors.SelectorKey, int]] = super().select(None)
            return result
        if timeout > 0:
            self._clock.now += timeout
        result = super().select(0)
        return result


class VirtualClockLoop(asyncio.SelectorEventLoop):
    """A selector event loop whose ``time()`` is simulated (starts at 0 s).

    Example:
        >>> async def main() -> float:
        ...     await asyncio.sleep(3600)
        ...     return asyncio.get_running_loop().time()
        >>> run_virtual(main())  # an hour passes in a few microseconds
        3600.0
    """

    def __init__(self) -> None:
        self._virtual_clock = _Clock()
        super().__init__(_VirtualSelector(self._virtual_clock))

    def time(self) -> float:
        return self._virtual_clock.now


def run_virtual(main: Coroutine[Any, Any, T]) -> T:
    """Run ``main`` to completion on a fresh :class:`VirtualClockLoop` and return its result."""
    with asyncio.Runner(loop_factory=VirtualClockLoop) as runner:
        return runner.run(main)
