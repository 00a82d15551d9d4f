"""Kernel SHAP and LIME against the reference packages.

1. `kernel_shap` vs `shap.KernelExplainer` (``l1_reg=False``: plain Kernel SHAP) with the same
   coalition budget (both draw coalitions the same way, so they evaluate the same number of
   model rows) on a logistic regression and a random forest (scikit-learn, P(y = 1)),
   d = 10 features, 50 background rows. Error = mean over instances of the max absolute
   difference from exact Shapley values (all 2^10 coalitions enumerated by `kernel_shap`).
2. `lime` vs `lime.lime_tabular.LimeTabularExplainer` at 5 000 samples (quartile
   discretisation, default kernel width, all features): time per explanation and the rank
   correlation of the two packages' weights.

Each timing is the fastest of ``REPEATS`` runs after one warm-up run. Model time is measured
inside the model call, so ``overhead_speedup`` compares what each implementation adds around
the model (coalitions, batching, the regression). Prints one JSON line.
"""

from __future__ import annotations

import json
import time
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import shap
from lime.lime_tabular import LimeTabularExplainer
from scipy import stats
from sklearn.datasets import make_classification
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression

from crucible.xai import kernel_shap, lime

D, N_BG, N_EXPLAIN, BUDGET, REPEATS = 10, 50, 20, 300, 3


class Counter:
    """Wraps a model: counts rows and accumulates the time spent inside it."""

    def __init__(self, f: Callable[[np.ndarray], np.ndarray]) -> None:
        self.f, self.rows, self.seconds = f, 0, 0.0

    def __call__(self, Z: np.ndarray) -> np.ndarray:
        t = time.perf_counter()
        out = self.f(Z)
        self.seconds += time.perf_counter() - t
        self.rows += len(Z)
        return out


def best_of(run: Callable[[], Any], counter: Counter) -> tuple[float, float, Any, int]:
    """Warm up once, then the fastest of REPEATS runs: (total s, model s, result, model rows)."""
    run()
    best: tuple[float, float, Any, int] = (float("inf"), 0.0, None, 0)
    for _ in range(REPEATS):
        counter.rows, counter.seconds = 0, 0.0
        t0 = time.perf_counter()
        result = run()
        total = time.perf_counter() - t0
        if total < best[0]:
            best = (total, counter.seconds, result, counter.rows)
    return best


def shap_comparison(name: str, model: Any) -> dict[str, object]:
    X, y = make_classification(n_samples=2000, n_features=D, n_informative=6, random_state=0)
    model.fit(X, y)

    def f(Z: np.ndarray) -> np.ndarray:
        return model.predict_proba(Z)[:, 1]

    bg, xs = X[:N_BG], X[1000 : 1000 + N_EXPLAIN]
    exact = [kernel_shap(f, x, bg).values for x in xs]
    counter = Counter(f)
    explainer = shap.KernelExplainer(f, bg)
    explainer.model.f = counter

    def run_ours() -> list[np.ndarray]:
        return [
            kernel_shap(counter, x, bg, n_samples=BUDGET, seed=i).values for i, x in enumerate(xs)
        ]

    def run_shap() -> list[np.ndarray]:
        np.random.seed(0)  # shap samples coalitions from NumPy's global random state
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return [np.ravel(explainer.shap_values(x, nsamples=BUDGET, l1_reg=False, silent=True))
                    for x in xs]  # fmt: skip

    t_ours, m_ours, ours, rows_ours = best_of(run_ours, counter)
    t_shap, m_shap, theirs, rows_shap = best_of(run_shap, counter)

    def err(vals: list[np.ndarray]) -> float:
        return float(np.mean([np.abs(v - e).max() for v, e in zip(vals, exact, strict=True)]))

    return {
        "model": name, "crucible_s": round(t_ours, 4), "shap_s": round(t_shap, 4),
        "speedup": round(t_shap / t_ours, 2), "crucible_model_s": round(m_ours, 4),
        "shap_model_s": round(m_shap, 4),
        "overhead_speedup": round((t_shap - m_shap) / (t_ours - m_ours), 2),
        "crucible_evals_per_instance": rows_ours // N_EXPLAIN,
        "shap_evals_per_instance": rows_shap // N_EXPLAIN,
        "crucible_max_abs_error": round(err(ours), 6), "shap_max_abs_error": round(err(theirs), 6),
    }  # fmt: skip


def lime_comparison() -> dict[str, object]:
    X, y = make_classification(n_samples=2000, n_features=D, n_informative=6, random_state=1)
    model = LogisticRegression(max_iter=1000).fit(X, y)
    xs = X[1000 : 1000 + N_EXPLAIN]
    counter = Counter(model.predict_proba)
    ref = LimeTabularExplainer(X, mode="classification", discretize_continuous=True, random_state=0)

    def run_ours() -> list[np.ndarray]:
        return [
            lime(counter, x, X, output=1, n_samples=5000, seed=i).values for i, x in enumerate(xs)
        ]

    def run_lime() -> list[np.ndarray]:
        out = []
        for x in xs:
            e = ref.explain_instance(x, counter, labels=(1,), num_features=D, num_samples=5000)
            w = np.zeros(D)
            for j, v in e.as_map()[1]:
                w[j] = v
            out.append(w)
        return out

    t_ours, _, ours, _ = best_of(run_ours, counter)
    t_lime, _, theirs, _ = best_of(run_lime, counter)
    rho = [stats.spearmanr(a, b).statistic for a, b in zip(ours, theirs, strict=True)]
    return {
        "crucible_s_per_explanation": round(t_ours / N_EXPLAIN, 4),
        "lime_s_per_explanation": round(t_lime / N_EXPLAIN, 4),
        "speedup": round(t_lime / t_ours, 2), "mean_spearman_vs_lime": round(float(np.mean(rho)), 3),
    }  # fmt: skip


def main() -> None:
    results = [
        shap_comparison("logistic_regression", LogisticRegression(max_iter=1000)),
        shap_comparison(
            "random_forest", RandomForestClassifier(n_estimators=50, max_depth=6, random_state=0)
        ),
    ]
    print(json.dumps({
        "benchmark": "kernel_shap_vs_shap_and_lime_vs_lime", "features": D, "background": N_BG,
        "instances": N_EXPLAIN, "coalition_budget": BUDGET, "kernel_shap": results,
        "lime_5000_samples": lime_comparison(),
    }))  # fmt: skip


if __name__ == "__main__":
    main()
