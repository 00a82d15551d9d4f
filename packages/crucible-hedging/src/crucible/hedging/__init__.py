"""crucible-hedging: hedged async calls that cut tail latency under a stated budget."""

from crucible.hedging._adaptive import (
    AdaptiveDelay,
    AdaptiveFit,
    SurvivalWindow,
    adaptive,
    hedged_quantile,
    hedged_sf,
)
from crucible.hedging._budget import HedgeBudget
from crucible.hedging._hedge import Attempt, AttemptStatus, HedgeResult, hedged, resolve_policy
from crucible.hedging._model import HedgedModel
from crucible.hedging._policy import (
    FixedDelay,
    HedgePolicy,
    Observation,
    PercentileDelay,
    PolicyName,
    Tiered,
    Work,
    WorkloadAwareDelay,
    fixed,
    percentile,
    tiered,
    workload_aware,
)
from crucible.hedging._virtual import VirtualClockLoop, run_virtual
from crucible.hedging._window import LatencyWindow

__version__ = "0.1.0"

__all__ = [
    "AdaptiveDelay",
    "AdaptiveFit",
    "Attempt",
    "AttemptStatus",
    "FixedDelay",
    "HedgeBudget",
    "HedgePolicy",
    "HedgeResult",
    "HedgedModel",
    "LatencyWindow",
    "Observation",
    "PercentileDelay",
    "PolicyName",
    "SurvivalWindow",
    "Tiered",
    "VirtualClockLoop",
    "Work",
    "WorkloadAwareDelay",
    "__version__",
    "adaptive",
    "fixed",
    "hedged",
    "hedged_quantile",
    "hedged_sf",
    "percentile",
    "resolve_policy",
    "run_virtual",
    "tiered",
    "workload_aware",
]
