from __future__ import annotations

import numpy as np
import pytest

from crucible.xai import (
    XAIError,
    explanation_html,
    kernel_shap,
    partial_dependence,
    plot_bar,
    plot_beeswarm,
    plot_dependence,
    plot_waterfall,
)


def f(X):
    return 2 * X[:, 0] - X[:, 1] + X[:, 0] * X[:, 2]


@pytest.fixture(scope="module")
def explanations():
    rng = np.random.default_rng(0)
    bg = rng.normal(size=(10, 3))
    return [kernel_shap(f, x, bg) for x in rng.normal(size=(8, 3))]


def test_plots_draw_what_they_say(explanations):
    bar = plot_bar(explanations)
    heights = sorted(p.get_width() for p in bar.axes[0].patches)
    expected = sorted(np.abs([e.values for e in explanations]).mean(axis=0))
    np.testing.assert_allclose(heights, expected)
    swarm = plot_beeswarm(explanations)
    assert len(swarm.axes[0].collections) == 3
    water = plot_waterfall(explanations[0])
    widths = [p.get_width() for p in water.axes[0].patches]
    assert sum(widths) == pytest.approx(explanations[0].prediction - explanations[0].base_value)


def test_dependence_plots():
    X = np.random.default_rng(1).normal(size=(50, 3))
    one = plot_dependence(partial_dependence(f, X, 0, grid_resolution=10), centered=True)
    assert len(one.axes[0].lines) == 51  # 50 ICE curves + the average
    two = plot_dependence(partial_dependence(f, X, [0, 2], grid_resolution=5))
    assert two.axes[0].get_xlabel() == "x0"


def test_html_is_self_contained(explanations):
    page = explanation_html(explanations, title="Demo")
    assert page.count("data:image/png;base64,") == 3
    assert "<title>Demo</title>" in page and "http" not in page.split("<body>")[1]
    with pytest.raises(XAIError, match="`explanations` is empty"):
        explanation_html([])
