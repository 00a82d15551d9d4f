"""crucible-lora: LoRA fine-tuning with an adapter-neutral, Tinker-shaped API."""

from crucible.lora._adapter_records import AdapterRecord, Evidence, Stage, config_hash
from crucible.lora._adapters import AdapterRegistry
from crucible.lora._backend import (
    BackendRegistry,
    Sampler,
    TrainingBackend,
    create_backend,
    register_backend,
)
from crucible.lora._base import BASE_MODEL_NAME, ByteTokenizer, load_base
from crucible.lora._chunking import chunk_data, reduce_metrics
from crucible.lora._config import AdamParams, LoraConfig, SamplingParams
from crucible.lora._datum import Datum, ForwardBackwardOutput, OptimStepResult
from crucible.lora._errors import (
    BackendUnavailableError,
    CheckpointError,
    LoraError,
    PromotionError,
    UnknownBackendError,
)
from crucible.lora._local import LocalBackend
from crucible.lora._losses import CustomLoss, CustomLossResult, LossFn
from crucible.lora._progress import ProgressDisplay, plot_training_curve
from crucible.lora._sampler import LocalSampler, load_sampler
from crucible.lora._trainer import (
    Callback,
    LrSchedule,
    StepRecord,
    Trainer,
    TrainingResult,
    to_datum,
)

__version__ = "0.1.0"

__all__ = [
    "BASE_MODEL_NAME",
    "AdamParams",
    "AdapterRecord",
    "AdapterRegistry",
    "BackendRegistry",
    "BackendUnavailableError",
    "ByteTokenizer",
    "Callback",
    "CheckpointError",
    "CustomLoss",
    "CustomLossResult",
    "Datum",
    "Evidence",
    "ForwardBackwardOutput",
    "LocalBackend",
    "LocalSampler",
    "LoraConfig",
    "LoraError",
    "LossFn",
    "LrSchedule",
    "OptimStepResult",
    "ProgressDisplay",
    "PromotionError",
    "Sampler",
    "SamplingParams",
    "Stage",
    "StepRecord",
    "Trainer",
    "TrainingBackend",
    "TrainingResult",
    "UnknownBackendError",
    "__version__",
    "chunk_data",
    "config_hash",
    "create_backend",
    "load_base",
    "load_sampler",
    "plot_training_curve",
    "reduce_metrics",
    "register_backend",
    "to_datum",
]
