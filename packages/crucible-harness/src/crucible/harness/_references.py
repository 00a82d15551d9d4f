"""Citations of the methods a report uses."""

from __future__ import annotations

from typing import TYPE_CHECKING

from crucible.harness._document import Block, Bullets
from crucible.harness._metrics import MetricKind

if TYPE_CHECKING:
    from crucible.harness._analysis import Analysis

__all__ = ["REFERENCES", "references"]

REFERENCES = {
    "wilson": "Wilson, E. B. (1927). Probable inference, the law of succession, and statistical "
    "inference. JASA 22(158), 209-212. doi:10.1080/01621459.1927.10502953",
    "t": "Student (1908). The probable error of a mean. Biometrika 6(1), 1-25.",
    "mcnemar": "McNemar, Q. (1947). Note on the sampling error of the difference between "
    "correlated proportions or percentages. Psychometrika 12(2), 153-157. doi:10.1007/BF02295996",
    "miller": "Miller, E. (2024). Adding error bars to evals: a statistical approach to language "
    "model evaluations. arXiv:2411.00640",
    "cluster": "Cameron, A. C., & Miller, D. L. (2015). A practitioner's guide to cluster-robust "
    "inference. Journal of Human Resources 50(2), 317-372. doi:10.3368/jhr.50.2.317",
    "wilcoxon": "Wilcoxon, F. (1945). Individual comparisons by ranking methods. Biometrics "
    "Bulletin 1(6), 80-83. doi:10.2307/3001968",
    "shapiro": "Shapiro, S. S., & Wilk, M. B. (1965). An analysis of variance test for normality. "
    "Biometrika 52(3-4), 591-611. doi:10.1093/biomet/52.3-4.591",
    "welch": "Welch, B. L. (1947). The generalization of Student's problem when several different "
    "population variances are involved. Biometrika 34(1-2), 28-35. doi:10.1093/biomet/34.1-2.28",
    "ztest": "Newcombe, R. G. (1998). Interval estimation for the difference between independent "
    "proportions. Statistics in Medicine 17(8), 873-890.",
    "holm": "Holm, S. (1979). A simple sequentially rejective multiple test procedure. "
    "Scandinavian Journal of Statistics 6(2), 65-70.",
    "bonferroni": "Dunn, O. J. (1961). Multiple comparisons among means. JASA 56(293), 52-64. "
    "doi:10.1080/01621459.1961.10482090",
    "cochran": "Cochran, W. G. (1950). The comparison of percentages in matched samples. "
    "Biometrika 37(3-4), 256-266. doi:10.1093/biomet/37.3-4.256",
    "friedman": "Friedman, M. (1937). The use of ranks to avoid the assumption of normality "
    "implicit in the analysis of variance. JASA 32(200), 675-701.",
    "kruskal": "Kruskal, W. H., & Wallis, W. A. (1952). Use of ranks in one-criterion variance "
    "analysis. JASA 47(260), 583-621. doi:10.1080/01621459.1952.10483441",
    "cohen": "Cohen, J. (1988). Statistical Power Analysis for the Behavioral Sciences (2nd ed.). "
    "Lawrence Erlbaum.",
    "hedges": "Hedges, L. V. (1981). Distribution theory for Glass's estimator of effect size "
    "and related estimators. Journal of Educational Statistics 6(2), 107-128.",
    "pareto": "Deb, K. (2001). Multi-Objective Optimization using Evolutionary Algorithms. Wiley "
    "(Pareto dominance).",
}


def references(analysis: Analysis) -> list[Block]:
    """Full citations of every method the analysis used."""
    used = {"t", "cohen", "pareto", "shapiro"}
    if any(m.kind is MetricKind.BINARY for m in analysis.metrics):
        used.add("wilson")
    for c in analysis.comparisons:
        key = {
            "McNemar exact": "mcnemar",
            "Wilcoxon signed-rank": "wilcoxon",
            "Welch t": "welch",
            "two-proportion z-test": "ztest",
        }.get(c.test)
        used.add(key or "miller")
        if c.n_clusters:
            used.add("cluster")
        if c.design == "unpaired":
            used.add("hedges")
    for o in analysis.omnibus:
        used.add({"Cochran's Q": "cochran", "Friedman": "friedman"}.get(o.test, "kruskal"))
    if len(analysis.conditions) > 2:
        used.add("bonferroni" if analysis.correction == "bonferroni" else "holm")
    return [Bullets(tuple(REFERENCES[k] for k in REFERENCES if k in used))]
