"""Training on a CUDA device: same results as on the CPU, no device sync per step,
streaming from pinned host memory, and a CUDA-fitted model that loads on a CPU-only
machine. Skipped where CUDA is not available (CI)."""

import os
import pickle
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
import torch
from cuda_syncs import sync_warnings

from skmtl import MultiTaskNet
from skmtl._build import _as_tensors
from skmtl._training import TensorBatchIterator, _placement
from skmtl.losses import CrossEntropyLoss
from skmtl.tasks import Classification, Regression

pytestmark = [
    pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device"),
    pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning"),
]

PARAMS = dict(hidden_layer_sizes=(32,), max_epochs=3, batch_size=32, random_state=0,
              early_stopping=False)


def make_data(n=320, seed=0):
    """Three tasks (regression, binary, multiclass), each with about a third missing."""
    rng = np.random.RandomState(seed)
    X = rng.normal(size=(n, 6)).astype(np.float32)
    y = pd.DataFrame({
        "r": X[:, 0] - 2 * X[:, 1] + 0.1 * rng.normal(size=n),
        "c": np.where(X[:, 2] + 0.3 * rng.normal(size=n) > 0.5, "pos", "neg"),
        "m": np.where(X[:, 3] > 0.5, "a", np.where(X[:, 3] < -0.5, "b", "c")),
    })
    for column in y:
        y[column] = y[column].where(rng.rand(n) > 0.3)
    return X, y


def tasks():
    # balanced class weights: a tensor the loss must keep on the device
    return [Regression("r"), Classification("c", loss=CrossEntropyLoss(class_weight="balanced")),
            Classification("m")]


def test_cuda_fit_predicts_like_the_cpu():
    X, y = make_data()
    on_cpu = MultiTaskNet(tasks=tasks(), device="cpu", **PARAMS).fit(X, y)
    on_cuda = MultiTaskNet(tasks=tasks(), device="cuda", **PARAMS).fit(X, y)
    assert next(on_cuda.net_.module_.parameters()).device.type == "cuda"
    np.testing.assert_allclose(on_cuda.history_[:, "train_loss"],
                               on_cpu.history_[:, "train_loss"], rtol=1e-4)
    a, b = on_cpu.predict(X), on_cuda.predict(X)
    np.testing.assert_allclose(a["r"], b["r"], rtol=1e-3, atol=1e-3)
    for cpu_proba, cuda_proba in zip(on_cpu.predict_proba(X), on_cuda.predict_proba(X)):  # c, m
        np.testing.assert_allclose(cpu_proba, cuda_proba, atol=1e-3)


def _batch(model, X, y, rows=slice(0, 32)):
    targets = model.taskset_.encode(y)
    weights = np.ones((len(targets), len(model.tasks_)), dtype=np.float32)
    encoded = _as_tensors(np.concatenate([targets, weights], axis=1), "cuda")
    model.net_.criterion_.set_data(encoded)
    return torch.as_tensor(X[rows], device="cuda"), encoded[rows]


@pytest.mark.parametrize("missing", [False, True])
@pytest.mark.parametrize("weighting", ["equal", "dwa", "gls"])
def test_training_steps_make_no_device_sync(missing, weighting):
    X, y = make_data()
    if not missing:
        y = y.fillna({"r": 0.0, "c": "neg", "m": "c"})
    model = MultiTaskNet(tasks=tasks(), weighting=weighting, device="cuda", **PARAMS).fit(X, y)
    batches = [_batch(model, X, y, slice(k, k + 32)) for k in (0, 32, 64)]
    assert model.net_.criterion_.dense == [not missing] * 3
    model.net_.train_step(batches[0])  # first step: optimizer state, cached copies
    torch.cuda.synchronize()
    torch.cuda.set_sync_debug_mode("error")
    try:
        for batch in batches[1:]:
            model.net_.train_step(batch)
    finally:
        torch.cuda.set_sync_debug_mode("default")
    torch.cuda.synchronize()


def test_an_epoch_does_not_read_the_device_per_batch():
    """skorch's per-batch ``loss.item()`` is gone: the losses are read once an epoch."""
    X, y = make_data(n=640)
    model = MultiTaskNet(tasks=tasks(), device="cuda", **PARAMS).fit(X, y)
    model.set_params(max_epochs=1)
    syncs = sync_warnings(lambda: model.partial_fit(X, y))
    # the epoch's train loop is one of the few places that read: it has 20 batches
    assert 0 < len(syncs) < 20, syncs[:5]


def test_streaming_from_pinned_memory_trains_identically(monkeypatch):
    X, y = make_data()
    params = dict(PARAMS, early_stopping=True, validation_fraction=0.2)
    resident = MultiTaskNet(tasks=tasks(), device="cuda", **params).fit(X, y)
    pinned, streamed_epochs = [], []
    to_pinned, stream = _placement.to_pinned, TensorBatchIterator._stream

    def spy_pinned(array):
        out = to_pinned(array)
        pinned.append(out.is_pinned())
        return out

    def spy_stream(self, *args):
        streamed_epochs.append(len(self.dataset))
        return stream(self, *args)

    monkeypatch.setattr(_placement, "DEVICE_MEMORY_FRACTION", 0.0)
    monkeypatch.setattr("skmtl._build.to_pinned", spy_pinned)
    monkeypatch.setattr(TensorBatchIterator, "_stream", spy_stream)
    streamed = MultiTaskNet(tasks=tasks(), device="cuda", **params).fit(X, y)
    assert pinned == [True, True]  # inputs and targets
    assert streamed_epochs  # training and validation batches came through the stream
    for a, b in zip(resident.net_.module_.parameters(), streamed.net_.module_.parameters()):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(resident.history_[:, "valid_loss"],
                               streamed.history_[:, "valid_loss"], rtol=1e-5)


def test_cuda_fitted_model_loads_on_a_cpu_only_machine(tmp_path):
    X, y = make_data()
    # early stopping keeps the best weights (CUDA tensors) in a callback
    params = dict(PARAMS, early_stopping=True, validation_fraction=0.2)
    model = MultiTaskNet(tasks=tasks(), device="cuda", **params).fit(X, y)
    path = tmp_path / "model.pkl"
    path.write_bytes(pickle.dumps(model))
    np.save(tmp_path / "X.npy", X)
    expected = model.predict_proba(X)[1]  # task "m"
    script = (
        "import pickle, sys, warnings, numpy as np, torch\n"
        "assert not torch.cuda.is_available()\n"
        "warnings.simplefilter('ignore')\n"
        f"model = pickle.load(open({str(path)!r}, 'rb'))\n"
        f"X = np.load({str(tmp_path / 'X.npy')!r})\n"
        "assert next(model.net_.module_.parameters()).device.type == 'cpu'\n"
        f"np.save({str(tmp_path / 'out.npy')!r}, model.predict_proba(X)[1])\n"
    )
    env = dict(os.environ, CUDA_VISIBLE_DEVICES="")
    done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    np.testing.assert_allclose(np.load(tmp_path / "out.npy"), expected, atol=1e-5)
