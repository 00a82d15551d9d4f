"""crucible-harness: experiments, a durable seeded runner, budgets and estimates."""

from crucible.harness._demo import MajorityVote, compare_conditions, demo_experiment
from crucible.harness._errors import (
    ExperimentError,
    FingerprintMismatchError,
    HarnessError,
    RunDirectoryError,
)
from crucible.harness._estimate import ConditionEstimate, Estimate, estimate, estimate_async
from crucible.harness._experiment import Condition, Experiment, Scorer, TrialContext, TrialFn
from crucible.harness._limits import Budget, Limits, OnExceed, RateLimit
from crucible.harness._loader import load_experiment
from crucible.harness._progress import LogProgress, NoProgress, Progress, RichProgress
from crucible.harness._result import RunResult, RunStatus
from crucible.harness._rundir import StoredRun, load_run
from crucible.harness._runner import run, run_sync, schedule
from crucible.harness._template import PromptTemplate

__version__ = "0.1.0"

__all__ = [
    "Budget",
    "Condition",
    "ConditionEstimate",
    "Estimate",
    "Experiment",
    "ExperimentError",
    "FingerprintMismatchError",
    "HarnessError",
    "Limits",
    "LogProgress",
    "MajorityVote",
    "NoProgress",
    "OnExceed",
    "Progress",
    "PromptTemplate",
    "RateLimit",
    "RichProgress",
    "RunDirectoryError",
    "RunResult",
    "RunStatus",
    "Scorer",
    "StoredRun",
    "TrialContext",
    "TrialFn",
    "__version__",
    "compare_conditions",
    "demo_experiment",
    "estimate",
    "estimate_async",
    "load_experiment",
    "load_run",
    "run",
    "run_sync",
    "schedule",
]
