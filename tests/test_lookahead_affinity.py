"""Lookahead task affinity (Fifty et al., 2021): values on tasks with a known structure,
the result's shape, and that measuring does not change the training."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import torch
from skorch.callbacks import Callback
from skorch.helper import SliceDict
from torch import nn

from skmtl import MultiTaskRegressor
from skmtl.affinity import AffinityResult, lookahead_affinity, make_task_clusters
from skmtl.affinity._lookahead import LookaheadAffinity
from skmtl.architectures import MultiInput

pytestmark = pytest.mark.filterwarnings("ignore:.*stopped at max_epochs")

SMALL = dict(hidden_layer_sizes=(32, 32), device="cpu", early_stopping=False)
# the synthetic structure needs a few epochs of a wider network for the heads to align
CLUSTERS = dict(hidden_layer_sizes=(64, 64), max_epochs=5, device="cpu", early_stopping=False)


def _within_across(result: AffinityResult, clusters: np.ndarray) -> tuple[float, float]:
    matrix = result.matrix.to_numpy()
    same = clusters[:, None] == clusters[None, :]
    off_diagonal = ~np.eye(len(clusters), dtype=bool)
    return matrix[same & off_diagonal].mean(), matrix[~same].mean()


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_within_cluster_affinity_is_clearly_above_across(seed):
    # measured (1000 rows, 5 epochs, interval 5), seeds 0 / 1 / 2: mean within-cluster
    # 0.0033 / 0.0034 / 0.0036 (smallest pair 0.0013 / 0.0020 / 0.0005), mean across
    # -0.0002 / 0.0002 / -0.0001 (largest |pair| 0.0005 / 0.0005 / 0.0003)
    X, y, clusters = make_task_clusters(1000, random_state=seed)
    result = lookahead_affinity(MultiTaskRegressor(random_state=seed, **CLUSTERS), X, y,
                                interval=5)
    within, across = _within_across(result, clusters)
    assert within > 4 * abs(across), (within, across)
    matrix = result.matrix.to_numpy()
    assert (matrix[clusters[:, None] == clusters[None, :]] > 0).all()


def test_negated_copy_is_a_related_task():
    # once the heads have learnt, the negated copy's head flips sign and a step on task 0
    # helps it almost as much as task 0 itself. Measured: Z[0, neg] 0.0056, Z[0, 0]
    # 0.0085, Z[neg, 0] 0.0061, Z[neg, neg] 0.0076; across-cluster |Z| <= 0.0007
    X, y, clusters = make_task_clusters(1000, negated=True, random_state=0)
    result = lookahead_affinity(MultiTaskRegressor(random_state=0, **CLUSTERS), X, y,
                                interval=5)
    matrix = result.matrix
    first, negated = "c0_t0", "c0_t2"
    assert matrix.loc[first, negated] > 0.4 * matrix.loc[first, first] > 0
    assert matrix.loc[negated, first] > 0.4 * matrix.loc[negated, negated] > 0
    across = np.abs(result.matrix.to_numpy()[clusters[:, None] != clusters[None, :]]).max()
    assert min(matrix.loc[first, negated], matrix.loc[negated, first]) > 4 * across


def test_result_shape_names_counts_and_standard_error():
    X, y, _ = make_task_clusters(200, tasks_per_cluster=2, random_state=0)
    est = MultiTaskRegressor(max_epochs=2, batch_size=32, random_state=0, **SMALL)
    result = lookahead_affinity(est, X, y, interval=3)
    names = list(y.columns)
    assert isinstance(result, AffinityResult) and result.method == "lookahead"
    assert result.tasks == names
    for frame in (result.matrix, result.standard_error, result.n_measurements):
        assert frame.shape == (4, 4)
        assert list(frame.index) == names and list(frame.columns) == names
    # 200 rows, no validation split: 7 steps an epoch, 14 steps, measured at 0, 3, ..., 12
    assert (result.n_measurements.to_numpy() == math.ceil(14 / 3)).all()
    se = result.standard_error.to_numpy()
    assert np.isfinite(se).all() and (se >= 0).all()
    assert np.isfinite(result.matrix.to_numpy()).all()
    assert result.seconds > 0
    # the standard error is that of the mean over the measured steps: recompute it from
    # the callback's sums on an identical fit
    model = est.set_params(callbacks=[LookaheadAffinity(interval=3)]).fit(X, y)
    callback = [cb for _, cb in model.net_.callbacks_ if isinstance(cb, LookaheadAffinity)][0]
    again = callback.result(names)
    np.testing.assert_allclose(again.matrix.to_numpy(), result.matrix.to_numpy(), rtol=1e-6)
    n = callback.count_.double()
    var = (callback.sum_squares_.double() - callback.sum_.double() ** 2 / n) / (n - 1)
    np.testing.assert_allclose(se, (var.clamp_min(0) / n).sqrt().numpy(), rtol=1e-5, atol=1e-9)


def _parameters(model) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in model.net_.module_.state_dict().items()}


def test_measuring_does_not_change_the_training():
    # dropout draws random numbers in training mode; the measurement runs in eval mode
    X, y, _ = make_task_clusters(200, tasks_per_cluster=2, random_state=1)
    params = dict(max_epochs=2, batch_size=32, dropout=0.2, random_state=3, **SMALL)
    plain = MultiTaskRegressor(**params).fit(X, y)
    measured = MultiTaskRegressor(callbacks=[LookaheadAffinity(interval=1)], **params).fit(X, y)
    callback = [cb for _, cb in measured.net_.callbacks_ if isinstance(cb, LookaheadAffinity)][0]
    assert int(callback.count_[0, 0]) == callback.steps_ == 14  # every step measured
    before, after = _parameters(plain), _parameters(measured)
    assert before.keys() == after.keys()
    for key in before:
        assert torch.equal(before[key], after[key]), key
    assert measured.net_.module_.training == plain.net_.module_.training


def test_pair_never_labelled_together_is_nan():
    # batches of one row: task "a" and task "b" are labelled on different rows, so no
    # batch holds both; "c" is labelled everywhere
    rng = np.random.RandomState(0)
    X = rng.normal(size=(40, 3))
    y = pd.DataFrame({"a": X[:, 0], "b": X[:, 0] + 0.1, "c": X[:, 1]})
    y.loc[:19, "b"] = np.nan
    y.loc[20:, "a"] = np.nan
    result = lookahead_affinity(
        MultiTaskRegressor(max_epochs=1, batch_size=1, random_state=0, **SMALL), X, y)
    counts = result.n_measurements
    assert counts.loc["a", "b"] == counts.loc["b", "a"] == 0
    assert np.isnan(result.matrix.loc["a", "b"]) and np.isnan(result.matrix.loc["b", "a"])
    assert np.isnan(result.standard_error.loc["a", "b"])
    # 40 steps measured at 0, 10, 20, 30; "c" in each, "a" and "b" in some
    assert counts.loc["c", "c"] == 4
    assert counts.loc["a", "c"] == counts.loc["a", "a"] > 0
    assert counts.loc["a", "a"] + counts.loc["b", "b"] == 4
    measured = counts.to_numpy() > 0
    assert np.isfinite(result.matrix.to_numpy()[measured]).all()


@pytest.mark.parametrize("architecture", ["mmoe", "cross_stitch"])
def test_other_architectures(architecture):
    X, y, _ = make_task_clusters(150, tasks_per_cluster=2, random_state=0)
    est = MultiTaskRegressor(architecture=architecture, max_epochs=1, random_state=0, **SMALL)
    result = lookahead_affinity(est, X, y, interval=2)
    matrix = result.matrix.to_numpy()
    assert np.isfinite(matrix).all()
    assert (np.diag(matrix) > 0).all()  # a small step on a task lowers its own loss


def test_nothing_shared_is_an_error():
    X, y, _ = make_task_clusters(60, tasks_per_cluster=1, random_state=0)
    est = MultiTaskRegressor(architecture="separate", max_epochs=1, **SMALL)
    with pytest.raises(ValueError, match="shared parameters.*architecture='separate'"):
        lookahead_affinity(est, X, y)
    frozen = MultiTaskRegressor(freeze="trunk", max_epochs=1, **SMALL)
    with pytest.raises(ValueError, match="shared parameters.*frozen"):
        lookahead_affinity(frozen, X, y)


class _Trunk(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU(), nn.AdaptiveAvgPool2d(1),
                                  nn.Flatten())

    def forward(self, X):
        return self.conv(X)


def test_multi_input_cnn_trunk():
    rng = np.random.RandomState(0)
    images = rng.normal(size=(60, 1, 6, 6)).astype(np.float32)
    table = rng.normal(size=(60, 3)).astype(np.float32)
    inputs = SliceDict(img=images, tab=table)
    y = pd.DataFrame({"mean": images.mean(axis=(1, 2, 3)), "first": table[:, 0]})
    trunk = MultiInput({"img": _Trunk, "tab": None}, hidden_layer_sizes=(8,))
    est = MultiTaskRegressor(trunk=trunk, max_epochs=1, batch_size=16, random_state=0,
                             device="cpu", early_stopping=False)
    result = lookahead_affinity(est, inputs, y, interval=1)
    assert result.tasks == ["mean", "first"]
    assert (result.n_measurements.to_numpy() == 4).all()
    assert np.isfinite(result.matrix.to_numpy()).all()


class _CountBatches(Callback):
    seen = 0

    def on_batch_end(self, net, training=False, **kwargs):
        if training:
            type(self).seen += 1


def test_estimator_callbacks_are_kept_and_estimator_unchanged():
    X, y, _ = make_task_clusters(96, tasks_per_cluster=1, random_state=0)
    user = _CountBatches()
    est = MultiTaskRegressor(max_epochs=2, batch_size=32, callbacks=[user], **SMALL)
    _CountBatches.seen = 0
    result = lookahead_affinity(est, X, y, max_epochs=1, interval=1)
    assert _CountBatches.seen == 3  # one epoch (max_epochs overridden) of 3 batches
    assert (result.n_measurements.to_numpy() == 3).all()
    assert est.get_params()["callbacks"] == [user] and est.max_epochs == 2
    assert not hasattr(est, "net_")


@pytest.mark.parametrize("kwargs, match", [
    ({"interval": 0}, "interval must be an integer >= 1"),
    ({"interval": 2.5}, "interval must be an integer >= 1"),
    ({"lr": -1.0}, "lr must be None"),
    ({"max_epochs": 0}, "max_epochs must be None or an integer >= 1"),
])
def test_invalid_arguments(kwargs, match):
    X, y, _ = make_task_clusters(40, tasks_per_cluster=1, random_state=0)
    with pytest.raises(ValueError, match=match):
        lookahead_affinity(MultiTaskRegressor(**SMALL), X, y, **kwargs)


def test_invalid_interval_of_the_callback():
    X, y, _ = make_task_clusters(40, tasks_per_cluster=1, random_state=0)
    est = MultiTaskRegressor(max_epochs=1, callbacks=[LookaheadAffinity(interval=0)], **SMALL)
    with pytest.raises(ValueError, match="interval must be an integer >= 1"):
        est.fit(X, y)
