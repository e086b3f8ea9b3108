"""Raw tables on a CUDA device: the fitted encoding, the numeric embeddings (their bin
edges are buffers), TabM, sparse X densified per batch, per-label thresholds, ensembles,
aggregators with missing labels, bf16, and a CUDA-fitted tabular model that loads on a
CPU-only machine. Each is compared with the same fit on the CPU where the two should
agree. Skipped where CUDA is not available (CI)."""

from __future__ import annotations

import os
import pickle
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
import torch
from cuda_syncs import sync_warnings
from rtdl_num_embeddings import PiecewiseLinearEmbeddings
from scipy import sparse
from skorch.callbacks import Callback
from tabm import LinearBatchEnsemble

from skmtl import MultiTaskEnsemble, MultiTaskNet
from skmtl.architectures import ARCHITECTURES
from skmtl.callbacks import ema_decay_at
from skmtl.tabular import BIN_EDGES

pytestmark = [
    pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device"),
    pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning"),
]

FAST = dict(hidden_layer_sizes=(32,), max_epochs=3, batch_size=64, random_state=0,
            early_stopping=False)


def _table(n: int = 400, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Mixed dtypes (a mostly-zero column, missing numbers, strings, a category, a flag)
    and two tasks with labels missing in both, on a shuffled non-default index."""
    rng = np.random.default_rng(seed)
    X = pd.DataFrame({
        "age": rng.normal(40, 10, n),
        "gains": np.where(rng.uniform(size=n) < 0.9, 0.0, rng.choice([5.0, 9.0, 30.0], n)),
        "city": rng.choice(["paris", "rome", "oslo"], n).astype(object),
        "grade": pd.Categorical(rng.choice(["a", "b", "c", "d"], n)),
        "member": rng.integers(0, 2, n).astype(bool),
    }, index=rng.permutation(np.arange(1000, 1000 + n)))
    X.loc[X.index[::9], "age"] = np.nan
    X.loc[X.index[::13], "city"] = None
    score = X["age"].fillna(40) / 10 + (X["city"] == "rome") * 2 + (X["gains"] > 7)
    y = pd.DataFrame({"spend": score + rng.normal(0, 0.1, n),
                      "churn": np.where(score > score.median(), "yes", "no")}, index=X.index)
    y = y.astype({"churn": object})
    y.loc[y.index[::4], "churn"] = None
    y.loc[y.index[::7], "spend"] = np.nan
    return X, y


def _fit_both(X, y, **params):
    on_cpu = MultiTaskNet(device="cpu", **FAST, **params).fit(X, y)
    on_cuda = MultiTaskNet(device="cuda", **FAST, **params).fit(X, y)
    return on_cpu, on_cuda


def _assert_same_predictions(on_cpu, on_cuda, X, atol=2e-3):
    a, b = on_cpu.predict(X), on_cuda.predict(X)
    assert b.index.equals(X.index) and list(b.columns) == list(a.columns)
    np.testing.assert_allclose(a["spend"].to_numpy(float), b["spend"].to_numpy(float),
                               rtol=2e-3, atol=atol)
    for p, q in zip(on_cpu.predict_proba(X), on_cuda.predict_proba(X)):
        np.testing.assert_allclose(p, q, atol=atol)


@pytest.mark.parametrize("bin_edges", BIN_EDGES)
def test_piecewise_linear_raw_frame_fits_on_cuda_like_the_cpu(bin_edges):
    X, y = _table()
    on_cpu, on_cuda = _fit_both(X, y, bin_edges=bin_edges, n_bins=16)
    impl = [m.impl for m in on_cuda.net_.module_.modules()
            if isinstance(m, PiecewiseLinearEmbeddings)]
    assert impl and all(p.device.type == "cuda" for m in impl for p in m.parameters())
    assert all(b.device.type == "cuda" for m in on_cuda.net_.module_.modules()
               for b in m.buffers(recurse=False))
    cpu_impl = [m.impl for m in on_cpu.net_.module_.modules()
                if isinstance(m, PiecewiseLinearEmbeddings)]
    # the bins are computed from the same encoded rows, wherever the network trains
    for c, g in zip(cpu_impl, impl):
        np.testing.assert_allclose(c.weight.detach().numpy(), g.weight.detach().cpu().numpy(),
                                   rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(on_cuda.history_[:, "train_loss"],
                               on_cpu.history_[:, "train_loss"], rtol=1e-3)
    _assert_same_predictions(on_cpu, on_cuda, X)


@pytest.mark.parametrize("embedding", ["periodic", None])
def test_other_numeric_embeddings_fit_on_cuda_like_the_cpu(embedding):
    X, y = _table()
    on_cpu, on_cuda = _fit_both(X, y, numeric_embedding=embedding)
    np.testing.assert_allclose(on_cuda.history_[:, "train_loss"],
                               on_cpu.history_[:, "train_loss"], rtol=1e-3)
    _assert_same_predictions(on_cpu, on_cuda, X)


@pytest.mark.parametrize("architecture", sorted(ARCHITECTURES))
def test_every_architecture_on_a_raw_frame_on_cuda(architecture):
    X, y = _table()
    on_cpu, on_cuda = _fit_both(X, y, architecture=architecture)
    assert all(p.device.type == "cuda" for p in on_cuda.net_.module_.parameters())
    np.testing.assert_allclose(on_cuda.history_[:, "train_loss"],
                               on_cpu.history_[:, "train_loss"], rtol=2e-3)
    _assert_same_predictions(on_cpu, on_cuda, X, atol=5e-3)


def test_tabm_gradients_reach_every_members_adapters_on_cuda():
    X, y = _table()
    model = MultiTaskNet(device="cuda", architecture="tabm", **FAST).fit(X, y)
    module = model.net_.module_
    module.zero_grad()
    Xt = torch.as_tensor(model.preprocessor_.transform(X.iloc[:64]), device="cuda")
    outputs = module(Xt)
    torch.stack([o.float().sum() for o in outputs]).sum().backward()
    adapters = [m for m in module.modules() if isinstance(m, LinearBatchEnsemble)]
    assert adapters
    for adapter in adapters:
        grad = adapter.r.grad
        assert grad.device.type == "cuda" and grad.shape[0] == 8  # TabM default k
        assert (grad.abs().sum(dim=1) > 0).all()  # every member's adapter gets a gradient
        assert not torch.allclose(grad[0], grad[1])  # and each its own


def test_sparse_X_is_densified_per_batch_on_cuda_like_on_the_cpu():
    rng = np.random.default_rng(0)
    dense = ((rng.uniform(size=(300, 40)) < 0.1) * rng.normal(size=(300, 40))).astype(np.float32)
    y = pd.DataFrame({"r": dense[:, 0] - dense[:, 1], "c": dense[:, 2] > 0})
    X = sparse.csr_matrix(dense)
    on_cpu, on_cuda = (MultiTaskNet(device=device, **FAST).fit(X, y) for device in ("cpu", "cuda"))
    np.testing.assert_allclose(on_cuda.history_[:, "train_loss"],
                               on_cpu.history_[:, "train_loss"], rtol=1e-3)
    np.testing.assert_allclose(on_cuda.predict(X)["r"], on_cpu.predict(X)["r"],
                               rtol=1e-3, atol=1e-3)


def test_thresholds_chosen_on_cuda_like_on_the_cpu():
    X, y = _table(600)
    on_cpu, on_cuda = _fit_both(X, y, threshold="accuracy", validation_fraction=0.2)
    assert set(on_cuda.thresholds_) == set(on_cpu.thresholds_)
    for task, value in on_cpu.thresholds_.items():
        assert abs(on_cuda.thresholds_[task] - value) < 0.05, (task, value)


@pytest.mark.parametrize("weighting", ["mgda", "upgrad", "pcgrad", "gradnorm", "uncertainty"])
def test_weightings_with_missing_labels_and_embeddings_on_cuda(weighting):
    X, y = _table()
    on_cpu, on_cuda = _fit_both(X, y, weighting=weighting)
    loss = on_cuda.history_[:, "train_loss"]
    assert np.isfinite(loss).all()
    np.testing.assert_allclose(loss, on_cpu.history_[:, "train_loss"], rtol=2e-2)


def test_freeze_partial_fit_and_warm_start_on_cuda():
    X, y = _table()
    model = MultiTaskNet(device="cuda", **FAST).fit(X, y)
    trunk = [p.detach().clone() for p in model.net_.module_.trunk.parameters()]
    model.set_params(freeze="trunk", warm_start=True, max_epochs=2).fit(X, y)
    for before, after in zip(trunk, model.net_.module_.trunk.parameters()):
        torch.testing.assert_close(before, after)
    model.partial_fit(X, y)
    assert next(model.net_.module_.parameters()).device.type == "cuda"
    assert model.predict(X).index.equals(X.index)


def test_bf16_trains_a_raw_frame_on_cuda_close_to_float32():
    X, y = _table(800)
    full = MultiTaskNet(device="cuda", **FAST).fit(X, y)
    half = MultiTaskNet(device="cuda", precision="bf16", **FAST).fit(X, y)
    assert np.isfinite(half.history_[:, "train_loss"]).all()
    np.testing.assert_allclose(half.history_[:, "train_loss"], full.history_[:, "train_loss"],
                               rtol=0.1)
    p, q = full.predict_proba(X)[0], half.predict_proba(X)[0]
    assert np.abs(p - q).mean() < 0.05


def test_ensemble_of_cuda_networks_predicts_like_its_cpu_twin():
    X, y = _table()
    kwargs = dict(n_seeds=2, random_state=0)
    on_cpu = MultiTaskEnsemble([MultiTaskNet(device="cpu", **FAST)], **kwargs).fit(X, y)
    on_cuda = MultiTaskEnsemble([MultiTaskNet(device="cuda", **FAST)], **kwargs).fit(X, y)
    a, b = on_cpu.predict(X), on_cuda.predict(X)
    assert b.index.equals(X.index)
    np.testing.assert_allclose(a["spend"].to_numpy(float), b["spend"].to_numpy(float),
                               rtol=2e-3, atol=2e-3)


def test_cuda_fitted_raw_frame_model_loads_on_a_cpu_only_machine(tmp_path):
    X, y = _table()
    model = MultiTaskNet(device="cuda", architecture="tabm",
                         **dict(FAST, early_stopping=True, validation_fraction=0.2)).fit(X, y)
    (tmp_path / "model.pkl").write_bytes(pickle.dumps(model))
    X.to_pickle(tmp_path / "X.pkl")
    expected = model.predict_proba(X)[0]
    script = (
        "import pickle, warnings, numpy as np, pandas as pd, torch\n"
        "assert not torch.cuda.is_available()\n"
        "warnings.simplefilter('ignore')\n"
        f"model = pickle.load(open({str(tmp_path / 'model.pkl')!r}, 'rb'))\n"
        f"X = pd.read_pickle({str(tmp_path / 'X.pkl')!r})\n"
        "assert all(t.device.type == 'cpu' for t in model.net_.module_.state_dict().values())\n"
        "assert model.predict(X).index.equals(X.index)\n"
        f"np.save({str(tmp_path / 'out.npy')!r}, model.predict_proba(X)[0])\n"
    )
    env = dict(os.environ, CUDA_VISIBLE_DEVICES="")
    done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    np.testing.assert_allclose(np.load(tmp_path / "out.npy"), expected, atol=1e-5)


class _Steps(Callback):
    """The trainable weights after every training step (on the host)."""

    def initialize(self):
        self.steps = []
        return self

    def on_batch_end(self, net, training=False, **kwargs):
        if training:
            self.steps.append([p.detach().cpu().clone() for p in net.module_.parameters()
                               if p.requires_grad])


def test_weight_averaging_on_cuda_is_the_average_of_the_steps_and_reads_nothing_back():
    X, y = _table()
    decay = 0.9
    model = MultiTaskNet(device="cuda", ema_decay=decay, callbacks=[("steps", _Steps())],
                         **dict(FAST, early_stopping=True, validation_fraction=0.2)).fit(X, y)
    steps = dict(model.net_.callbacks_)["steps"].steps
    best = int(np.argmin(model.history_[:, "valid_loss"]))
    per_epoch = len(steps) // len(model.history_)
    average = [p.clone() for p in steps[0]]
    for t, weights in enumerate(steps[1:(best + 1) * per_epoch]):
        w = 1 - ema_decay_at(decay, t)
        average = [a + w * (p - a) for a, p in zip(average, weights)]
    got = [p.detach().cpu() for p in model.net_.module_.parameters() if p.requires_grad]
    for g, e in zip(got, average):
        torch.testing.assert_close(g, e, rtol=1e-4, atol=1e-5)
    # the average's updates read nothing back: a training epoch syncs a few times, not per batch
    model.set_params(max_epochs=1, early_stopping=False, validation_fraction=None,
                     batch_size=16,  # 25 batches: a call's few set-up syncs stay fewer
                     callbacks=None)  # _Steps copies to the host each step: not in this epoch
    syncs = sync_warnings(lambda: model.partial_fit(X, y))
    assert len(syncs) < len(X) // 16, syncs[:5]
