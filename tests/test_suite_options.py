"""The test suite's own option: ``--architectures`` (tests/conftest.py)."""

import pytest
from conftest import _architecture

from skmtl import MultiTaskClassifier, MultiTaskNet, TaskGrouping


@pytest.mark.parametrize(("params", "expected"), [
    ({"architecture": "ple", "weighting": "equal"}, "ple"),
    ({"estimator": MultiTaskClassifier(architecture="tabm"), "check": print}, "tabm"),
    ({"estimator": MultiTaskNet()}, "shared_bottom"),
    ({"estimator": TaskGrouping(MultiTaskNet(architecture="cgc"))}, "cgc"),
    ({"weighting": "mgda", "missing": "sparse"}, None),
    ({"architecture": None}, None),
])
def test_a_test_is_parametrised_by_the_architecture_it_trains(params, expected):
    assert _architecture(params) == expected
