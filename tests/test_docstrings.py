"""Every public name has a numpydoc-style docstring."""

import inspect

import pytest

import skmtl
from skmtl import (
    affinity,
    architectures,
    callbacks,
    losses,
    metrics,
    model_selection,
    plotting,
    tabular,
    tasks,
    transfer,
    weighting,
)

MODULES = [skmtl, affinity, architectures, callbacks, losses, metrics, model_selection, plotting,
           tabular, tasks, transfer, weighting]
try:  # the `onnx` extra
    from skmtl import export

    MODULES.append(export)
except ImportError:
    pass

PUBLIC = [
    (module, name)
    for module in MODULES
    for name in module.__all__
    if not name.startswith("__") and not inspect.ismodule(getattr(module, name))
    and not isinstance(getattr(module, name), (dict, int, str))
]


@pytest.mark.parametrize(("module", "name"), PUBLIC, ids=[f"{m.__name__}.{n}" for m, n in PUBLIC])
def test_public_names_have_docstrings(module, name):
    obj = getattr(module, name)
    doc = inspect.getdoc(obj)
    assert doc and len(doc) > 20, f"{module.__name__}.{name} has no docstring"
    if inspect.isclass(obj):
        for method_name, method in vars(obj).items():
            if callable(method) and not method_name.startswith("_"):
                assert inspect.getdoc(getattr(obj, method_name)), f"{name}.{method_name}"
    if inspect.isfunction(obj):
        params = [p for p in inspect.signature(obj).parameters if p not in ("args", "kwargs")]
        assert not params or "Parameters" in doc, f"{name} documents no parameters"
