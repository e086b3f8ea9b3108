"""Regression tests for the defects of issue 10, one (or a few) per defect.

Each test failed on the main branch before the one-way training step (forward ->
masked per-task losses -> balancer -> optimizer) and passes now. The defect numbers are
those of the issue.
"""

import pickle
import warnings

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.base import clone
from sklearn.metrics import r2_score
from skorch.callbacks import Callback

from skmtl import MultiTaskClassifier, MultiTaskNet, MultiTaskRegressor
from skmtl.architectures import CGC, PLE, CrossStitch, MMoE, SharedBottom

SMALL = dict(hidden_layer_sizes=(16,), batch_size=32, device="cpu", random_state=0,
             early_stopping=False)


def linear_tasks(n=400, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.normal(size=(n, 5)).astype(np.float32)
    y = pd.DataFrame({
        "a": X @ np.array([1.0, -2.0, 0.5, 0.0, 1.0]) + 0.05 * rng.normal(size=n),
        "b": X @ np.array([0.0, 1.0, 1.0, -1.0, 0.0]) + 0.05 * rng.normal(size=n),
    })
    return X, y


class StepRecorder(Callback):
    """Records each training batch's task weights and label totals."""

    def initialize(self):
        self.steps_ = []
        return self

    def on_batch_end(self, net, training=False, task_weights=None, task_counts=None, **kwargs):
        if training:
            self.steps_.append((task_weights.clone(), task_counts.clone()))


# -- 1. partial_fit: a later batch with a missing label ----------------------------------

def test_1_partial_fit_masks_missing_labels_that_appear_after_the_first_call():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(60, 3))
    y = pd.DataFrame({"c": np.where(X[:, 0] > 0, "p", "n"), "r": X[:, 1]})
    est = MultiTaskNet(**SMALL)
    est.partial_fit(X[:30], y[:30])  # no missing label in the first call
    later = y[30:].copy()
    later.loc[later.index[::2], "c"] = None
    est.partial_fit(X[30:], later)  # crashed: the NaN label reached the loss unmasked
    assert np.isfinite(est.history_[-1, "train_loss_c"])
    assert len(est.history_) == 2


# -- 2. aggregators and tasks absent from a batch ------------------------------------------

@pytest.mark.parametrize("weighting", ["mgda", "upgrad"])
def test_2_absent_task_leaves_the_aggregation(weighting):
    X, y = linear_tasks(n=2000)
    sparse = y.copy()
    rng = np.random.RandomState(1)
    sparse.loc[rng.rand(len(y)) > 0.005, "b"] = np.nan  # 0.5 % of b labelled
    settings = dict(SMALL, max_epochs=5, hidden_layer_sizes=(32,))
    recorder = StepRecorder()
    est = MultiTaskNet(weighting=weighting, callbacks=[recorder], **settings).fit(X, sparse)
    equal = MultiTaskNet(**settings).fit(X, sparse)
    r2 = r2_score(y["a"], est.predict(X)["a"])
    # on main: MGDA 0.89 against 0.98 for equal weighting (the update was zeroed)
    assert r2 > r2_score(y["a"], equal.predict(X)["a"]) - 0.02
    steps = dict(est.net_.callbacks_)["StepRecorder"].steps_
    absent = [w for w, c in steps if c[1] == 0]
    assert absent and all(w[1] == 0 and w[0] > 0 for w in absent)


# -- 3. aggregators and GradNorm with nothing shared to train ------------------------------

@pytest.mark.parametrize("weighting", ["mgda", "pcgrad", "upgrad", "gradnorm"])
@pytest.mark.parametrize(("architecture", "freeze"), [
    ("shared_bottom", "trunk"), ("separate", None), ("mmoe", "trunk"),
])
def test_3_nothing_shared_trains_each_task_with_its_own_gradient(weighting, architecture, freeze):
    X, y = linear_tasks(n=200)
    with pytest.warns(UserWarning, match="none is trainable"):
        est = MultiTaskNet(weighting=weighting, architecture=architecture, freeze=freeze,
                           max_epochs=30, lr=1e-2, **SMALL).fit(X, y)
    # the heads (or towers) trained: an untrained model scores about 0 (-0.03 to 0.00);
    # with a frozen trunk 0.48 (shared_bottom) and 0.61 (mmoe) under the default weight
    # decay, 0.58 and 0.68 without it; separate 0.998
    assert est.score(X, y) > 0.4
    assert all(w == 1.0 for w in est.history_[:, "weight_a"])


def test_3_frozen_trunk_stays_frozen_under_an_aggregator():
    X, y = linear_tasks(n=200)
    est = MultiTaskNet(weighting="mgda", max_epochs=2, **SMALL).fit(X, y)
    trunk = [p.detach().clone() for p in est.net_.module_.trunk.parameters()]
    est.set_params(freeze="trunk", warm_start=True)
    with pytest.warns(UserWarning):
        est.fit(X, y)
    for before, after in zip(trunk, est.net_.module_.trunk.parameters()):
        torch.testing.assert_close(before, after)


# -- 4. warm start uses the current parameters ------------------------------------------------

def test_4_warm_start_uses_the_current_epochs_lr_and_batch_size():
    X, y = linear_tasks(n=200)
    est = MultiTaskNet(max_epochs=3, warm_start=True, lr=1e-3, **SMALL).fit(X, y)
    steps = float(est.net_.optimizer_.state_dict()["state"][0]["step"])
    assert len(est.history_) == 3
    est.set_params(max_epochs=2, lr=5e-3, batch_size=100)
    est.fit(X, y)
    assert len(est.history_) == 5  # 2 more epochs, not 3
    assert all(g["lr"] == 5e-3 for g in est.net_.optimizer_.param_groups)
    assert len(est.history_[-1, "batches"]) == 2  # 200 rows / 100
    assert float(est.net_.optimizer_.state_dict()["state"][0]["step"]) == steps + 4  # kept


def test_4_warm_start_refuses_a_changed_network():
    X, y = linear_tasks(n=100)
    est = MultiTaskNet(max_epochs=1, warm_start=True, **SMALL).fit(X, y)
    est.set_params(hidden_layer_sizes=(8, 8))
    with pytest.raises(ValueError, match="hidden_layer_sizes"):
        est.fit(X, y)


# -- 5. one validation split per model ------------------------------------------------------

def test_5_validation_rows_stay_the_same_across_calls():
    X, y = linear_tasks(n=200)
    est = MultiTaskNet(validation_fraction=0.2, warm_start=True, max_epochs=1, **SMALL)
    est.fit(X, y)
    first = est.net_.train_split.valid_index_.clone()
    est.fit(X, y)
    torch.testing.assert_close(first, est.net_.train_split.valid_index_)
    inc = MultiTaskNet(validation_fraction=0.2, **SMALL)
    inc.partial_fit(X, y)
    again = inc.net_.train_split.valid_index_.clone()
    inc.partial_fit(X, y)
    torch.testing.assert_close(again, inc.net_.train_split.valid_index_)


# -- 6. prediction follows where the weights are ---------------------------------------------

def test_6_unpickled_model_predicts_where_its_weights_are():
    X, y = linear_tasks(n=100)
    est = MultiTaskNet(max_epochs=1, **SMALL).fit(X, y)
    expected = est.predict(X)
    est.device_ = "cuda"  # as a model fitted on a GPU, restored without one
    restored = pickle.loads(pickle.dumps(est))
    pd.testing.assert_frame_equal(restored.predict(X), expected)


# -- 7. GradNorm's last shared layer is named by each architecture ------------------------

@pytest.mark.parametrize(("architecture", "owner"), [
    (SharedBottom(), lambda m: m.trunk[-2]),
    (MMoE(n_experts=2), lambda m: m.experts[0][-2]),
    (CGC(), lambda m: m.shared_experts[0][0][-2]),
    (PLE(n_levels=2), lambda m: m.shared_experts[-1][0][-2]),
    (CrossStitch(), lambda m: m.layers[-1][0][0]),
])
def test_7_last_shared_layer_is_a_dense_layer(architecture, owner):
    X, y = linear_tasks(n=64)
    est = MultiTaskNet(architecture=architecture, numeric_embedding=None,  # the bare network
                       hidden_layer_sizes=(8, 8), max_epochs=1,
                       device="cpu").fit(X, y)
    module = est.net_.module_
    params = module.last_shared_parameters()
    assert params and all(p.dim() in (1, 2) for p in params)
    assert params[0] is owner(module).weight
    assert not any(p is s for p in params for s in getattr(module, "stitches", []))


# -- 8. int layer sizes, temperature after a warm start, clone of the net ------------------

def test_8_int_layer_size_in_an_architecture_spec():
    X, y = linear_tasks(n=64)
    est = MultiTaskNet(numeric_embedding=None,
                       architecture=MMoE(expert_layer_sizes=16, tower_layer_sizes=4),
                       max_epochs=1, device="cpu").fit(X, y)
    assert est.net_.module_.experts[0][0].out_features == 16


def test_8_temperature_scaling_after_a_warm_start():
    X, _ = linear_tasks(n=200)
    y = (X[:, :2] > 0).astype(int)
    est = MultiTaskClassifier(max_epochs=2, warm_start=True, **SMALL).fit(X, y)
    est.set_params(temperature_scaling=True)
    est.fit(X, y)
    assert set(est.temperatures_) == {"0", "1"}
    assert all(t > 0 for t in est.temperatures_.values())


def test_8_the_fitted_skorch_net_clones():
    X, y = linear_tasks(n=64)
    est = MultiTaskNet(max_epochs=1, **SMALL).fit(X, y)
    copy = clone(est.net_)
    assert type(copy) is type(est.net_) and copy.schedule == "joint"


# -- 10. learned balancing parameters get no weight decay ---------------------------------

@pytest.mark.parametrize("weighting", ["uncertainty", "gradnorm"])
def test_10_balancer_parameters_have_their_own_group_without_decay(weighting):
    X, y = linear_tasks(n=64)
    est = MultiTaskNet(weighting=weighting, optimizer="adamw", weight_decay=0.5, max_epochs=1,
                       **SMALL).fit(X, y)
    own = {id(p) for p in est.net_.balancer_.parameters()}
    groups = est.net_.optimizer_.param_groups
    balancer_groups = [g for g in groups if any(id(p) in own for p in g["params"])]
    assert len(balancer_groups) == 1 and balancer_groups[0]["weight_decay"] == 0.0
    assert all(id(p) in own for p in balancer_groups[0]["params"])
    others = [g for g in groups if g is not balancer_groups[0]]
    assert others and all(g["weight_decay"] == 0.5 for g in others)


def test_10_uncertainty_log_variance_of_an_absent_task_is_not_pulled_down():
    X, y = linear_tasks(n=400)
    sparse = y.copy()
    sparse.loc[sparse.index[20:], "b"] = np.nan  # b labelled in the first 20 rows only
    est = MultiTaskNet(weighting="uncertainty", max_epochs=10, **SMALL).fit(X, sparse)
    log_vars = est.net_.balancer_.log_vars.detach()
    # each step without a b label used to push s_b down by the 0.5 * s_b term alone
    assert log_vars[1] > -1.0


# -- sample weights ---------------------------------------------------------------------------

def test_sample_weight_zero_rows_have_no_influence():
    X, y = linear_tasks(n=200)
    y["c"] = np.where(X[:, 2] > 0, "p", "n")
    w = np.ones(len(y))
    w[::4] = 0.0
    garbled = y.copy()
    garbled.loc[garbled.index[::4], "a"] = 1e3  # would move the standardisation
    garbled.loc[garbled.index[::4], "c"] = np.where(y.loc[y.index[::4], "c"] == "p", "n", "p")
    settings = dict(max_epochs=3, **SMALL)
    one = MultiTaskNet(**settings).fit(X, y, sample_weight=w).predict(X)
    two = MultiTaskNet(**settings).fit(X, garbled, sample_weight=w).predict(X)
    assert (one["c"] == two["c"]).all()
    # equal up to float32 rounding of the (identical) standardisation
    np.testing.assert_allclose(one[["a", "b"]], two[["a", "b"]], rtol=1e-4, atol=1e-5)


def test_per_task_weight_zero_equals_a_missing_label():
    X, y = linear_tasks(n=200)
    w = np.ones((len(y), 2))
    w[::3, 1] = 0.0
    missing = y.copy()
    missing.loc[missing.index[::3], "b"] = np.nan
    settings = dict(max_epochs=3, **SMALL)
    weighted = MultiTaskNet(**settings).fit(X, y, sample_weight=w)
    masked = MultiTaskNet(**settings).fit(X, missing)
    np.testing.assert_allclose(weighted.predict(X).to_numpy(), masked.predict(X).to_numpy(),
                               rtol=1e-5, atol=1e-5)


def test_sample_weight_changes_the_fit_and_the_score():
    X, y = linear_tasks(n=200)
    y["a"] = np.where(X[:, 0] > 0, y["a"], -y["a"])
    w = np.where(X[:, 0] > 0, 1.0, 0.05)
    settings = dict(max_epochs=20, lr=1e-2, **SMALL)
    est = MultiTaskRegressor(**settings).fit(X, y, sample_weight=w)
    favoured = X[:, 0] > 0
    assert est.score(X[favoured], y[favoured]) > est.score(X[~favoured], y[~favoured])
    weighted = est.score(X, y, sample_weight=w)
    assert weighted == pytest.approx(np.mean([
        r2_score(y[c], est.predict(X)[c], sample_weight=w) for c in ["a", "b"]]))
    per_task = est.score_tasks(X, y, sample_weight=np.column_stack([w, np.ones(len(w))]))
    assert per_task["a"] == pytest.approx(r2_score(y["a"], est.predict(X)["a"], sample_weight=w))
    assert per_task["b"] == pytest.approx(r2_score(y["b"], est.predict(X)["b"]))


def test_sample_weight_through_a_pipeline_with_metadata_routing():
    from sklearn import config_context
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    X, y = linear_tasks(n=100)
    w = np.zeros(len(y))
    w[:50] = 1.0
    with config_context(enable_metadata_routing=True):
        pipe = make_pipeline(
            StandardScaler().set_fit_request(sample_weight=False),
            MultiTaskNet(max_epochs=2, **SMALL).set_fit_request(sample_weight=True),
        )
        pipe.fit(X, y, sample_weight=w)
        direct = MultiTaskNet(max_epochs=2, **SMALL).fit(StandardScaler().fit_transform(X), y,
                                                         sample_weight=w)
    np.testing.assert_allclose(pipe.predict(X).to_numpy(), direct.predict(
        StandardScaler().fit(X).transform(X)).to_numpy(), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize(("weight", "message"), [
    (np.ones(5), "5 entries"),
    (np.ones((100, 3)), "one column per task"),
    (-np.ones(100), "negative"),
    (np.full(100, np.nan), "finite"),
    (pd.DataFrame({"x": np.ones(100)}), "task names"),
])
def test_bad_sample_weight_is_refused_before_training(weight, message):
    X, y = linear_tasks(n=100)
    with pytest.raises(ValueError, match=message):
        MultiTaskNet(max_epochs=1, **SMALL).fit(X, y, sample_weight=weight)


def test_sample_weight_with_partial_fit_and_every_balancer_kind():
    X, y = linear_tasks(n=120)
    y.loc[y.index[::5], "b"] = np.nan
    w = np.random.RandomState(0).rand(len(y))
    for weighting in ["equal", "uncertainty", "gls", "gradnorm", "mgda", "pcgrad"]:
        est = MultiTaskNet(weighting=weighting, **SMALL)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            est.partial_fit(X, y, sample_weight=w)
            est.partial_fit(X, y, sample_weight=w)
        assert np.isfinite(est.history_[-1, "train_loss"]), weighting


def test_12_ensemble_predict_proba_on_regression_tasks_says_why():
    from skmtl import MultiTaskEnsemble

    X, y = linear_tasks(n=40)
    ensemble = MultiTaskEnsemble([MultiTaskRegressor(max_epochs=1, **SMALL)]).fit(X, y)
    assert not hasattr(ensemble, "predict_proba")
    with pytest.raises(AttributeError, match="only regression tasks .*use predict"):
        ensemble.predict_proba(X)
