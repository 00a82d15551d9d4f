from __future__ import annotations

import doctest
import importlib
import json
import pkgutil

import numpy as np
import pytest

import crucible.bench as bench
from crucible.bench import (
    BenchError,
    BenchInputError,
    adjust,
    confidence_sequence,
    group_sequential,
    power,
    ttest,
)
from crucible.core import CrucibleError, ValidationError


def test_error_hierarchy():
    assert issubclass(BenchError, CrucibleError)
    assert issubclass(BenchInputError, ValidationError)
    assert issubclass(BenchInputError, ValueError)


def test_results_serialise_to_json():
    values = [
        ttest([1.0, 2.0, 3.5], [2.0, 3.0, 5.0]),
        adjust([0.01, 0.2]),
        power("paired-t", effect=0.5, n=20),
        confidence_sequence([0.1, 0.5, 0.9], bounds=(0, 1)),
        group_sequential(2),
    ]
    for v in values:
        text = json.dumps(v.to_dict())
        assert text.startswith("{")
        assert str(v)


def test_ttest_str_is_readable():
    text = str(ttest([1.0, 2.0, 3.5, 4.0], [2.0, 3.0, 5.0, 6.5], equal_var=True))
    assert text.startswith("Student t-test: statistic(6) = ")
    assert "95% CI" in text


def test_public_surface_is_sorted_and_importable():
    assert list(bench.__all__) == sorted(bench.__all__, key=lambda s: (not s[0].isupper(), s))
    for name in bench.__all__:
        assert hasattr(bench, name)


_MODULES = [m.name for m in pkgutil.iter_modules(bench.__path__) if m.name.startswith("_")]


@pytest.mark.parametrize("module", _MODULES)
def test_docstring_examples_run(module):
    mod = importlib.import_module(f"crucible.bench.{module}")
    result = doctest.testmod(mod, optionflags=doctest.ELLIPSIS)
    assert result.failed == 0


def test_all_public_functions_have_references_and_validation():
    for name in bench.__all__:
        obj = getattr(bench, name)
        if callable(obj) and not isinstance(obj, type) and name not in ("interpret",):
            doc = obj.__doc__ or ""
            assert "Validated against" in doc, name
            assert "Examples" in doc, name


def test_no_rounding_in_results():
    r = ttest(np.array([1.1, 2.3, 3.7, 4.2]), mu=2.0)
    assert r.p_value != round(r.p_value, 6)
