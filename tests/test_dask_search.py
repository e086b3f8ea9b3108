"""Hyperparameter search on a Dask cluster, and successive halving over ``max_epochs``.

The Dask tests share one ``LocalCluster`` of two worker processes (one thread each) started
by nannies, as on a real cluster; the halving test runs the guide's example itself.
"""

import functools
import os
import re
import sys
import threading
import warnings
from pathlib import Path

import joblib
import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV

from skmtl import MultiTaskNet
from skmtl._threads import dask_worker_threads, limit_worker_threads

GUIDE = Path(__file__).resolve().parents[1] / "docs" / "guide.md"

# the searches' fits train a few epochs on purpose
pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

FAST = dict(hidden_layer_sizes=(8,), max_epochs=4, batch_size=32, lr=1e-2, device="cpu",
            early_stopping=False, random_state=0)
GRID = {"lr": [1e-2, 3e-3], "dropout": [0.0, 0.2]}


def _data(n=90, seed=0):
    """Three tasks of mixed types (regression, 3 classes, 2 classes) with missing labels."""
    rng = np.random.RandomState(seed)
    X = rng.normal(size=(n, 4))
    y = pd.DataFrame({
        "value": X[:, 0] - 0.5 * X[:, 1] + 0.1 * rng.normal(size=n),
        "grade": pd.Series(np.select([X[:, 2] < -0.5, X[:, 2] < 0.5], ["low", "mid"], "high"),
                           dtype=object),
        "flag": pd.Series(np.where(X[:, 3] > 0, "yes", "no"), dtype=object),
    })
    y.loc[::5, "value"] = np.nan
    y.loc[1::7, "grade"] = None
    y.loc[2::4, "flag"] = None
    return X, y


#: what distributed's nanny writes into this (the client's) process's environment
NANNY_ENVIRON = ["OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS",
                 "MALLOC_TRIM_THRESHOLD_"]


@pytest.fixture(scope="module")
def client():
    distributed = pytest.importorskip("distributed")
    # the nanny's defaults apply; afterwards the environment is as it was, without what the
    # nanny set (MonkeyPatch.delenv records nothing for an absent variable, so it left the
    # nanny's MALLOC_TRIM_THRESHOLD_ to later tests of this worker)
    saved = {name: os.environ.pop(name, None) for name in NANNY_ENVIRON}
    try:
        with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                      dashboard_address=":0") as cluster:
            with distributed.Client(cluster) as client:
                yield client
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _search(backend=None):
    X, y = _data()
    search = GridSearchCV(MultiTaskNet(**FAST), GRID, cv=3)
    if backend is None:
        return search.fit(X, y)
    with joblib.parallel_backend(backend):
        return search.fit(X, y)


@pytest.mark.slow  # starts two worker processes (once per module)
def test_dask_search_equals_serial_search(client):
    from distributed import get_task_stream

    serial = _search()
    with get_task_stream(client) as stream:
        on_dask = _search("dask")

    # the 12 fits (4 candidates x 3 folds) ran on both of the cluster's workers
    assert {task["worker"] for task in stream.data} == set(client.run(os.getpid))
    assert on_dask.cv_results_["params"] == serial.cv_results_["params"]
    assert np.isfinite(serial.cv_results_["mean_test_score"]).all()
    for key in ["mean_test_score", "std_test_score", "split0_test_score", "split2_test_score"]:
        np.testing.assert_allclose(on_dask.cv_results_[key], serial.cv_results_[key],
                                   rtol=0, atol=1e-6, err_msg=key)
    np.testing.assert_array_equal(on_dask.cv_results_["rank_test_score"],
                                  serial.cv_results_["rank_test_score"])
    assert on_dask.best_params_ == serial.best_params_
    X, y = _data()
    np.testing.assert_allclose(on_dask.best_estimator_.predict(X)["value"],
                               serial.best_estimator_.predict(X)["value"], atol=1e-6)


@pytest.mark.slow  # starts two worker processes (once per module)
def test_nanny_workers_run_torch_single_threaded(client):
    # distributed's nanny sets OMP_NUM_THREADS=1 (`distributed.nanny.pre-spawn-environ`)
    # before it spawns the worker process, so torch starts with one thread there
    assert client.run(torch.get_num_threads) == dict.fromkeys(client.run(os.getpid), 1)
    assert set(client.run(lambda: os.environ.get("OMP_NUM_THREADS")).values()) == {"1"}


def _threads_during_fit(_=None):
    """Torch's thread count on this thread during and after a small fit."""
    X, y = _data(n=40)
    seen = []

    class Record(MultiTaskNet):  # records the count from inside the training loop
        def _fit_loop(self, net, *args, **kwargs):
            seen.append(torch.get_num_threads())
            return super()._fit_loop(net, *args, **kwargs)

    Record(**{**FAST, "max_epochs": 1}).fit(X, y)
    return seen[0], torch.get_num_threads()


def test_fit_on_threaded_worker_uses_one_torch_thread(monkeypatch):
    """Without a nanny, a fit on a worker's thread sets that thread to one torch thread."""
    distributed = pytest.importorskip("distributed")
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    previous = torch.get_num_threads()
    torch.set_num_threads(2)  # as an unconfigured process on two or more cores
    try:
        with distributed.LocalCluster(n_workers=1, threads_per_worker=2, processes=False,
                                      dashboard_address=":0") as cluster:
            with distributed.Client(cluster) as client:
                futures = client.map(_threads_during_fit, range(2), pure=False)
                results = client.gather(futures)
                # the client's own thread keeps its count, and its fits leave it alone
                assert torch.get_num_threads() == 2
                assert _threads_during_fit() == (2, 2)
        # on the worker's threads: 1 during training, and left so
        assert results == [(1, 1), (1, 1)]
    finally:
        torch.set_num_threads(previous)


def test_worker_thread_count_honours_omp_num_threads(monkeypatch):
    """An explicit OMP_NUM_THREADS is the "unless told otherwise"; off a worker, nothing."""
    assert dask_worker_threads() is None  # this thread is not a Dask worker's
    monkeypatch.setattr("skmtl._threads._on_dask_worker", lambda: True)
    seen = {}

    def on_new_thread(value):  # as a worker's thread, so that this thread's count is kept
        torch.set_num_threads(3)
        limit_worker_threads()
        seen[value] = torch.get_num_threads()

    previous = torch.get_num_threads()
    try:
        for value in [None, "2", "3", "not-a-number"]:
            if value is None:
                monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
            else:
                monkeypatch.setenv("OMP_NUM_THREADS", value)
            thread = threading.Thread(target=on_new_thread, args=(value,))
            thread.start()
            thread.join()
    finally:
        torch.set_num_threads(previous)
    assert seen == {None: 1, "2": 2, "3": 3, "not-a-number": 1}


@functools.cache
def _guide_halving() -> dict:
    """The namespace left by the guide's successive-halving example (run once)."""
    blocks = re.findall(r"```python\n(.*?)```", GUIDE.read_text(), re.S)
    (code,) = [block for block in blocks if "# successive halving over max_epochs" in block]
    namespace: dict = {}
    with warnings.catch_warnings():  # the example's own warning filter stays inside
        exec(compile(code, str(GUIDE), "exec"), namespace)
    return namespace


def test_guide_halving_search_over_max_epochs():
    """The guide's HalvingRandomSearchCV example: its schedule and its refitted model."""
    namespace = _guide_halving()
    search, X, y = namespace["search"], namespace["X"], namespace["y"]

    # 4 candidates trained 5 epochs, the best 2 for 10, the best one for 20
    assert search.n_resources_ == [5, 10, 20]
    assert search.n_candidates_ == [4, 2, 1]
    results = pd.DataFrame(search.cv_results_)
    assert results.groupby("iter")["param_max_epochs"].unique().map(list).to_dict() == {
        0: [5], 1: [10], 2: [20]}
    # the survivors of each round are the best of the previous round
    first = results[results["iter"] == 0]
    kept = first.nlargest(2, "mean_test_score")["param_lr"].tolist()
    assert sorted(results.loc[results["iter"] == 1, "param_lr"]) == sorted(kept)
    # the refit trained the winner's max_epochs, every epoch (no early stopping)
    best = search.best_estimator_
    assert search.best_params_["max_epochs"] == best.max_epochs == 20
    assert best.n_epochs_ == len(best.history_) == 20
    assert best.early_stopping_ is False
    assert list(best.predict(X).columns) == list(y.columns) == ["cultivar", "alcohol", "dark"]


@pytest.mark.slow  # starts two worker processes (once per module)
def test_guide_halving_search_on_dask_equals_serial(client):
    namespace = _guide_halving()
    serial, X, y = namespace["search"], namespace["X"], namespace["y"]
    with joblib.parallel_backend("dask"):
        on_dask = clone(serial).fit(X, y)
    assert on_dask.n_resources_ == serial.n_resources_
    assert np.isfinite(serial.cv_results_["mean_test_score"]).all()
    assert on_dask.cv_results_["params"] == serial.cv_results_["params"]
    np.testing.assert_allclose(on_dask.cv_results_["mean_test_score"],
                               serial.cv_results_["mean_test_score"], rtol=0, atol=1e-6)
    assert on_dask.best_params_ == serial.best_params_


def test_a_foreign_module_named_distributed_is_not_taken_for_dask(monkeypatch):
    # e.g. a script called distributed.py on sys.path: fits must not fail importing from it
    import types

    from skmtl._threads import dask_worker_threads

    monkeypatch.setitem(sys.modules, "distributed", types.ModuleType("distributed"))
    assert dask_worker_threads() is None
