"""Plots (matplotlib, the ``plot`` extra, imported lazily) and a self-contained HTML export."""

from __future__ import annotations

import base64
import html
import io
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from crucible.core import ConfigurationError
from crucible.xai._global import PartialDependence
from crucible.xai._model import Explanation, XAIError

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["explanation_html", "plot_bar", "plot_beeswarm", "plot_dependence", "plot_waterfall"]


def _figure(width: float, height: float) -> Figure:
    try:
        from matplotlib.figure import Figure
    except ImportError as exc:  # pragma: no cover - exercised only without the extra
        raise ConfigurationError(
            'plotting needs matplotlib: pip install "crucible-xai[plot]"'
        ) from exc
    return Figure(figsize=(width, height), layout="constrained")


def _as_list(explanations: Explanation | Sequence[Explanation]) -> list[Explanation]:
    items = [explanations] if isinstance(explanations, Explanation) else list(explanations)
    if not items:
        raise XAIError("`explanations` is empty; pass at least one Explanation")
    names = items[0].feature_names
    if any(e.feature_names != names for e in items):
        raise XAIError("every explanation must have the same `feature_names`")
    return items


def plot_bar(
    explanations: Explanation | Sequence[Explanation], *, max_features: int = 15
) -> Figure:
    """Bar chart of mean |attribution| per feature (one explanation: signed values)."""
    items = _as_list(explanations)
    values = np.array([e.values for e in items])
    score = values[0] if len(items) == 1 else np.abs(values).mean(axis=0)
    order = np.argsort(np.abs(score))[::-1][:max_features][::-1]
    fig = _figure(6, 0.35 * len(order) + 1)
    ax = fig.add_subplot()
    ax.barh([items[0].feature_names[i] for i in order], score[order],
            color=["#c33" if v < 0 else "#27a" for v in score[order]])  # fmt: skip
    ax.set_xlabel("attribution" if len(items) == 1 else "mean |attribution|")
    ax.set_title(items[0].method)
    return fig


def plot_beeswarm(
    explanations: Sequence[Explanation], *, max_features: int = 15, seed: int = 0
) -> Figure:
    """Beeswarm summary: one dot per explanation and feature, coloured by the feature's value."""
    items = _as_list(explanations)
    values = np.array([e.values for e in items])
    xs = np.array([e.x for e in items])
    order = np.argsort(np.abs(values).mean(axis=0))[::-1][:max_features][::-1]
    fig = _figure(7, 0.4 * len(order) + 1.2)
    ax = fig.add_subplot()
    jitter = np.random.default_rng(seed).uniform(-0.3, 0.3, values.shape[0])
    for row, j in enumerate(order):
        col = xs[:, j]
        span = np.ptp(col) or 1.0
        points = ax.scatter(values[:, j], row + jitter, c=(col - col.min()) / span, cmap="coolwarm",
                            s=10, vmin=0, vmax=1)  # fmt: skip
    ax.set_yticks(range(len(order)), [items[0].feature_names[j] for j in order])
    ax.axvline(0, color="#888", lw=0.8)
    ax.set_xlabel("attribution")
    fig.colorbar(points, ax=ax, label="feature value (low → high)")
    return fig


def plot_waterfall(explanation: Explanation, *, max_features: int = 12) -> Figure:
    """Waterfall from the base value to f(x), largest contributions first."""
    order = np.argsort(np.abs(explanation.values))[::-1]
    shown, rest = order[:max_features], order[max_features:]
    labels = [f"{explanation.feature_names[i]} = {explanation.x[i]:.3g}" for i in shown]
    steps = list(explanation.values[shown])
    if rest.size:
        labels.append(f"{rest.size} other features")
        steps.append(float(explanation.values[rest].sum()))
    fig = _figure(7, 0.4 * len(steps) + 1.2)
    ax = fig.add_subplot()
    start = explanation.base_value
    for row, step in enumerate(steps):
        ax.barh(len(steps) - 1 - row, step, left=start, color="#c33" if step < 0 else "#27a")
        ax.text(start + step, len(steps) - 1 - row, f" {step:+.3g}", va="center", fontsize=8)
        start += step
    ax.set_yticks(range(len(steps)), labels[::-1])
    ax.margins(x=0.15)  # room for the value labels beside the bars
    ax.axvline(explanation.base_value, color="#888", ls=":", lw=0.8)
    ax.set_xlabel(f"output (base {explanation.base_value:.3g} → f(x) {explanation.prediction:.3g})")
    return fig


def plot_dependence(pd: PartialDependence, *, ice: bool = True, centered: bool = False) -> Figure:
    """Partial dependence with ICE curves (1-D) or a filled contour (2-D)."""
    fig = _figure(6, 4)
    ax = fig.add_subplot()
    if len(pd.features) == 2:
        cs = ax.contourf(pd.grid[0], pd.grid[1], pd.average.T, levels=12, cmap="viridis")
        fig.colorbar(cs, ax=ax, label="partial dependence")
        ax.set_xlabel(pd.feature_names[0])
        ax.set_ylabel(pd.feature_names[1])
        return fig
    curves = pd.centered() if centered else pd.individual
    average = curves.mean(axis=0) if curves is not None and centered else pd.average
    if ice and curves is not None:
        step = max(1, curves.shape[0] // 100)
        ax.plot(pd.grid[0], curves[::step].T, color="#999", lw=0.5, alpha=0.5)
    ax.plot(pd.grid[0], average, color="#c33", lw=2.5, label="partial dependence")
    ax.set_xlabel(pd.feature_names[0])
    ax.set_ylabel("centred prediction" if centered else "prediction")
    ax.legend()
    return fig


def _png(fig: Figure) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=96)
    return base64.b64encode(buf.getvalue()).decode("ascii")


def explanation_html(
    explanations: Explanation | Sequence[Explanation], *, title: str = "Explanations",
    extra_figures: Sequence[Any] = (),
) -> str:  # fmt: skip
    """A self-contained HTML page: bar (and beeswarm, waterfall) plots as inline PNG and a table."""
    items = _as_list(explanations)
    figs = [plot_bar(items), plot_waterfall(items[0])]
    if len(items) > 1:
        figs.insert(1, plot_beeswarm(items))
    figs += list(extra_figures)
    images = "".join(f"<img alt='plot' src='data:image/png;base64,{_png(f)}'/>" for f in figs)
    e = items[0]
    rows = "".join(
        f"<tr><td>{html.escape(n)}</td><td>{x:.4g}</td><td>{v:+.4g}</td></tr>"
        for n, x, v in zip(e.feature_names, e.x, e.values, strict=True)
    )
    return (
        f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
        "<style>body{font-family:sans-serif;max-width:1000px;margin:2em auto}img{max-width:100%}"
        "td,th{border:1px solid #ccc;padding:2px 8px}table{border-collapse:collapse}</style>"
        f"</head><body><h1>{html.escape(title)}</h1><p>{html.escape(e.method)}: f(x) = "
        f"{e.prediction:.4g}, base = {e.base_value:.4g}, {len(items)} explanation(s)</p>{images}"
        f"<table><tr><th>feature</th><th>value</th><th>attribution</th></tr>{rows}</table>"
        "</body></html>"
    )
