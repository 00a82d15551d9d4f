"""The runner: trials in a seeded order on a bounded pool of asyncio workers, committed in
groups to the run store, resumable after any crash."""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from crucible.core import BudgetExceededError, Item, Seeds
from crucible.harness._budget import BudgetGuard
from crucible.harness._calls import TrialRunner
from crucible.harness._experiment import Condition, Experiment
from crucible.harness._fingerprint import digest, fingerprint
from crucible.harness._limits import OnExceed, RateLimit
from crucible.harness._manifest import build_manifest
from crucible.harness._progress import Progress, make_progress
from crucible.harness._ratelimit import ModelLimiter
from crucible.harness._result import RunResult, RunStatus
from crucible.harness._rundir import open_run_store, write_json
from crucible.harness._store import DB_NAME, RunStore, TrialKey
from crucible.telemetry import DuckDBStore, TelemetryError, capture

__all__ = ["fingerprint_digest", "run", "run_sync", "schedule"]

Spec = tuple[Condition, Item, int, int]

#: Group commits: at most one per interval (a commit costs a few milliseconds whatever its
#: size), sooner when this many trials wait. Trials waiting for their commit are in flight.
COMMIT_INTERVAL_S = 0.05
COMMIT_MAX_BATCH = 1000


def schedule(experiment: Experiment) -> list[tuple[str, str, int]]:
    """Every (condition, item id, repeat) in the order the runner starts them.

    With ``randomize`` (default) a permutation drawn from the experiment seed's ``schedule``
    stream, so the order depends on the seed only; else condition, item, repeat order.
    """
    keys = [
        (c.name, it.id, r)
        for c in experiment.conditions
        for it in experiment.dataset
        for r in range(experiment.repeats)
    ]
    if not experiment.randomize:
        return keys
    perm = Seeds(experiment.seed).generator("schedule").permutation(len(keys))
    return [keys[int(i)] for i in perm]


def _plan(experiment: Experiment, done: set[TrialKey]) -> list[Spec]:
    conds = {c.name: c for c in experiment.conditions}
    items = {it.id: it for it in experiment.dataset}
    return [
        (conds[c], items[i], r, order)
        for order, (c, i, r) in enumerate(schedule(experiment))
        if (c, i, r) not in done
    ]


class _Run:
    """The mutable state of one run session."""

    def __init__(
        self,
        experiment: Experiment,
        store: RunStore,
        experiment_id: str,
        session: int,
        progress: Progress,
        trace_trials: bool,
    ) -> None:
        self.experiment = experiment
        self.store = store
        self.progress = progress
        spent_usd, spent_tokens = store.totals()
        self.guard = BudgetGuard(experiment.budget, spent_usd=spent_usd, spent_tokens=spent_tokens)
        self.cost = 0.0
        limiters: dict[str, ModelLimiter] = {}
        self.trials = TrialRunner(
            experiment, experiment_id, session, self.guard, limiters, trace_trials=trace_trials
        )
        for key in set(self.trials.keys.values()):
            limiters[key] = ModelLimiter(experiment.limits.rate_limit_for(key) or RateLimit())
        self.queue: asyncio.Queue[tuple[dict[str, Any], list[dict[str, Any]]] | None] = (
            asyncio.Queue()
        )
        self.committed = 0
        self.errors = 0
        self.finished = 0
        self.failed = 0
        self.stop_status: RunStatus | None = None
        self.stop_reason: str | None = None

    def _check_errors(self) -> None:
        threshold = self.experiment.limits.fail_on_error
        if threshold is None or self.stop_status is not None:
            return
        if threshold >= 1:
            hit = self.failed >= threshold
        else:
            hit = self.finished >= 20 and self.failed / self.finished >= threshold
        if hit:
            self.stop_status = RunStatus.FAILED
            self.stop_reason = (
                f"{self.failed} of {self.finished} trials failed (fail_on_error={threshold})"
            )

    async def worker(self, specs: Iterator[Spec]) -> None:
        for cond, item, repeat, order in specs:
            if self.stop_status is not None:
                return
            outcome = await self.trials.run(cond, item, repeat, order)
            if outcome is None:
                if self.stop_status is None:
                    self.stop_status = RunStatus.PARTIAL
                    self.stop_reason = self.guard.reason
                return
            self.finished += 1
            if outcome[0]["error_type"] is not None:
                self.failed += 1
                self._check_errors()
            self.queue.put_nowait(outcome)

    async def writer(self) -> None:
        """Commit finished trials in groups: whatever finished while the previous commit ran,
        at most one commit per ``COMMIT_INTERVAL_S`` (each commit has a fixed cost)."""
        queue = self.queue
        loop = asyncio.get_running_loop()
        done = False
        last = 0.0
        while not done:
            first = await queue.get()
            batch = [] if first is None else [first]
            done = first is None
            linger = last + COMMIT_INTERVAL_S - loop.time()
            if not done and linger > 0 and queue.qsize() < COMMIT_MAX_BATCH:
                await asyncio.sleep(linger)
            while not queue.empty():
                nxt = queue.get_nowait()
                if nxt is None:
                    done = True
                else:
                    batch.append(nxt)
            if not batch:
                continue
            trials = [t for t, _ in batch]
            attempts = [a for _, rows in batch for a in rows]
            await asyncio.to_thread(self.store.commit, trials, attempts)
            last = loop.time()
            self.committed += len(trials)
            self.errors += sum(1 for t in trials if t["error_type"] is not None)
            self.cost += sum(t["cost_usd"] or 0.0 for t in trials)
            self.progress.update(self.committed, self.errors, self.cost)

    async def execute(self, plan: list[Spec]) -> None:
        specs = iter(plan)
        writer = asyncio.create_task(self.writer())
        n_workers = min(self.experiment.limits.concurrency, len(plan))
        workers = [asyncio.create_task(self.worker(specs)) for _ in range(n_workers)]
        try:
            await asyncio.gather(*workers)
        except BaseException:
            for w in workers:
                w.cancel()
            await asyncio.gather(*workers, return_exceptions=True)
            self.queue.put_nowait(None)
            await asyncio.shield(writer)
            raise
        self.queue.put_nowait(None)
        await writer


async def _close_owned_models(experiment: Experiment) -> None:
    """Release the connections of models the experiment built from spec strings (a model
    passed as an object belongs to the caller). They reconnect if used again."""
    for cond in experiment.conditions:
        if isinstance(cond.model, str):
            close = getattr(experiment.models[cond.name], "aclose", None)
            if close is not None:
                await close()


def _capture_events(stack: contextlib.ExitStack, path: Path, experiment_id: str) -> None:
    """Capture model spans into the run's ``events`` table for the life of ``stack``."""
    events = DuckDBStore(path, table="events")
    stack.callback(events.close)
    try:
        stack.enter_context(capture(experiment_id, store=events))
    except TelemetryError as exc:
        # A tracer provider that is not the OpenTelemetry SDK's cannot be captured from; the
        # trials are the run's record, so the run goes on without events.
        warnings.warn(f"telemetry events are not captured: {exc}", RuntimeWarning, stacklevel=3)


def _load_result(
    experiment: Experiment,
    store: RunStore,
    experiment_id: str,
    status: RunStatus,
    reason: str | None,
    elapsed: float,
    new: int,
) -> RunResult:
    return RunResult(
        experiment=experiment.name,
        experiment_id=experiment_id,
        run_dir=store.run_dir,
        status=status,
        reason=reason,
        trials=store.trials(),
        attempts=store.attempts(),
        expected=experiment.n_trials,
        scorers=experiment.scorer_names,
        elapsed_s=elapsed,
        new_trials=new,
    )


async def run(
    experiment: Experiment,
    run_dir: str | os.PathLike[str],
    *,
    resume: bool = False,
    force: bool = False,
    progress: bool | str | Progress = False,
    telemetry: bool = True,
    trace_trials: bool = False,
    source: str | None = None,
) -> RunResult:
    """Run ``experiment``, committing every finished trial to ``run_dir/run.duckdb``.

    Trials (condition x item x repeat) start in a seeded order on ``limits.concurrency``
    workers; each is rate limited, budgeted, timed out and retried as :class:`Limits` and
    :class:`Budget` say, scored, and committed by a writer task in group transactions. Results
    depend only on the experiment (its seed), not on concurrency or timing.

    Args:
        experiment: what to run.
        run_dir: the run directory (created; must be empty of other runs).
        resume: continue the run in ``run_dir``, running only the trials not committed yet.
        force: with ``resume``, continue even if the experiment's fingerprint changed.
        progress: ``True``/``"auto"`` (bar on a terminal, log lines otherwise), ``"log"``,
            ``"bar"``, ``False`` (default), or a :class:`Progress` object.
        telemetry: capture the model calls' spans (``gen_ai.*``, tagged with the experiment
            id, condition, item and repeat) into ``run.duckdb``'s ``events`` table.
        trace_trials: also open a span per trial carrying its scores as
            ``gen_ai.evaluation.result`` events (for OpenTelemetry backends; it roughly doubles
            the runner's own cost per trial, which matters only for very fast models).
        source: the experiment file, recorded so ``crux resume`` can reload it.

    Returns:
        A :class:`RunResult`; ``status`` is ``partial`` when the budget stopped the run and
        ``failed`` when ``limits.fail_on_error`` did.

    Raises:
        RunDirectoryError: ``run_dir`` holds another run (or nothing, with ``resume``).
        FingerprintMismatchError: resuming with a changed experiment (unless ``force``).
        BudgetExceededError: the budget stopped the run and ``on_exceed="raise"``; its
            ``result`` attribute holds the partial :class:`RunResult`.

    Example:
        >>> import asyncio, tempfile
        >>> from crucible.core import Item
        >>> exp = Experiment("toy", [Item("1", "2+2?", "4")], [Condition("a", "sim:gpt-4")])
        >>> result = asyncio.run(run(exp, tempfile.mkdtemp()))
        >>> result.status.value, result.trials.height
        ('complete', 1)
    """
    t0 = time.perf_counter()
    root = Path(run_dir)
    store, manifest = open_run_store(experiment, root, resume, force)
    try:
        if not manifest:
            manifest = build_manifest(experiment, source=source)
            store.write_manifest(manifest)
            write_json(root / "manifest.json", manifest)
        experiment_id = str(manifest["experiment_id"])
        done = store.done_keys()
        plan = _plan(experiment, done)
        session = store.start_session(
            {"limits": experiment.limits.to_dict(), "budget": experiment.budget.to_dict()}
        )
        reporter = make_progress(progress)
        state = _Run(experiment, store, experiment_id, session, reporter, trace_trials)
        reporter.start(experiment.n_trials, len(done))
        status = RunStatus.COMPLETE
        reason: str | None = None
        try:
            with contextlib.ExitStack() as stack:
                if telemetry:
                    _capture_events(stack, root / DB_NAME, experiment_id)
                try:
                    await state.execute(plan)
                finally:
                    await _close_owned_models(experiment)
        except (asyncio.CancelledError, KeyboardInterrupt):
            store.end_session(session, RunStatus.INTERRUPTED, "interrupted", state.committed)
            reporter.finish(RunStatus.INTERRUPTED.value, "interrupted")
            raise
        if state.stop_status is not None:
            status, reason = state.stop_status, state.stop_reason
        elif len(store.done_keys()) < experiment.n_trials:
            status, reason = RunStatus.PARTIAL, "some trials were not committed"
        store.end_session(session, status, reason, state.committed)
        reporter.finish(status.value, reason)
        result = _load_result(
            experiment,
            store,
            experiment_id,
            status,
            reason,
            time.perf_counter() - t0,
            state.committed,
        )
    finally:
        store.close()
    if status is RunStatus.PARTIAL and experiment.budget.on_exceed is OnExceed.RAISE:
        error = BudgetExceededError(f"run {experiment_id} stopped: {reason}")
        error.result = result  # type: ignore[attr-defined]
        raise error
    return result


def run_sync(experiment: Experiment, run_dir: str | os.PathLike[str], **options: Any) -> RunResult:
    """:func:`run` for code without an event loop (scripts, notebooks without ``await``)."""
    return asyncio.run(run(experiment, run_dir, **options))


def fingerprint_digest(experiment: Experiment) -> str:
    """The SHA-256 identifying ``experiment`` (what resume compares)."""
    return digest(fingerprint(experiment))
