"""crucible-bench: the statistics engine of Crucible.

Test selection from the data (:func:`compare`, :func:`compare_many`), named tests validated
against scipy, pingouin and statsmodels, effect sizes with confidence intervals, bootstrap and
analytic intervals, power analysis, multiple-comparison corrections, paired comparisons of
LLM evals with clustered standard errors, and anytime-valid sequential tests.
"""

from crucible.bench._anova import (
    anova,
    eta_squared,
    omega_squared,
    partial_eta_squared,
    rm_anova,
    welch_anova,
)
from crucible.bench._assumptions import levene, shapiro
from crucible.bench._bootstrap import BootstrapMethod, bootstrap_ci
from crucible.bench._categorical import (
    McNemarMethod,
    chi2_contingency,
    cochran_q,
    fisher_exact,
    mcnemar,
    proportions_ztest,
)
from crucible.bench._compare import Comparison, Kind, compare
from crucible.bench._compare_many import ManyComparison, compare_many
from crucible.bench._correlation import kendall, pearson, spearman
from crucible.bench._effect_size import cohen_d, glass_delta, hedges_g, interpret
from crucible.bench._errors import BenchError, BenchInputError, DegenerateDataError
from crucible.bench._evals import EvalComparison, EvalSampleSize, compare_evals, eval_sample_size
from crucible.bench._group_sequential import GroupSequentialDesign, Spending, group_sequential
from crucible.bench._intervals import ProportionMethod, mean_ci, proportion_ci
from crucible.bench._multiple import Adjusted, Correction, adjust
from crucible.bench._nonparametric import friedman, kruskal, ks_2samp, mann_whitney, wilcoxon
from crucible.bench._posthoc import Pairwise, PairwiseComparison, games_howell, tukey_hsd
from crucible.bench._power import Design, PowerResult, mde, power, sample_size
from crucible.bench._rank_effect_size import cliffs_delta, rank_biserial
from crucible.bench._results import AssumptionCheck, EffectSize, Interval, TestResult
from crucible.bench._sequential import (
    ConfidenceSequence,
    CSMethod,
    SequentialTest,
    confidence_sequence,
    msprt,
)
from crucible.bench._table_effect_size import cohen_h, cramers_v, odds_ratio
from crucible.bench._ttest import ttest
from crucible.bench._validate import Alternative, NanPolicy

__version__ = "0.1.0"

__all__ = [
    "Adjusted",
    "Alternative",
    "AssumptionCheck",
    "BenchError",
    "BenchInputError",
    "BootstrapMethod",
    "CSMethod",
    "Comparison",
    "ConfidenceSequence",
    "Correction",
    "DegenerateDataError",
    "Design",
    "EffectSize",
    "EvalComparison",
    "EvalSampleSize",
    "GroupSequentialDesign",
    "Interval",
    "Kind",
    "ManyComparison",
    "McNemarMethod",
    "NanPolicy",
    "Pairwise",
    "PairwiseComparison",
    "PowerResult",
    "ProportionMethod",
    "SequentialTest",
    "Spending",
    "TestResult",
    "__version__",
    "adjust",
    "anova",
    "bootstrap_ci",
    "chi2_contingency",
    "cliffs_delta",
    "cochran_q",
    "cohen_d",
    "cohen_h",
    "compare",
    "compare_evals",
    "compare_many",
    "confidence_sequence",
    "cramers_v",
    "eta_squared",
    "eval_sample_size",
    "fisher_exact",
    "friedman",
    "games_howell",
    "glass_delta",
    "group_sequential",
    "hedges_g",
    "interpret",
    "kendall",
    "kruskal",
    "ks_2samp",
    "levene",
    "mann_whitney",
    "mcnemar",
    "mde",
    "mean_ci",
    "msprt",
    "odds_ratio",
    "omega_squared",
    "partial_eta_squared",
    "pearson",
    "power",
    "proportion_ci",
    "proportions_ztest",
    "rank_biserial",
    "rm_anova",
    "sample_size",
    "shapiro",
    "spearman",
    "ttest",
    "tukey_hsd",
    "welch_anova",
    "wilcoxon",
]
