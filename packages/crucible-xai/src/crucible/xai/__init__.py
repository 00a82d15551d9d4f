"""crucible-xai: explanations for models and LLM prompts."""

from crucible.xai._attribution import integrated_gradients, occlusion
from crucible.xai._checks import (
    Curve,
    deletion_curve,
    dummy_gap,
    efficiency_gap,
    infidelity,
    insertion_curve,
    linearity_gap,
    max_sensitivity,
    symmetry_gap,
)
from crucible.xai._global import (
    ALE,
    PartialDependence,
    accumulated_local_effects,
    h_statistic,
    ice,
    partial_dependence,
    permutation_importance,
)
from crucible.xai._lime import Discretizer, lime
from crucible.xai._model import Explanation, XAIError
from crucible.xai._plots import (
    explanation_html,
    plot_bar,
    plot_beeswarm,
    plot_dependence,
    plot_waterfall,
)
from crucible.xai._prompt import PromptAttribution, Segmentation, prompt_attribution
from crucible.xai._shap import kernel_shap, linear_shap, sampling_shap

__version__ = "0.1.0"

__all__ = [
    "ALE",
    "Curve",
    "Discretizer",
    "Explanation",
    "PartialDependence",
    "PromptAttribution",
    "Segmentation",
    "XAIError",
    "__version__",
    "accumulated_local_effects",
    "deletion_curve",
    "dummy_gap",
    "efficiency_gap",
    "explanation_html",
    "h_statistic",
    "ice",
    "infidelity",
    "insertion_curve",
    "integrated_gradients",
    "kernel_shap",
    "lime",
    "linear_shap",
    "linearity_gap",
    "max_sensitivity",
    "occlusion",
    "partial_dependence",
    "permutation_importance",
    "plot_bar",
    "plot_beeswarm",
    "plot_dependence",
    "plot_waterfall",
    "prompt_attribution",
    "sampling_shap",
    "symmetry_gap",
]
