"""crucible-harness: experiments, a durable seeded runner, budgets, estimates, paired
analysis, publication reports, reproduction and release gates."""

from crucible.harness._analysis import Analysis, Descriptive, analyze
from crucible.harness._compare_runs import compare_runs
from crucible.harness._demo import MajorityVote, compare_conditions, demo_experiment
from crucible.harness._errors import (
    ExperimentError,
    FingerprintMismatchError,
    HarnessError,
    RunDirectoryError,
)
from crucible.harness._estimate import ConditionEstimate, Estimate, estimate, estimate_async
from crucible.harness._experiment import Condition, Experiment, Scorer, TrialContext, TrialFn
from crucible.harness._gate import GateResult, gate
from crucible.harness._hypothesis import Hypothesis, HypothesisResult, Verdict
from crucible.harness._limits import Budget, Limits, OnExceed, RateLimit
from crucible.harness._loader import load_experiment
from crucible.harness._metrics import Metric, MetricKind
from crucible.harness._pairwise import ConditionComparison, Omnibus
from crucible.harness._progress import LogProgress, NoProgress, Progress, RichProgress
from crucible.harness._publish import ReportFormat, write_report
from crucible.harness._reproduce import Reproduction, reproduce
from crucible.harness._result import RunResult, RunStatus
from crucible.harness._rundir import StoredRun, load_run
from crucible.harness._runner import run, run_sync, schedule
from crucible.harness._template import PromptTemplate

__version__ = "0.1.0"

__all__ = [
    "Analysis",
    "Budget",
    "Condition",
    "ConditionComparison",
    "ConditionEstimate",
    "Descriptive",
    "Estimate",
    "Experiment",
    "ExperimentError",
    "FingerprintMismatchError",
    "GateResult",
    "HarnessError",
    "Hypothesis",
    "HypothesisResult",
    "Limits",
    "LogProgress",
    "MajorityVote",
    "Metric",
    "MetricKind",
    "NoProgress",
    "Omnibus",
    "OnExceed",
    "Progress",
    "PromptTemplate",
    "RateLimit",
    "ReportFormat",
    "Reproduction",
    "RichProgress",
    "RunDirectoryError",
    "RunResult",
    "RunStatus",
    "Scorer",
    "StoredRun",
    "TrialContext",
    "TrialFn",
    "Verdict",
    "__version__",
    "analyze",
    "compare_conditions",
    "compare_runs",
    "demo_experiment",
    "estimate",
    "estimate_async",
    "gate",
    "load_experiment",
    "load_run",
    "reproduce",
    "run",
    "run_sync",
    "schedule",
    "write_report",
]
