"""Kernel SHAP and LIME against the reference packages.

1. `kernel_shap` vs `shap.KernelExplainer` (``l1_reg=False``: plain Kernel SHAP) with the same
   coalition budget on a logistic regression and a random forest (scikit-learn, P(y = 1)),
   d = 10 features, 50 background rows. Error = mean over instances of the max absolute
   difference from exact Shapley values (all 2^10 coalitions enumerated by `kernel_shap`).
2. `lime` vs `lime.lime_tabular.LimeTabularExplainer` at 5 000 samples (quartile
   discretisation, default kernel width, all features): time per explanation and the rank
   correlation of the two packages' weights.

Model time is measured inside the model call, so ``overhead_speedup`` compares what each
implementation adds around the model (coalitions, batching, the regression). Prints one JSON
line.
"""

from __future__ import annotations

import json
import time
import warnings

import numpy as np
import shap
from lime.lime_tabular import LimeTabularExplainer
from scipy import stats
from sklearn.datasets import make_classification
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression

from crucible.xai import kernel_shap, lime

D, N_BG, N_EXPLAIN, BUDGET = 10, 50, 10, 300


def shap_comparison(name: str, model) -> dict[str, object]:
    X, y = make_classification(n_samples=2000, n_features=D, n_informative=6, random_state=0)
    model.fit(X, y)

    def f(Z: np.ndarray) -> np.ndarray:
        return model.predict_proba(Z)[:, 1]

    bg, xs = X[:N_BG], X[1000 : 1000 + N_EXPLAIN]
    exact = [kernel_shap(f, x, bg).values for x in xs]
    calls = {"rows": 0, "model_s": 0.0}

    def counted(Z: np.ndarray) -> np.ndarray:
        t = time.perf_counter()
        out = f(Z)
        calls["model_s"] += time.perf_counter() - t
        calls["rows"] += len(Z)
        return out

    t0 = time.perf_counter()
    ours = [kernel_shap(counted, x, bg, n_samples=BUDGET, seed=i) for i, x in enumerate(xs)]
    t_ours = time.perf_counter() - t0
    model_ours = calls["model_s"]
    explainer = shap.KernelExplainer(f, bg)
    calls.update(rows=0, model_s=0.0)
    explainer.model.f = counted
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = [explainer.shap_values(x, nsamples=BUDGET, l1_reg=False, silent=True) for x in xs]
    t_shap = time.perf_counter() - t0

    def err(vals: list[np.ndarray]) -> float:
        return float(np.mean([np.abs(v - e).max() for v, e in zip(vals, exact, strict=True)]))

    return {
        "model": name, "crucible_s": round(t_ours, 4), "shap_s": round(t_shap, 4),
        "speedup": round(t_shap / t_ours, 2),
        "crucible_model_s": round(model_ours, 4), "shap_model_s": round(calls["model_s"], 4),
        "overhead_speedup": round((t_shap - calls["model_s"]) / (t_ours - model_ours), 2),
        "crucible_evals_per_instance": int(np.mean([e.n_evaluations for e in ours])),
        "shap_evals_per_instance": calls["rows"] // N_EXPLAIN,
        "crucible_max_abs_error": err([e.values for e in ours]),
        "shap_max_abs_error": err([np.ravel(v) for v in theirs]),
    }  # fmt: skip


def lime_comparison() -> dict[str, object]:
    X, y = make_classification(n_samples=2000, n_features=D, n_informative=6, random_state=1)
    model = LogisticRegression(max_iter=1000).fit(X, y)
    xs = X[1000 : 1000 + N_EXPLAIN]
    t0 = time.perf_counter()
    ours = [
        lime(model.predict_proba, x, X, output=1, n_samples=5000, seed=i) for i, x in enumerate(xs)
    ]
    t_ours = time.perf_counter() - t0
    ref = LimeTabularExplainer(X, mode="classification", discretize_continuous=True, random_state=0)
    t0 = time.perf_counter()
    theirs = [ref.explain_instance(x, model.predict_proba, labels=(1,), num_features=D, num_samples=5000)
              for x in xs]  # fmt: skip
    t_lime = time.perf_counter() - t0
    rho = []
    for e, t in zip(ours, theirs, strict=True):
        w = np.zeros(D)
        for j, v in t.as_map()[1]:
            w[j] = v
        rho.append(stats.spearmanr(e.values, w).statistic)
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
