"""Gradient affinity during training: ``task_affinity=True``, the GradientAffinity callback
and :func:`skmtl.affinity.gradient_affinity`."""

from __future__ import annotations

import pickle

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.base import clone
from sklearn.utils._param_validation import InvalidParameterError
from torch import nn

from skmtl import MultiTaskNet, MultiTaskRegressor
from skmtl.affinity import AffinityResult, gradient_affinity, make_task_clusters
from skmtl.architectures import ARCHITECTURES, MultiInput
from skmtl.callbacks import GradientAffinity
from skmtl.callbacks import _affinity as affinity_module

pytestmark = pytest.mark.filterwarnings("ignore::skmtl.callbacks._convergence.ConvergenceWarning")

#: tiny, fast fits: 200 rows in batches of 50 = 4 training steps an epoch
FAST = dict(hidden_layer_sizes=(8,), max_epochs=2, batch_size=50, random_state=0,
            numeric_embedding=None, affinity_interval=1, device="cpu")


@pytest.fixture(scope="module")
def small():
    X, y, _ = make_task_clusters(200, tasks_per_cluster=2, random_state=0)
    return X, y


def _within_across(matrix: pd.DataFrame, clusters: np.ndarray) -> tuple[float, float]:
    values = matrix.to_numpy()
    same = clusters[:, None] == clusters[None, :]
    off = ~np.eye(len(clusters), dtype=bool)
    return float(values[same & off].mean()), float(values[~same].mean())


# -- values on tasks with a known structure ----------------------------------------------
#: a short run on make_task_clusters (400 rows: 13 steps an epoch, 6 measurements)
CLUSTERS = dict(hidden_layer_sizes=(32, 32), batch_size=32, lr=3e-3, numeric_embedding=None,
                task_affinity=True, affinity_interval=2)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_related_tasks_have_higher_affinity_than_unrelated(seed):
    # Two clusters of 3 noisy variants of one map of a latent, each cluster reading its
    # own inputs. Measured (these settings, seeds 0 / 1 / 2): mean within-cluster
    # affinity 0.32 / 0.34 / 0.31 (lowest pair 0.12 / 0.19 / 0.15), mean across
    # -0.003 / 0.000 / -0.004 (largest |pair| 0.022 / 0.003 / 0.014). A random or a
    # negated affinity fails.
    X, y, clusters = make_task_clusters(400, random_state=seed)
    model = MultiTaskRegressor(max_epochs=8, random_state=seed, **CLUSTERS).fit(X, y)
    within, across = _within_across(model.task_affinity_, clusters)
    assert within - across > 0.2
    assert abs(across) < 0.03
    values = model.task_affinity_.to_numpy()
    same = clusters[:, None] == clusters[None, :]
    assert values[same].min() > np.abs(values[~same]).max()  # every related pair ranks first
    assert list(model.task_affinity_.index) == list(y.columns)
    assert list(model.task_affinity_.columns) == list(y.columns)


def test_negated_copy_is_a_related_task():
    # c0_t2 = -c0_t0 exactly: its head flips sign, so on the shared representation the
    # two gradients agree once the heads have learned it. Measured: 0.41 over 15 epochs
    # (rising from -0.1 in the first epoch to 0.56 in the last), against at most 0.008
    # in absolute value for the unrelated pairs (seeds 1 and 2: 0.42 and 0.54).
    X, y, _ = make_task_clusters(400, negated=True, random_state=0)
    model = MultiTaskRegressor(max_epochs=15, random_state=0, **CLUSTERS).fit(X, y)
    matrix = model.task_affinity_
    assert matrix.loc["c0_t0", "c0_t2"] > 0.3
    across = matrix.loc[["c0_t0", "c0_t1", "c0_t2"], ["c1_t0", "c1_t1", "c1_t2"]].to_numpy()
    assert matrix.loc["c0_t0", "c0_t2"] > np.abs(across).max() + 0.25
    assert model.history_[-1, "task_affinity"][0][2] > 0.45  # and rising, not an artefact


# -- measuring does not change training ---------------------------------------------------
class _NormTrunk(nn.Module):
    """A trunk with batch norm and dropout: both behave differently in train mode."""

    def __init__(self):
        super().__init__()
        self.layers = nn.Sequential(nn.Linear(12, 12), nn.BatchNorm1d(12), nn.ReLU(),
                                    nn.Dropout(0.3))

    def forward(self, X):
        return self.layers(X)


@pytest.mark.parametrize("params", [
    {"dropout": 0.3},
    {"dropout": 0.3, "architecture": "mmoe"},
    {"trunk": _NormTrunk},
], ids=["shared_bottom", "mmoe", "batchnorm_trunk"])
def test_measuring_does_not_change_the_fitted_parameters(small, params):
    X, y = small
    X = X.astype(np.float32)
    fits = [MultiTaskRegressor(task_affinity=on, **{**FAST, **params}).fit(X, y)
            for on in (True, False)]
    with_, without = (dict(f.net_.module_.state_dict()) for f in fits)
    assert with_.keys() == without.keys()
    for name in with_:  # parameters and buffers (batch-norm running statistics)
        assert torch.equal(with_[name], without[name]), name
    assert fits[0].history_[-1, "task_affinity_n"][0][0] == 4  # it did measure
    assert "task_affinity" not in fits[1].history_[-1]
    assert not hasattr(fits[1], "task_affinity_")


# -- what is recorded -----------------------------------------------------------------------
def test_history_records_per_epoch_matrices_and_counts(small):
    X, y = small
    model = MultiTaskRegressor(task_affinity=True, **{**FAST, "affinity_interval": 3,
                                                      "max_epochs": 3}).fit(X, y)
    # 4 steps an epoch, measured at steps 3, 6, 9, 12: once, once, then twice
    counts = [np.asarray(c) for c in model.history_[:, "task_affinity_n"]]
    assert [c[0, 0] for c in counts] == [1, 1, 2]
    for row, count in zip(model.history_, counts):
        mean, square = np.asarray(row["task_affinity"]), np.asarray(row["task_affinity_sq"])
        assert mean.shape == square.shape == count.shape == (4, 4)
        np.testing.assert_allclose(mean, mean.T, atol=1e-6)
        np.testing.assert_array_equal(np.diag(mean), 1.0)
        assert np.all(np.abs(mean) <= 1) and np.all(square >= mean ** 2 - 1e-9)
    # task_affinity_: the count-weighted mean over all epochs
    stacked = np.stack([np.asarray(m) for m in model.history_[:, "task_affinity"]])
    weights = np.stack(counts)
    expected = (stacked * weights).sum(0) / weights.sum(0)
    np.testing.assert_allclose(model.task_affinity_.to_numpy(), expected, atol=1e-12)


def test_pair_never_labelled_together_is_nan():
    # "a" and "b" come from different datasets (never labelled on the same row); with
    # one row a batch, no step has both, while "c" (labelled everywhere) meets both.
    rng = np.random.RandomState(0)
    X = rng.normal(size=(40, 3))
    y = pd.DataFrame({"a": X[:, 0], "b": X[:, 1], "c": X[:, 0] + X[:, 1]})
    y.loc[20:, "a"] = np.nan
    y.loc[:19, "b"] = np.nan
    model = MultiTaskRegressor(task_affinity=True, **{**FAST, "batch_size": 1,
                                                      "max_epochs": 1}).fit(X, y)
    matrix = model.task_affinity_
    assert np.isnan(matrix.loc["a", "b"]) and np.isnan(matrix.loc["b", "a"])
    assert np.isfinite(matrix.loc["a", "c"]) and np.isfinite(matrix.loc["b", "c"])
    counts = np.asarray(model.history_[-1, "task_affinity_n"])
    assert counts.tolist() == [[20, 0, 20], [0, 20, 20], [20, 20, 40]]


def test_missing_labels_count_only_batches_with_the_task(small):
    X, y = small
    y = y.copy()
    rare = np.random.RandomState(1).rand(len(y)) > 0.05  # about 10 labelled rows
    y.loc[rare, "c0_t1"] = np.nan
    model = MultiTaskRegressor(task_affinity=True, early_stopping=False,
                               **{**FAST, "batch_size": 10}).fit(X, y)
    counts = np.asarray(model.history_[:, "task_affinity_n"]).sum(0)
    assert counts[0, 0] == 40  # labelled in every batch: every step
    assert 0 < counts[1, 1] < 40
    assert counts[0, 1] == counts[1, 1]
    assert np.isfinite(model.task_affinity_.to_numpy()).all()


def test_no_measurement_when_interval_exceeds_the_steps(small):
    X, y = small
    model = MultiTaskRegressor(task_affinity=True, **{**FAST, "affinity_interval": 100}).fit(X, y)
    assert model.task_affinity_.isna().all().all()
    assert np.asarray(model.history_[:, "task_affinity_n"]).sum() == 0
    assert np.isnan(np.asarray(model.history_[-1, "task_affinity"])).all()


# -- combinations ----------------------------------------------------------------------------
@pytest.mark.parametrize("architecture", sorted(set(ARCHITECTURES) - {"separate"}))
def test_every_sharing_architecture_measures(small, architecture):
    X, y = small
    model = MultiTaskRegressor(architecture=architecture, task_affinity=True, **FAST).fit(X, y)
    values = model.task_affinity_.to_numpy()
    assert values.shape == (4, 4)
    assert np.isfinite(values).all()
    np.testing.assert_array_equal(np.diag(values), 1.0)
    assert (np.abs(values) <= 1).all()
    mode = dict(model.net_.callbacks_)["task_affinity"].mode_
    shared = model.net_.module_.has_shared_representation
    assert mode == ("representation" if shared else "parameters")
    if architecture in ("shared_bottom", "mmoe"):
        assert mode == {"shared_bottom": "representation", "mmoe": "parameters"}[architecture]


def test_separate_networks_raise_a_clear_error(small):
    X, y = small
    with pytest.raises(ValueError, match=r"task_affinity=True.*architecture='separate'.*"
                                         r"task_affinity=False"):
        MultiTaskRegressor(architecture="separate", task_affinity=True, **FAST).fit(X, y)


def test_separate_towers_with_a_user_trunk_share_nothing(small):
    X, y = small  # the trunk is copied into every task's tower
    with pytest.raises(ValueError, match=r"SeparateModule.*no trainable shared parameter"):
        MultiTaskRegressor(architecture="separate", trunk=nn.Linear(12, 6), task_affinity=True,
                           **FAST).fit(X.astype(np.float32), y)


@pytest.mark.parametrize("weighting", ["upgrad", "mgda"])
def test_gradient_aggregation_measures_what_equal_weighting_measures(small, weighting):
    X, y = small
    model = MultiTaskRegressor(weighting=weighting, task_affinity=True, **FAST).fit(X, y)
    assert (np.asarray(model.history_[-1, "task_affinity_n"]) == 4).all()
    assert np.isfinite(model.task_affinity_.to_numpy()).all()
    # one step (the whole data in one batch), measured before it: the same network and
    # rows whatever the weighting, so the same matrix (the row order may differ)
    first = [MultiTaskRegressor(weighting=w, task_affinity=True,
                                **{**FAST, "max_epochs": 1, "batch_size": 200}
                                ).fit(X, y).task_affinity_ for w in (weighting, "equal")]
    pd.testing.assert_frame_equal(first[0], first[1], rtol=1e-5)


def test_frozen_trunk_still_measures_on_the_representation(small):
    X, y = small
    model = MultiTaskRegressor(freeze="trunk", task_affinity=True, **FAST).fit(X, y)
    assert np.isfinite(model.task_affinity_.to_numpy()).all()
    with pytest.raises(ValueError, match=r"architecture='mmoe', freeze='trunk'"):
        MultiTaskRegressor(architecture="mmoe", freeze="trunk", task_affinity=True,
                           **FAST).fit(X, y)


def test_tabular_embeddings_and_bf16(small):
    X, y = small
    frame = pd.DataFrame(X, columns=[f"x{i}" for i in range(X.shape[1])])
    frame["kind"] = pd.Categorical(np.where(X[:, 0] > 0, "p", "n"))
    model = MultiTaskRegressor(task_affinity=True, precision="bf16",
                               **{**FAST, "numeric_embedding": "piecewise_linear"}).fit(frame, y)
    values = model.task_affinity_.to_numpy()
    assert np.isfinite(values).all() and (np.abs(values) <= 1).all()


class _SmallCNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.layers = nn.Sequential(nn.Conv2d(1, 3, 3), nn.ReLU(), nn.Flatten())

    def forward(self, X):
        return self.layers(X)


def test_dict_inputs_with_a_cnn_trunk():
    rng = np.random.RandomState(0)
    images = rng.normal(size=(60, 1, 6, 6)).astype(np.float32)
    table = rng.normal(size=(60, 2)).astype(np.float32)
    y = pd.DataFrame({"bright": images.mean(axis=(1, 2, 3)),
                      "side": np.where(table[:, 0] > 0, "r", "l")})
    trunk = MultiInput({"img": _SmallCNN, "tab": None}, hidden_layer_sizes=(8,))
    model = MultiTaskNet(trunk=trunk, task_affinity=True,
                         **{**FAST, "batch_size": 20}).fit({"img": images, "tab": table}, y)
    assert model.task_affinity_.shape == (2, 2)
    assert np.isfinite(model.task_affinity_.to_numpy()).all()


# -- continuing a fit -------------------------------------------------------------------------
def test_partial_fit_and_warm_start_accumulate(small):
    X, y = small
    model = MultiTaskRegressor(task_affinity=True, **{**FAST, "affinity_interval": 3})
    for _ in range(3):
        model.partial_fit(X, y)
    # the step count continues across the calls: steps 3, 6, 9, 12
    assert [c[0][0] for c in model.history_[:, "task_affinity_n"]] == [1, 1, 2]
    assert (model.task_affinity_.to_numpy()[np.eye(4, dtype=bool)] == 1).all()

    warm = MultiTaskRegressor(task_affinity=True, warm_start=True, **FAST).fit(X, y)
    first = warm.task_affinity_.copy()
    warm.fit(X, y)
    assert len(warm.history_) == 4
    assert len(warm.history_[:, "task_affinity"]) == 4
    expected = np.mean([np.asarray(m) for m in warm.history_[:, "task_affinity"]], axis=0)
    np.testing.assert_allclose(warm.task_affinity_.to_numpy(), expected, atol=1e-12)
    assert not np.allclose(warm.task_affinity_.to_numpy(), first.to_numpy())
    # continuing without measuring: no matrix, the measured epochs stay in the history
    warm.set_params(task_affinity=False).fit(X, y)
    assert not hasattr(warm, "task_affinity_")
    assert len(warm.history_) == 6 and "task_affinity" not in warm.history_[-1]


def test_clone_and_pickle_of_a_fitted_estimator(small):
    X, y = small
    model = MultiTaskRegressor(task_affinity=True, **FAST).fit(X, y)
    restored = pickle.loads(pickle.dumps(model))
    pd.testing.assert_frame_equal(restored.task_affinity_, model.task_affinity_)
    np.testing.assert_array_equal(restored.history_[:, "task_affinity"],
                                  model.history_[:, "task_affinity"])
    callback = dict(restored.net_.callbacks_)["task_affinity"]
    assert callback.sums_ is None  # no device tensors kept between epochs
    fresh = clone(model)
    assert fresh.get_params()["task_affinity"] is True
    assert fresh.get_params()["affinity_interval"] == 1
    assert not hasattr(fresh, "task_affinity_")


def test_parameters_are_validated():
    model = MultiTaskRegressor()
    assert model.get_params()["task_affinity"] is False
    assert model.get_params()["affinity_interval"] == 10
    assert model.set_params(affinity_interval=5).affinity_interval == 5
    X, y, _ = make_task_clusters(40, tasks_per_cluster=1, random_state=0)
    with pytest.raises(InvalidParameterError, match="affinity_interval"):
        MultiTaskRegressor(task_affinity=True, affinity_interval=0).fit(X, y)
    with pytest.raises(InvalidParameterError, match="task_affinity"):
        MultiTaskRegressor(task_affinity="yes").fit(X, y)
    with pytest.raises(ValueError, match="interval of GradientAffinity"):
        GradientAffinity(["a"], interval=0).initialize()


def test_data_parallel_pools_the_processes_sums(small, monkeypatch):
    # a stand-in for a second process that measured exactly what this one did: the
    # all-reduce doubles the sums and counts, so the means stay and the counts double
    from skmtl._training import _distributed

    X, y = small
    alone = MultiTaskRegressor(task_affinity=True, **FAST).fit(X, y)
    calls = []

    def all_reduce(tensor, *args, **kwargs):
        calls.append(tensor.shape)
        tensor.mul_(2)

    monkeypatch.setattr(_distributed, "world", lambda: (0, 2))
    monkeypatch.setattr(_distributed, "_comm_device", lambda: torch.device("cpu"))
    monkeypatch.setattr(torch.distributed, "all_reduce", all_reduce)
    record = affinity_module.GradientAffinity(list(y.columns), 1).initialize()
    record.sums_ = torch.ones(3, 4, 4, dtype=torch.float64)  # one step, every cosine 1

    class _Net:
        history = alone.history_

    record.on_epoch_end(_Net())
    assert calls == [(3, 4, 4)]
    assert alone.history_[-1, "task_affinity_n"] == [[2] * 4] * 4
    assert alone.history_[-1, "task_affinity"] == [[1.0] * 4] * 4


# -- skmtl.affinity.gradient_affinity -------------------------------------------------------
def test_gradient_affinity_function(small):
    X, y = small
    estimator = MultiTaskRegressor(**{**FAST, "affinity_interval": 10})
    result = gradient_affinity(estimator, X, y, max_epochs=3, interval=4)
    assert isinstance(result, AffinityResult)
    assert result.method == "gradient" and result.seconds > 0
    assert result.tasks == list(y.columns)
    # 3 epochs of 4 steps, every 4th measured: 3 measurements of every pair
    assert (result.n_measurements.to_numpy() == 3).all()
    assert np.isfinite(result.standard_error.to_numpy()[~np.eye(4, dtype=bool)]).all()
    assert (result.standard_error.to_numpy() >= 0).all()
    assert not hasattr(estimator, "net_")  # the estimator itself is not fitted
    same = MultiTaskRegressor(task_affinity=True, **{**FAST, "max_epochs": 3,
                                                     "affinity_interval": 4}).fit(X, y)
    pd.testing.assert_frame_equal(result.matrix, same.task_affinity_)
    with pytest.raises(ValueError, match="interval of gradient_affinity"):
        gradient_affinity(estimator, X, y, interval=0)
    with pytest.raises(TypeError, match="skmtl estimator"):
        gradient_affinity(object(), X, y)


def test_standard_error_from_the_recorded_squares():
    # two epochs measured 2 and 1 times with cosines (0.2, 0.4) and (0.9)
    history = [
        {"task_affinity": [[1.0, 0.3], [0.3, 1.0]], "task_affinity_n": [[2, 2], [2, 2]],
         "task_affinity_sq": [[1.0, 0.1], [0.1, 1.0]]},
        {"train_loss": 1.0},
        {"task_affinity": [[1.0, 0.9], [0.9, 1.0]], "task_affinity_n": [[1, 1], [1, 1]],
         "task_affinity_sq": [[1.0, 0.81], [0.81, 1.0]]},
    ]
    matrix, error, counts = affinity_module.history_affinity(history, ["a", "b"])
    values = np.array([0.2, 0.4, 0.9])
    assert matrix.loc["a", "b"] == pytest.approx(values.mean())
    assert error.loc["a", "b"] == pytest.approx(values.std(ddof=1) / np.sqrt(3))
    assert error.loc["a", "a"] == 0.0
    assert counts.loc["b", "a"] == 3


def test_a_resumed_checkpoint_continues_the_step_count(small, tmp_path):
    # 4 steps an epoch, every 3rd measured: an uninterrupted 3-epoch fit measures 1, 1
    # and 2 times; a fit stopped after 2 epochs and resumed must do the same
    X, y = small
    params = {**FAST, "affinity_interval": 3}
    MultiTaskRegressor(task_affinity=True, checkpoint=tmp_path, **{**params, "max_epochs": 2}
                       ).fit(X, y)
    resumed = MultiTaskRegressor(task_affinity=True, checkpoint=tmp_path,
                                 **{**params, "max_epochs": 3}).fit(X, y)
    whole = MultiTaskRegressor(task_affinity=True, **{**params, "max_epochs": 3}).fit(X, y)
    assert [c[0][0] for c in resumed.history_[:, "task_affinity_n"]] == [1, 1, 2]
    pd.testing.assert_frame_equal(resumed.task_affinity_, whole.task_affinity_)


def test_matrices_stay_out_of_the_printed_table(small, capsys):
    X, y = small
    model = MultiTaskRegressor(task_affinity=True, **{**FAST, "verbose": 1}).fit(X, y)
    printed = capsys.readouterr().out
    assert "train_loss_c0_t0" in printed and "task_affinity" not in printed
    assert "task_affinity" in model.history_[-1]
