"""crucible-production-eval: deployment gates, monitoring and drift, A/B/n tests, triggers, search."""

from crucible.production_eval._abdesign import ExperimentDesign, design_experiment
from crucible.production_eval._abtest import ABResult, analyze_experiment, relative_uplift
from crucible.production_eval._calibrate import Calibration, calibrate, false_alarm_rate
from crucible.production_eval._detectors import ADWIN, CUSUM, KSWIN, Detector, PageHinkley
from crucible.production_eval._drift import DriftResult, detect_drift, psi
from crucible.production_eval._ensemble_search import optimize_ensemble
from crucible.production_eval._errors import (
    EventError,
    GateBudgetError,
    ProductionEvalError,
    RequirementError,
)
from crucible.production_eval._events import IngestReport, parse_window, read_events
from crucible.production_eval._gate import Decision, GateDecision, gate, paired_values
from crucible.production_eval._gate_stats import RequirementResult
from crucible.production_eval._monitor import Alert, Monitor
from crucible.production_eval._optimize import OptimizationResult, default_build, optimize
from crucible.production_eval._requirements import (
    GATE_METRICS,
    BoundKind,
    Requirement,
    parse_requirement,
)
from crucible.production_eval._sequential_ab import (
    PeekingSimulation,
    SequentialAB,
    peeking_simulation,
    sequential_ab,
)
from crucible.production_eval._signals import METRICS, MetricKind, Signal
from crucible.production_eval._triggers import TriggerEvent, TriggerKind, TriggerPolicy
from crucible.production_eval._window_test import WindowEvidence, compare_window

__version__ = "0.1.0"

__all__ = [
    "ADWIN",
    "CUSUM",
    "GATE_METRICS",
    "KSWIN",
    "METRICS",
    "ABResult",
    "Alert",
    "BoundKind",
    "Calibration",
    "Decision",
    "Detector",
    "DriftResult",
    "EventError",
    "ExperimentDesign",
    "GateBudgetError",
    "GateDecision",
    "IngestReport",
    "MetricKind",
    "Monitor",
    "OptimizationResult",
    "PageHinkley",
    "PeekingSimulation",
    "ProductionEvalError",
    "Requirement",
    "RequirementError",
    "RequirementResult",
    "SequentialAB",
    "Signal",
    "TriggerEvent",
    "TriggerKind",
    "TriggerPolicy",
    "WindowEvidence",
    "__version__",
    "analyze_experiment",
    "calibrate",
    "compare_window",
    "default_build",
    "design_experiment",
    "detect_drift",
    "false_alarm_rate",
    "gate",
    "optimize",
    "optimize_ensemble",
    "paired_values",
    "parse_requirement",
    "parse_window",
    "peeking_simulation",
    "psi",
    "read_events",
    "relative_uplift",
    "sequential_ab",
]
