"""``precision=`` (bfloat16 / float16 autocast) and ``compile=`` (torch.compile).

The data are a 3,000-row sample of the speed benchmark's synthetic 3-task table
(``benchmarks/datasets.make_data``: 64 standard-normal features, a regression, a binary
and a 5-class task), with labels removed at random (30 % of the regression's, 20 % of
the binary task's) so that the masked losses are exercised.
"""

from __future__ import annotations

import pickle
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.base import clone

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))

from datasets import make_data  # noqa: E402

from skmtl import MultiTaskNet  # noqa: E402
from skmtl._training._precision import MixedPrecision  # noqa: E402
from skmtl.weighting import UPGrad  # noqa: E402

#: Largest relative gap allowed between the final training loss of a bf16 fit and of the
#: float32 fit (bfloat16 keeps 8 bits of mantissa; measured gaps were < 2 %).
LOSS_TOLERANCE = 0.05
#: Largest gap allowed between the mean test scores (R² / accuracies) of the two fits.
SCORE_TOLERANCE = 0.03


@pytest.fixture(scope="module")
def table():
    data = make_data(4_000, seed=3)
    y = data.y_frame()
    rng = np.random.default_rng(0)
    y.loc[rng.random(len(y)) < 0.3, "reg"] = np.nan
    y["binary"] = y["binary"].astype("Int64")
    y.loc[rng.random(len(y)) < 0.2, "binary"] = pd.NA
    return data.X[:3_000], y.iloc[:3_000], data.X[3_000:], y.iloc[3_000:]


def _fit(X, y, **params):
    params = {"hidden_layer_sizes": (64, 64), "max_epochs": 8, "batch_size": 128,
              "early_stopping": False, "random_state": 0, "device": "cpu", **params}
    est = MultiTaskNet(**params)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # under-training at max_epochs
        return est.fit(X, y)


@pytest.mark.parametrize("weighting", [UPGrad(mode="representation"), "uncertainty"],
                         ids=["upgrad-representation", "uncertainty"])
def test_bf16_trains_like_float32(table, weighting):
    X, y, X_test, y_test = table
    full = _fit(X, y, weighting=weighting)
    half = _fit(X, y, weighting=weighting, precision="bf16")
    loss32, loss16 = full.history_[-1, "train_loss"], half.history_[-1, "train_loss"]
    assert abs(loss16 - loss32) <= LOSS_TOLERANCE * loss32, (loss16, loss32)
    # it trained (not two equally untrained models): the loss fell from the first epoch
    assert loss16 < 0.7 * half.history_[0, "train_loss"]
    assert abs(half.score(X_test, y_test) - full.score(X_test, y_test)) <= SCORE_TOLERANCE
    assert half.score(X_test, y_test) > 0.6
    # outputs in the dtypes of y (labels) and float32 network outputs, never bfloat16
    predicted = half.predict(X_test)
    assert predicted.dtypes.tolist() == full.predict(X_test).dtypes.tolist()
    assert predicted["reg"].dtype == np.float64 and predicted["multiclass"].dtype == np.int64
    probas = half.predict_proba(X_test)
    assert [p.dtype for p in probas] == [p.dtype for p in full.predict_proba(X_test)]
    assert all(np.isfinite(p).all() and np.allclose(p.sum(axis=1), 1, atol=1e-5) for p in probas)
    assert half.net_.module_(torch.as_tensor(X_test[:4]))[0].dtype == torch.float32  # weights


def test_precision_16_needs_cuda(table):
    X, y, _, _ = table
    with pytest.raises(ValueError, match=r"precision='16'.*CUDA.*precision='bf16'"):
        MultiTaskNet(precision="16", device="cpu", max_epochs=1).fit(X[:50], y[:50])


def test_bf16_model_pickles_clones_and_warm_starts(table):
    X, y, X_test, _ = table
    est = _fit(X[:1_000], y[:1_000], precision="bf16")
    restored = pickle.loads(pickle.dumps(est))
    np.testing.assert_array_equal(restored.predict(X_test).to_numpy(),
                                  est.predict(X_test).to_numpy())
    np.testing.assert_array_equal(restored.predict_proba(X_test)[1],
                                  est.predict_proba(X_test)[1])
    assert clone(est).get_params()["precision"] == "bf16"
    before = est.history_[-1, "train_loss"]
    est.set_params(warm_start=True, max_epochs=2).fit(X[:1_000], y[:1_000])
    assert len(est.history_) == 10 and est.history_[-1, "train_loss"] < before


def test_mixed_precision_16_unscales_gradients():
    """The float16 path's gradient scaling, checked on the CPU with a GradScaler there:
    gradients seen by callbacks and applied by the optimizer are the float32 ones, the
    balancer's own parameter (not behind the scaled outputs) included."""
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(4, 3))
    log_var = torch.nn.Parameter(torch.tensor(0.3))
    X = torch.randn(16, 4)

    def forward(module, X):
        return (module(X),), None

    def loss_of(outputs):
        return (torch.exp(-log_var) * outputs[0].pow(2).mean() + log_var)

    reference = [g.clone() for g in torch.autograd.grad(
        loss_of(forward(net, X)[0]), [*net.parameters(), log_var])]
    amp = MixedPrecision("16", "cpu")
    amp.scaler = torch.amp.GradScaler("cpu", init_scale=1024.0)
    optimizer = torch.optim.SGD([*net.parameters(), log_var], lr=0.0)
    outputs, _ = amp.forward(forward, net, X)
    assert outputs[0].dtype == torch.float32
    loss_of(outputs).backward()
    assert net[0].weight.grad.abs().sum() > 100 * reference[0].abs().sum()  # scaled
    seen = []
    amp.step([optimizer], [log_var], before_step=lambda: seen.extend(
        p.grad.clone() for p in [*net.parameters(), log_var]))
    for got, want in zip(seen, reference):
        torch.testing.assert_close(got, want, rtol=2e-2, atol=1e-3)
    assert amp.scaler.get_scale() == 1024.0  # finite gradients: the step was taken


class CountingBackend:
    """A torch.compile backend running the captured graphs as they are, counting them
    (module-level, so that the estimator holding it pickles)."""

    def __init__(self):
        self.graphs = 0

    def __call__(self, graph, example_inputs):
        self.graphs += 1
        return graph.forward


def test_compile_gives_the_same_model_and_pickles(table):
    """compile= with a counting backend (no code generation, fast): the compiled forward
    is the one trained and predicting, and the fitted model pickles without it."""
    torch._dynamo.reset()
    X, y, X_test, _ = table
    backend = CountingBackend()
    plain = _fit(X[:600], y[:600], max_epochs=2)
    compiled = _fit(X[:600], y[:600], max_epochs=2, compile={"backend": backend})
    assert backend.graphs > 0, "the compiled forward was never used"
    assert "_orig_mod" not in "".join(n for n, _ in compiled.net_.module_.named_parameters())
    np.testing.assert_allclose(compiled.predict(X_test)["reg"], plain.predict(X_test)["reg"],
                               rtol=1e-4, atol=1e-5)
    restored = pickle.loads(pickle.dumps(compiled))
    assert "_compiled" not in restored.net_.__dict__
    np.testing.assert_allclose(restored.predict(X_test)["reg"], compiled.predict(X_test)["reg"],
                               rtol=1e-6)


def test_compile_errors_name_the_parameter(table, monkeypatch):
    X, y, _, _ = table
    with pytest.raises(RuntimeError, match="compile=.*compile=False"):
        _fit(X[:100], y[:100], max_epochs=1, compile={"backend": "no_such_backend"})
    import shutil

    monkeypatch.setattr(shutil, "which", lambda name: None)
    with pytest.raises(RuntimeError, match="C\\+\\+ compiler.*compile=False"):
        _fit(X[:100], y[:100], max_epochs=1, compile=True)


@pytest.mark.slow
def test_compile_inductor_matches_eager(table):
    """compile=True (torch's default inductor backend, C++ code generation on the CPU)."""
    X, y, X_test, y_test = table
    plain = _fit(X[:600], y[:600], max_epochs=2, hidden_layer_sizes=(32,))
    compiled = _fit(X[:600], y[:600], max_epochs=2, hidden_layer_sizes=(32,), compile=True)
    np.testing.assert_allclose(compiled.predict(X_test)["reg"], plain.predict(X_test)["reg"],
                               rtol=1e-3, atol=1e-4)
    assert abs(compiled.score(X_test, y_test) - plain.score(X_test, y_test)) < 1e-3
