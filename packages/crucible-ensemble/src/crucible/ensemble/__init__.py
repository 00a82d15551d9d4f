"""crucible-ensemble: several models answer, a stated rule decides, every vote and cost is kept."""

from crucible.ensemble._ensemble import Ensemble, WeightFit
from crucible.ensemble._execution import ExecutionName
from crucible.ensemble._normalize import (
    Normalizer,
    NormalizerName,
    normalize_boolean,
    normalize_letter,
    normalize_number,
    normalize_text,
    resolve_normalizer,
)
from crucible.ensemble._result import (
    EnsembleError,
    EnsembleResult,
    MemberResult,
    QuorumNotMetError,
)
from crucible.ensemble._voting import (
    Ballot,
    Decision,
    VotingName,
    VotingRule,
    completion_confidence,
    resolve_voting,
)

__version__ = "0.1.0"

__all__ = [
    "Ballot",
    "Decision",
    "Ensemble",
    "EnsembleError",
    "EnsembleResult",
    "ExecutionName",
    "MemberResult",
    "Normalizer",
    "NormalizerName",
    "QuorumNotMetError",
    "VotingName",
    "VotingRule",
    "WeightFit",
    "__version__",
    "completion_confidence",
    "normalize_boolean",
    "normalize_letter",
    "normalize_number",
    "normalize_text",
    "resolve_normalizer",
    "resolve_voting",
]
