"""Shared plumbing of the example experiments: fast mode, running, analysing, reporting.

Every example runs offline on simulated models. ``--fast`` (or ``CRUCIBLE_EXAMPLES_FAST=1``)
shrinks it to a few dozen items so the whole set runs in seconds.
"""

from __future__ import annotations

import asyncio
import datetime as _dt
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from crucible.harness import Analysis, Experiment, analyze, run, write_report

__all__ = ["fast_mode", "print_analysis", "run_experiment"]


def fast_mode(argv: Sequence[str] | None = None) -> bool:
    """True with ``--fast`` on the command line or ``CRUCIBLE_EXAMPLES_FAST=1``."""
    args = sys.argv[1:] if argv is None else argv
    return "--fast" in args or os.environ.get("CRUCIBLE_EXAMPLES_FAST") == "1"


def default_run_dir(name: str) -> Path:
    stamp = _dt.datetime.now(_dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    return Path("runs") / f"{name}-{stamp}"


def run_experiment(
    experiment: Experiment,
    run_dir: str | os.PathLike[str] | None = None,
    *,
    hypotheses: Sequence[str] = (),
    correction: str = "holm",
    report: bool = True,
    virtual_clock: bool = False,
) -> Analysis:
    """Run ``experiment`` into ``run_dir``, analyse it and (with ``report``) write the Markdown,
    HTML and JSON reports beside it.

    ``virtual_clock`` runs on crucible.hedging's simulated clock, for models that really wait
    out their latency (hedging studies) without taking real time.
    """
    where = Path(run_dir) if run_dir is not None else default_run_dir(experiment.name)
    coroutine = run(experiment, where, progress=False)
    if virtual_clock:
        from crucible.hedging import run_virtual

        run_virtual(coroutine)
    else:
        asyncio.run(coroutine)
    if report:
        written = write_report(
            where, ("md", "html", "json"), hypotheses=hypotheses, correction=correction
        )
        print(f"reports: {written['html']} {written['md']}")
    return analyze(where, hypotheses=hypotheses, correction=correction)


def print_analysis(analysis: Analysis, metrics: Sequence[str] = ("accuracy",)) -> None:
    """Means per condition and the pairwise comparisons of ``metrics``."""
    for name in metrics:
        print(f"{name}:")
        for cond in analysis.conditions:
            d = analysis.descriptive(name, cond)
            print(f"  {cond:20s} {d.mean:.4g} [{d.ci_low:.4g}, {d.ci_high:.4g}]")
        for omni in analysis.omnibus:
            if omni.metric == analysis.metric(name).name:
                print(f"  omnibus {omni.test}: p = {omni.p_value:.3g}")
        for c in analysis.comparisons:
            if c.metric == analysis.metric(name).name:
                print(
                    f"  {c.a} - {c.b}: {c.estimate:+.4g} [{c.ci_low:+.4g}, {c.ci_high:+.4g}] "
                    f"{c.test}, p adj. = {c.p_adjusted:.3g}"
                )
    for h in analysis.hypotheses:
        print(h)
