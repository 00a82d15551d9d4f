"""crucible-guard: input and output guards for LLM systems."""

from crucible.guard._detectors import (
    AsyncDetector,
    Detector,
    JailbreakDetector,
    PIIDetector,
    PromptInjectionDetector,
    RuleDetector,
    SecretsDetector,
)
from crucible.guard._errors import GuardBlockedError, GuardError, JudgeError
from crucible.guard._guard import DEFAULT_MAX_LENGTH, Guard
from crucible.guard._jailbreak_rules import JAILBREAK_RULES
from crucible.guard._judge import DEFAULT_POLICY, JudgeDetector, OnError
from crucible.guard._model import GuardedModel
from crucible.guard._normalize import Normalized, View, normalize
from crucible.guard._output import FormatDetector, LeakageDetector, make_canary
from crucible.guard._pii import PII_TYPES, SECRET_TYPES, Finding, find_pii
from crucible.guard._redact import Redaction, Strategy, redact, restore
from crucible.guard._registry import (
    DEFAULT_DETECTORS,
    DetectorRegistry,
    default_registry,
    get_detector,
    register_detector,
)
from crucible.guard._rules import INJECTION_RULES, Rule
from crucible.guard._values import Action, Detection, GuardResult, Stage

__version__ = "0.1.0"

__all__ = [
    "DEFAULT_DETECTORS",
    "DEFAULT_MAX_LENGTH",
    "DEFAULT_POLICY",
    "INJECTION_RULES",
    "JAILBREAK_RULES",
    "PII_TYPES",
    "SECRET_TYPES",
    "Action",
    "AsyncDetector",
    "Detection",
    "Detector",
    "DetectorRegistry",
    "Finding",
    "FormatDetector",
    "Guard",
    "GuardBlockedError",
    "GuardError",
    "GuardResult",
    "GuardedModel",
    "JailbreakDetector",
    "JudgeDetector",
    "JudgeError",
    "LeakageDetector",
    "Normalized",
    "OnError",
    "PIIDetector",
    "PromptInjectionDetector",
    "Redaction",
    "Rule",
    "RuleDetector",
    "SecretsDetector",
    "Stage",
    "Strategy",
    "View",
    "__version__",
    "default_registry",
    "find_pii",
    "get_detector",
    "make_canary",
    "normalize",
    "redact",
    "register_detector",
    "restore",
]
