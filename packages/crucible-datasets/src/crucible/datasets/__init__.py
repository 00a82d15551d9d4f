"""crucible-datasets: loaders, a verified cache, scorers, a code sandbox, sampling and checks."""

from crucible.datasets import score
from crucible.datasets._catalog import DATASETS, DatasetSpec
from crucible.datasets._checks import (
    Expectation,
    ExpectationResult,
    ValidationReport,
    between,
    check,
    in_set,
    length,
    mean_between,
    no_duplicate_ids,
    not_null,
    regex,
    row_count,
    unique,
)
from crucible.datasets._dataset import Dataset, content_hash
from crucible.datasets._download import adownload, default_cache_dir, download, download_file
from crucible.datasets._errors import ChecksumMismatchError, DownloadError, UnknownDatasetError
from crucible.datasets._humaneval import (
    CodeEvaluation,
    SampleResult,
    evaluate_code,
    pass_at_k,
    program,
)
from crucible.datasets._loading import DataSource, InvalidArgumentError, load
from crucible.datasets._prompts import multiple_choice_prompt
from crucible.datasets._registry import ScorerName, get_scorer, register_scorer, scorer_names
from crucible.datasets._sampling import Split, bootstrap, k_fold, sample, train_test_split
from crucible.datasets._sandbox import (
    ExecutionResult,
    ExecutionStatus,
    SandboxBackend,
    SandboxLimits,
    available_backends,
    run_code,
)
from crucible.datasets._scoring import Score

__version__ = "0.1.0"

__all__ = [
    "DATASETS",
    "ChecksumMismatchError",
    "CodeEvaluation",
    "DataSource",
    "Dataset",
    "DatasetSpec",
    "DownloadError",
    "ExecutionResult",
    "ExecutionStatus",
    "Expectation",
    "ExpectationResult",
    "InvalidArgumentError",
    "SampleResult",
    "SandboxBackend",
    "SandboxLimits",
    "Score",
    "ScorerName",
    "Split",
    "UnknownDatasetError",
    "ValidationReport",
    "__version__",
    "adownload",
    "available_backends",
    "between",
    "bootstrap",
    "check",
    "content_hash",
    "default_cache_dir",
    "download",
    "download_file",
    "evaluate_code",
    "get_scorer",
    "in_set",
    "k_fold",
    "length",
    "load",
    "mean_between",
    "multiple_choice_prompt",
    "no_duplicate_ids",
    "not_null",
    "pass_at_k",
    "program",
    "regex",
    "register_scorer",
    "row_count",
    "run_code",
    "sample",
    "score",
    "scorer_names",
    "train_test_split",
    "unique",
]
