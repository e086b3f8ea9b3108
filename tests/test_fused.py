"""Prediction's fused dense kernel (skmtl.architectures._fused): same outputs as the
modules, and only where nothing can tell the difference."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
import torch
from torch import nn

from skmtl import MultiTaskNet
from skmtl.architectures import _fused
from skmtl.tasks import Classification, MultiLabel, Regression

pytestmark = pytest.mark.skipif(not _fused._USABLE or not torch.backends.mkldnn.is_available(),
                                reason="this torch has no oneDNN linear kernel")


@pytest.fixture
def calls(monkeypatch):
    """Count the fused kernel's calls."""
    seen = []
    kernel = _fused._kernel()

    def counting():
        def call(*args):
            seen.append(args[3])
            return kernel(*args)
        return call

    monkeypatch.setattr(_fused, "_kernel", counting)
    return seen


def _stack(activation=nn.ReLU, dropout=True):
    torch.manual_seed(0)
    layers = [nn.Linear(7, 16), activation()]
    if dropout:
        layers.append(nn.Dropout(0.5))
    layers += [nn.Linear(16, 16), activation(), nn.Linear(16, 3)]
    return nn.Sequential(*layers).eval()


@pytest.mark.parametrize("activation", [nn.ReLU, nn.Tanh])
@pytest.mark.parametrize("rows", [1, 5, 300])
def test_same_outputs_as_the_modules(calls, activation, rows):
    stack, x = _stack(activation), torch.randn(rows, 7)
    with torch.inference_mode():
        fused = _fused.sequential(stack, x)
    expected = stack(x).detach()
    torch.testing.assert_close(fused, expected, rtol=1e-5, atol=1e-5)
    # ReLU joins its linear layer; another activation runs as a module after a plain product
    assert calls == (["relu", "relu", "none"] if activation is nn.ReLU else ["none"] * 3)


def test_dropout_in_training_mode_still_drops(calls):
    stack = _stack().train()
    x = torch.ones(2000, 7)
    with torch.no_grad():
        a, b = _fused.sequential(stack, x), stack.eval()(x)
    assert not torch.allclose(a, b)  # dropout was applied in training mode
    assert calls[0] == "relu"


@pytest.mark.parametrize("case", ["grad", "float64", "autocast", "hook", "tracing", "3-d"])
def test_modules_run_as_they_are_where_the_kernel_does_not_apply(calls, case):
    stack, x = _stack(dropout=False), torch.randn(8, 7)
    hooked = []
    if case == "float64":
        stack, x = stack.double(), x.double()
    if case == "hook":
        stack[0].register_forward_hook(lambda *a: hooked.append(1))
    if case == "3-d":
        x = torch.randn(2, 8, 7)
    if case == "grad":
        out = _fused.sequential(stack, x)
        assert out.requires_grad
    elif case == "autocast":
        with torch.no_grad(), torch.autocast("cpu", dtype=torch.bfloat16):
            out = _fused.sequential(stack, x)
        assert out.dtype == torch.bfloat16
    elif case == "tracing":
        class Wrapper(nn.Module):
            def __init__(self):
                super().__init__()
                self.stack = stack

            def forward(self, t):
                return _fused.sequential(self.stack, t)

        with torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)  # jit.trace, as ONNX uses it
            traced = torch.jit.trace(Wrapper(), x, check_trace=False)
        graph = str(traced.inlined_graph)
        assert "linear" in graph and "mkldnn" not in graph
    else:
        with torch.no_grad():
            _fused.sequential(stack, x)
    if case == "hook":
        # the hooked layer runs as a module (its hook fires); the next one may still fuse
        assert hooked == [1] and calls == ["relu", "none"]
    else:
        assert calls == []


def test_a_failing_kernel_switches_itself_off(monkeypatch):
    def broken():
        def call(*args):
            raise RuntimeError("no oneDNN here")
        return call

    monkeypatch.setattr(_fused, "_kernel", broken)
    monkeypatch.setattr(_fused, "_USABLE", True)
    stack, x = _stack(), torch.randn(4, 7)
    with torch.inference_mode():
        out = _fused.sequential(stack, x)
        torch.testing.assert_close(out, stack(x))
        assert not _fused._USABLE and not _fused.applies(x)


def _fitted(**params):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((300, 6)).astype(np.float32)
    y = pd.DataFrame({"r": X[:, 0] * 2 + rng.normal(0, 0.1, 300),
                      "b": np.where(X[:, 1] > 0, "yes", "no"),
                      "c": np.array(["x", "y", "z"])[(X[:, 2] > 0).astype(int) + (X[:, 3] > 0)]})
    est = MultiTaskNet(hidden_layer_sizes=(32, 16), max_epochs=3, random_state=0, device="cpu",
                       numeric_transform="none", numeric_embedding=None, **params)
    return est.fit(X, y), X, y


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("dropout", [0.0, 0.3])
def test_predict_matches_the_modules_with_gradients_on(calls, dropout):
    est, X, y = _fitted(dropout=dropout)
    n = len(calls)
    outputs = est._outputs(X)
    assert len(calls) > n  # prediction took the fused path
    module = est.net_.module_.eval()
    with torch.enable_grad():  # the modules' own path
        expected = [t.detach().numpy() for t in module(torch.from_numpy(X))]
    for got, want in zip(outputs, expected):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)
    pd.testing.assert_frame_equal(est.predict(X), est.predict(pd.DataFrame(X)).set_axis(
        est.predict(X).index))


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_predict_with_a_hook_on_the_trunk_runs_the_hooked_layer(calls):
    est, X, _ = _fitted()
    fired = []
    first = est.net_.module_.trunk[0]
    handle = first.register_forward_hook(lambda *a: fired.append(1))
    try:
        est.predict(X)
    finally:
        handle.remove()
    assert fired  # the hooked layer ran as a module


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("head_layer_sizes", [(), (8,)])
def test_deeper_heads_and_one_task_take_the_fused_path(calls, head_layer_sizes):
    est, X, y = _fitted(head_layer_sizes=head_layer_sizes)
    n = len(calls)
    outputs = est._outputs(X)
    # trunk: two layers with their ReLU; heads: stacked (one call) or one hidden layer each
    assert calls[n:] == (["relu", "relu", "none"] if not head_layer_sizes
                         else ["relu", "relu"] + ["relu", "none"] * 3)
    module = est.net_.module_.eval()
    with torch.enable_grad():
        expected = [t.detach().numpy() for t in module(torch.from_numpy(X))]
    for got, want in zip(outputs, expected):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)
    single = MultiTaskNet(hidden_layer_sizes=(16,), max_epochs=2, random_state=0, device="cpu",
                          numeric_transform="none", numeric_embedding=None).fit(X, y[["r"]])
    n = len(calls)
    single.predict(X)
    assert calls[n:] == ["relu", "none"]


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_slices_of_fused_rows_for_the_fused_network_only(monkeypatch):
    from skmtl import _chunks

    est, X, _ = _fitted()
    assert _chunks.slice_rows(est.net_.module_) == _chunks.FUSED_FORWARD_ROWS == 4096
    mmoe, _, _ = _fitted(architecture="mmoe")
    assert _chunks.slice_rows(mmoe.net_.module_) == _chunks.FORWARD_ROWS == 2048
    monkeypatch.setattr(_fused, "_USABLE", False)  # the kernel failed: the modules' slices
    assert _chunks.slice_rows(est.net_.module_) == _chunks.FORWARD_ROWS


def _mixed(n=400, seed=0):
    rng = np.random.default_rng(seed)
    X = pd.DataFrame(rng.standard_normal((n, 5)), columns=list("abcde"))
    X["cat"] = rng.choice(["u", "v", "w"], n)
    y = pd.DataFrame({
        "r": X["a"] * 3 + rng.normal(0, 0.1, n),
        "b": np.where(X["b"] > 0, "yes", "no"),
        "c": np.array(["x", "y", "z"])[(X["c"] > 0).astype(int) + (X["d"] > 0)],
        "m1": (X["a"] + X["e"] > 0).astype(int), "m2": (X["e"] > 0.5).astype(int),
    })
    y.loc[rng.random(n) < 0.4, "b"] = None  # missing labels
    return X, y


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("options", [
    {}, {"threshold": "accuracy", "temperature_scaling": True},
    {"numeric_transform": "none", "numeric_embedding": None, "dropout": 0.2},
])
def test_the_one_function_plan_gives_what_the_modules_give(monkeypatch, calls, options):
    """predict / predict_proba / score_tasks through the shared-bottom plan (every task's
    outputs as columns of one array) equal those of the modules' path."""
    from skmtl.architectures import SharedBottomModule

    X, y = _mixed()
    est = MultiTaskNet(tasks=[Regression("r"), Classification("b"), Classification("c"),
                              MultiLabel(["m1", "m2"], name="m")],
                       hidden_layer_sizes=(32, 16), max_epochs=4, random_state=0,
                       device="cpu", **options).fit(X, y)
    n = len(calls)
    planned = (est.predict(X), est.predict_proba(X), est.score_tasks(X, y), est._outputs(X))
    assert len(calls) > n and all(not o.flags["C_CONTIGUOUS"] for o in planned[3])
    monkeypatch.setattr(SharedBottomModule, "prediction_plan", lambda self: None)
    plain = (est.predict(X), est.predict_proba(X), est.score_tasks(X, y), est._outputs(X))
    pd.testing.assert_frame_equal(planned[0], plain[0], check_exact=False, rtol=1e-5)
    for a, b in zip(planned[1], plain[1]):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    assert planned[2] == pytest.approx(plain[2], rel=1e-6)
    for a, b in zip(planned[3], plain[3]):
        assert a.shape == b.shape and a.dtype == b.dtype == np.float32
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_no_plan_under_bf16_autocast(calls):
    X, y = _mixed()
    est = MultiTaskNet(hidden_layer_sizes=(16,), max_epochs=2, random_state=0, device="cpu",
                       precision="bf16").fit(X, y[["r", "c"]])
    n = len(calls)
    est.predict(X)
    assert calls[n:] == []  # the modules under autocast, as in training
