"""crucible-fairness: group fairness with uncertainty, trade-offs, mitigation and LLM counterfactuals."""

from crucible.fairness._counterfactual import (
    BiasedModel,
    CounterfactualResult,
    counterfactual_fairness,
)
from crucible.fairness._criteria import (
    calibration,
    demographic_parity,
    disparate_impact,
    equal_opportunity,
    equalized_odds,
    predictive_parity,
)
from crucible.fairness._data import FairnessError
from crucible.fairness._disparity import Aggregation, Criterion, Disparity, SmallGroupWarning
from crucible.fairness._metrics import Binning, RateMetric, group_metrics
from crucible.fairness._mitigation import (
    Constraint,
    GroupThresholds,
    reweighing,
    threshold_optimizer,
)
from crucible.fairness._report import FairnessReport, fairness_report
from crucible.fairness._swaps import SWAP_LISTS, SwapList
from crucible.fairness._tradeoffs import Conflicts, conflict_analysis, pareto_frontier
from crucible.fairness._uncertainty import permutation_test

__version__ = "0.1.0"

__all__ = [
    "SWAP_LISTS",
    "Aggregation",
    "BiasedModel",
    "Binning",
    "Conflicts",
    "Constraint",
    "CounterfactualResult",
    "Criterion",
    "Disparity",
    "FairnessError",
    "FairnessReport",
    "GroupThresholds",
    "RateMetric",
    "SmallGroupWarning",
    "SwapList",
    "__version__",
    "calibration",
    "conflict_analysis",
    "counterfactual_fairness",
    "demographic_parity",
    "disparate_impact",
    "equal_opportunity",
    "equalized_odds",
    "fairness_report",
    "group_metrics",
    "pareto_frontier",
    "permutation_test",
    "predictive_parity",
    "reweighing",
    "threshold_optimizer",
]
