"""The GPU data and step path, checked on the CPU: no host sync per step, batches
gathered by index, streaming from the host, and where the data are placed."""

import sys

import numpy as np
import pandas as pd
import pytest
import torch

from skmtl import MultiTaskNet
from skmtl._training import TensorBatchIterator, TensorData, _neuralnet, _placement
from skmtl.callbacks import NonFiniteLossError
from skmtl.losses import TaskLoss
from skmtl.losses._base import cached_to
from skmtl.tasks import Regression
from skmtl.weighting import get_weighting

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

FAST = dict(hidden_layer_sizes=(8,), max_epochs=2, batch_size=16, random_state=0, device="cpu",
            early_stopping=False)


def make_data(n=96, missing=False, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.normal(size=(n, 4)).astype(np.float32)
    y = pd.DataFrame({
        "r": X[:, 0] + 0.1 * rng.normal(size=n),
        "c": np.where(X[:, 1] > 0, "pos", "neg"),
        "m": np.where(X[:, 2] > 0.5, "a", np.where(X[:, 2] < -0.5, "b", "c")),
    })
    if missing:
        y.loc[rng.rand(n) < 0.3, "r"] = np.nan
        y.loc[rng.rand(n) < 0.3, "c"] = np.nan
        y.loc[:15, "m"] = np.nan  # the first batch has no label for "m"
    return X, y


# -- host syncs --------------------------------------------------------------------------
_SYNCING = ["item", "tolist", "cpu", "numpy", "__bool__", "__float__", "__int__", "__index__"]


class SyncCounter:
    """Count the tensor reads to the host that skmtl's or skorch's own code makes.

    Each of ``Tensor.item``, ``tolist``, ``cpu``, ``numpy``, ``__bool__``, ``__float__``,
    ``__int__`` and ``__index__`` waits for a CUDA device; torch's internals (e.g. a CPU
    optimizer's step counter) are not counted.
    """

    def __init__(self, monkeypatch):
        self.calls: list[str] = []
        self.active = False
        for name in _SYNCING:
            monkeypatch.setattr(torch.Tensor, name, self._wrap(name, getattr(torch.Tensor, name)))

    def _wrap(self, name, original):
        counter = self

        def method(tensor, *args, **kwargs):
            caller = sys._getframe(1).f_globals.get("__name__", "")
            if counter.active and caller.split(".")[0] in {"skmtl", "skorch"}:
                counter.calls.append(f"{name} from {caller}")
            return original(tensor, *args, **kwargs)

        return method


def _batch(est, X, y):
    """One training batch as the net sees it: the first 16 rows, on the device."""
    from skmtl._build import _as_tensors

    targets = est.taskset_.encode(y)
    weights = np.ones((len(targets), len(est.tasks_)), dtype=np.float32)
    encoded = _as_tensors(np.concatenate([targets, weights], axis=1).astype(np.float32), "cpu")
    est.net_.criterion_.set_data(encoded)
    return torch.as_tensor(X[:16]), encoded[:16]


@pytest.mark.parametrize("missing", [False, True])
@pytest.mark.parametrize("weighting", ["equal", "dwa", "gls"])
def test_training_step_reads_nothing_back_from_the_device(monkeypatch, missing, weighting):
    X, y = make_data(missing=missing)
    est = MultiTaskNet(weighting=weighting, **FAST).fit(X, y)
    Xb, yb = _batch(est, X, y)
    assert est.net_.criterion_.dense == [not missing] * 3
    counter = SyncCounter(monkeypatch)
    before = [p.detach().clone() for p in est.net_.module_.parameters()]
    counter.active = True
    step = est.net_.train_step((Xb, yb))
    counter.active = False
    assert counter.calls == []
    # the step did train: the parameters moved and the reported values are right
    assert any(not torch.equal(a, b) for a, b in zip(before, est.net_.module_.parameters()))
    assert step["task_losses"].shape == (3,)
    if missing:  # "m" has no label in the first 16 rows: absent, weight 0
        assert step["task_counts"][2].item() == 0 and step["task_weights"][2].item() == 0


def test_sync_counter_sees_the_host_path(monkeypatch):
    """The counter is not blind: a balancer without device presence reads it (one sync)."""
    X, y = make_data(missing=True)
    est = MultiTaskNet(weighting="uncertainty", **FAST).fit(X, y)
    Xb, yb = _batch(est, X, y)
    counter = SyncCounter(monkeypatch)
    counter.active = True
    est.net_.train_step((Xb, yb))
    counter.active = False
    assert counter.calls == ["tolist from skmtl._training._neuralnet"]


@pytest.mark.parametrize("cuda_loop", [False, True])
def test_epoch_loop_reads_the_losses_once_per_epoch_on_cuda(monkeypatch, cuda_loop):
    """On CUDA the loop reads the batch losses once an epoch; the History is unchanged."""
    X, y = make_data(n=128, missing=True)
    reference = MultiTaskNet(**FAST).fit(X, y)
    monkeypatch.setattr(_neuralnet, "_is_cuda", lambda device: cuda_loop)
    counter = SyncCounter(monkeypatch)
    epoch = _neuralnet.MultiTaskNeuralNet.run_single_epoch
    counts = []

    def counted(net, iterator, *args, **kwargs):
        if iterator is None:  # no validation split
            return None
        start = len(counter.calls)
        counter.active = True
        try:
            return epoch(net, iterator, *args, **kwargs)
        finally:
            counter.active = False
            counts.append(len(counter.calls) - start)

    monkeypatch.setattr(_neuralnet.MultiTaskNeuralNet, "run_single_epoch", counted)
    est = MultiTaskNet(**FAST).fit(X, y)
    n_batches = 128 // 16
    if cuda_loop:
        assert counts == [1, 1]  # two epochs, no validation: one read at each end
    else:  # skorch's loop: one `loss.item()` per batch
        assert counts == [n_batches, n_batches]
    for key in ["train_loss", "train_loss_r", "train_loss_c", "train_loss_m"]:
        np.testing.assert_array_equal(est.history_[:, key], reference.history_[:, key])
    np.testing.assert_array_equal(est.history_[-1, "batches", :, "train_loss"],
                                  reference.history_[-1, "batches", :, "train_loss"])


class LateNaN(TaskLoss):
    """Squared error, NaN in the third batch (and then NaN everywhere, through the trunk)."""

    calls = 0

    def __call__(self, output, target, weight):
        LateNaN.calls += 1
        scale = float("nan") if LateNaN.calls == 3 else 1.0
        return ((output - target) ** 2).mean() * scale, torch.full((), float(len(target)))


@pytest.mark.parametrize("cuda_loop", [False, True])
def test_non_finite_loss_names_the_first_bad_batch_task(monkeypatch, cuda_loop):
    """On CUDA the guard checks at the end of the epoch, and still blames only 'r'."""
    X, y = make_data(n=64)
    monkeypatch.setattr(_neuralnet, "_is_cuda", lambda device: cuda_loop)
    monkeypatch.setattr(LateNaN, "calls", 0)
    model = MultiTaskNet(tasks=[Regression("r", loss=LateNaN())], **FAST)
    with pytest.raises(NonFiniteLossError, match=r"epoch 1: the train loss of task\(s\) 'r' is"):
        model.fit(X, y)
    # the CPU loop stops at the third batch; the CUDA loop finishes the epoch (4 batches)
    assert LateNaN.calls == (4 if cuda_loop else 3)


@pytest.mark.parametrize("name", ["equal", "dwa", "gls"])
@pytest.mark.parametrize("pattern", [[True, False, True], [False, False, False]])
def test_device_presence_mask_matches_the_host_list(name, pattern):
    """A balancer with ``device_presence`` gives the same weights and gradients either way."""
    results = []
    for present in [pattern, torch.tensor(pattern)]:
        torch.manual_seed(0)
        balancer = get_weighting(name).build(3)
        outputs = torch.randn(3, 5, requires_grad=True)
        mask = torch.tensor(pattern)[:, None].expand(3, 5)
        # masked means, as the criterion computes them: an exact 0 for an absent task
        losses = [torch.where(mask[t], outputs[t] ** 2, torch.zeros(5)).sum()
                  / mask[t].sum().clamp(min=1) for t in range(3)]
        weights = balancer.backward(losses, present)
        results.append((weights, outputs.grad))
    assert balancer.device_presence
    torch.testing.assert_close(results[0][0], results[1][0], rtol=0, atol=0)
    torch.testing.assert_close(results[0][1], results[1][1], rtol=0, atol=0)
    assert results[0][0].tolist() == pytest.approx(
        [w if p else 0.0 for w, p in zip(results[0][0].tolist(), pattern)])


def test_class_weights_are_copied_to_the_device_once():
    weights = torch.tensor([1.0, 2.0])
    like = torch.zeros(1, dtype=torch.float64)  # another dtype stands for another device
    first = cached_to(weights, like)
    assert first.dtype == torch.float64 and first.tolist() == [1.0, 2.0]
    assert cached_to(weights, like) is first
    assert cached_to(weights, torch.zeros(1)) is weights  # already there: no copy
    assert cached_to(None, like) is None


# -- batches -----------------------------------------------------------------------------
def _data(n=103, sparse_x=False, dict_x=False):
    X = torch.randn(n, 4)
    y = torch.randn(n, 3)
    if dict_x:
        X = {"a": X, "b": torch.arange(n)[:, None]}
    if sparse_x:
        from scipy import sparse

        from skmtl._training import SparseRows

        X = SparseRows(sparse.random(n, 6, density=0.3, format="csr", random_state=0), "cpu")
    return TensorData(X, y)


def _dense(X):
    if isinstance(X, dict):
        return torch.cat([v.float() for v in X.values()], dim=1)
    return X


@pytest.mark.parametrize("shuffle", [False, True])
@pytest.mark.parametrize("kind", ["tensor", "dict", "sparse"])
def test_batches_are_the_rows_of_one_permutation(shuffle, kind):
    """Batch k holds rows perm[k * b:(k + 1) * b], gathered per batch (no whole copy)."""
    data = _data(dict_x=kind == "dict", sparse_x=kind == "sparse")
    torch.manual_seed(3)
    batches = list(TensorBatchIterator(data, 10, shuffle=shuffle))
    torch.manual_seed(3)
    order = torch.randperm(103) if shuffle else torch.arange(103)
    assert [len(yb) for _, yb in batches] == [10] * 10 + [3]
    for k, (Xb, yb) in enumerate(batches):
        rows = order[k * 10:(k + 1) * 10]
        torch.testing.assert_close(yb, data.y[rows], rtol=0, atol=0)
        expected = data.X[rows].dense() if kind == "sparse" else _dense(data.X)[rows]
        torch.testing.assert_close(_dense(Xb), expected, rtol=0, atol=0)


@pytest.mark.parametrize("shuffle", [False, True])
@pytest.mark.parametrize("chunk_batches", [1, 3, 20])
@pytest.mark.parametrize("kind", ["tensor", "dict", "sparse"])
def test_streaming_yields_the_resident_batches(shuffle, chunk_batches, kind):
    data = _data(dict_x=kind == "dict", sparse_x=kind == "sparse")
    torch.manual_seed(1)
    resident = list(TensorBatchIterator(data, 10, shuffle=shuffle, device="cpu"))
    torch.manual_seed(1)
    streamed = TensorBatchIterator(data, 10, shuffle=shuffle, device="cpu", stream=True,
                                   chunk_batches=chunk_batches)
    assert streamed.streaming() and not TensorBatchIterator(data, 10, device="cpu").streaming()
    streamed = list(streamed)
    assert len(streamed) == len(resident) == 11
    for (Xa, ya), (Xb, yb) in zip(resident, streamed):
        torch.testing.assert_close(ya, yb, rtol=0, atol=0)
        torch.testing.assert_close(_dense(Xa), _dense(Xb), rtol=0, atol=0)


def test_host_data_stream_to_an_accelerator():
    """Data on the CPU and an accelerator device: streaming is chosen by itself."""
    data = _data()
    assert TensorBatchIterator(data, 10, device="cuda").streaming()
    assert not TensorBatchIterator(data, 10, device="cuda", stream=False).streaming()
    assert not TensorBatchIterator(data, 10).streaming()


def test_a_fit_streamed_from_the_host_trains_identically(monkeypatch):
    """Forcing the streaming placement (host data, chunked moves) changes no number."""
    X, y = make_data(n=120, missing=True)
    params = dict(FAST, early_stopping=True, validation_fraction=0.2)
    resident = MultiTaskNet(**params).fit(X, y)
    monkeypatch.setattr("skmtl._base.keep_on_host", lambda nbytes, device: True)
    monkeypatch.setattr(TensorBatchIterator, "streaming", lambda self: True)
    streamed = MultiTaskNet(**params).fit(X, y)
    for a, b in zip(resident.net_.module_.parameters(), streamed.net_.module_.parameters()):
        torch.testing.assert_close(a, b, rtol=0, atol=0)
    np.testing.assert_array_equal(resident.history_[:, "valid_loss"],
                                  streamed.history_[:, "valid_loss"])
    pd.testing.assert_frame_equal(resident.predict(X), streamed.predict(X))


# -- placement ---------------------------------------------------------------------------
def test_data_stay_on_the_host_beyond_half_the_free_device_memory(monkeypatch):
    monkeypatch.setattr(torch.cuda, "mem_get_info", lambda device=None: (1000, 4000))
    assert _placement.DEVICE_MEMORY_FRACTION == 0.5
    assert not _placement.keep_on_host(500, "cuda")
    assert _placement.keep_on_host(501, "cuda:0")
    assert not _placement.keep_on_host(10**12, "cpu")  # only CUDA devices stream


def test_data_nbytes_counts_dense_arrays_only():
    from scipy import sparse

    X = np.zeros((10, 3), dtype=np.float32)
    assert _placement.data_nbytes(X, np.zeros((10, 2))) == 120 + 160
    assert _placement.data_nbytes({"a": X, "b": X}) == 240
    assert _placement.data_nbytes(sparse.random(10, 3, density=0.5, format="csr")) == 0


def test_to_pinned_keeps_values_and_dtype():
    array = np.arange(12, dtype=np.float32).reshape(3, 4)
    pinned = _placement.to_pinned(array)
    assert pinned.dtype == torch.float32 and pinned.device.type == "cpu"
    np.testing.assert_array_equal(pinned.numpy(), array)
    assert pinned.is_pinned() == torch.cuda.is_available()
