"""crucible-adversary: seeded attacks on LLM systems and what they did to the model."""

from crucible.adversary._attack import attack, rewrite
from crucible.adversary._evaluate import (
    AttackReport,
    AttackResult,
    AttackSpec,
    Outcome,
    Scorer,
    default_scorer,
    evaluate,
)
from crucible.adversary._metrics import Proportion, edit_distance, token_jaccard, wilson_interval
from crucible.adversary._redblue import Defence, DefendedModel, GuardLike, RedBlueReport, red_blue
from crucible.adversary._simulated import VulnerableModel
from crucible.adversary._smoothing import (
    Certificate,
    SmoothedPrediction,
    certify,
    clopper_pearson_lower,
    predict,
)
from crucible.adversary._values import Attacked, AttackGroup, AttackKind
from crucible.adversary._wrappers import canary_request, make_marker

__version__ = "0.1.0"

__all__ = [
    "MAX_TEXT_LENGTH",
    "AttackGroup",
    "AttackKind",
    "AttackReport",
    "AttackResult",
    "AttackSpec",
    "Attacked",
    "Certificate",
    "Defence",
    "DefendedModel",
    "GuardLike",
    "Outcome",
    "Proportion",
    "RedBlueReport",
    "Scorer",
    "SmoothedPrediction",
    "VulnerableModel",
    "__version__",
    "attack",
    "canary_request",
    "certify",
    "clopper_pearson_lower",
    "default_scorer",
    "edit_distance",
    "evaluate",
    "make_marker",
    "predict",
    "red_blue",
    "rewrite",
    "token_jaccard",
    "wilson_interval",
]
