"""Sample weights reach the choices made on held-out rows: decision thresholds (of one
network's validation rows and of an ensemble's out-of-fold rows) and temperatures.

An entry of weight 0 is documented as a missing label, so it must not move a threshold
or a temperature; a weight of 2 must count like the row twice.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn import config_context
from sklearn.metrics import accuracy_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skmtl import MultiTaskEnsemble, MultiTaskNet
from skmtl._calibration import fit_temperature
from skmtl._thresholds import best_threshold
from skmtl.tasks import Classification, MultiLabel, Regression

FAST = dict(hidden_layer_sizes=(16,), max_epochs=6, batch_size=32, lr=1e-2, device="cpu",
            random_state=0)
TASKS = [Classification("bin"), MultiLabel(["l0", "l1"], name="labels"), Regression("reg")]


pytestmark = pytest.mark.filterwarnings("ignore")  # short fits warn that they stopped early


def _table(n=300, seed=0):
    rng = np.random.RandomState(seed)
    X = pd.DataFrame(rng.normal(size=(n, 4)), columns=list("abcd"))
    y = pd.DataFrame({
        "bin": (X["a"] + rng.normal(0, 0.8, n) > 0.7).astype(int),
        "l0": (X["b"] + rng.normal(0, 0.8, n) > -0.3).astype(int),
        "l1": (X["c"] + rng.normal(0, 0.8, n) > 0.9).astype(int),
        "reg": X["d"] + rng.normal(0, 0.1, n),
    })
    return X, y


def _garbled(y, rows):
    """y with the class labels of ``rows`` flipped (what weight 0 must hide)."""
    bad = y.copy()
    for column in ("bin", "l0", "l1"):
        bad.loc[bad.index[rows], column] = 1 - bad.loc[bad.index[rows], column]
    return bad


# -- the choices themselves ---------------------------------------------------------------


@settings(max_examples=200, deadline=None, derandomize=True)
@given(n=st.integers(2, 40), seed=st.integers(0, 2**16), metric=st.sampled_from(["accuracy", "f1"]))
def test_best_threshold_counts_a_weight_like_repeated_rows(n, seed, metric):
    rng = np.random.RandomState(seed)
    proba = np.round(rng.uniform(size=n), 2)  # ties among probabilities too
    truth = (rng.uniform(size=n) < 0.4).astype(float)
    truth[rng.uniform(size=n) < 0.1] = np.nan
    weight = rng.randint(0, 4, size=n).astype(float)
    repeated = np.repeat(np.arange(n), weight.astype(int))
    assert best_threshold(proba, truth, metric, weight) == best_threshold(
        proba[repeated], truth[repeated], metric)
    assert best_threshold(proba, truth, metric, np.ones(n)) == best_threshold(proba, truth, metric)


@settings(max_examples=40, deadline=None, derandomize=True)
@given(n=st.integers(3, 30), seed=st.integers(0, 2**16), multilabel=st.booleans())
def test_fit_temperature_counts_a_weight_like_repeated_rows(n, seed, multilabel):
    rng = np.random.RandomState(seed)
    if multilabel:
        logits = rng.normal(0, 3, size=(n, 2))
        target = (rng.uniform(size=(n, 2)) < 0.5).astype(float)
        target[0, 1] = np.nan
    else:
        logits = rng.normal(0, 3, size=(n, 3))
        target = rng.randint(0, 3, size=(n, 1)).astype(float)
    weight = rng.randint(0, 4, size=n).astype(float)
    weight[0] = 1.0  # at least one labelled row
    repeated = np.repeat(np.arange(n), weight.astype(int))
    assert fit_temperature(logits, target, multilabel, weight) == pytest.approx(
        fit_temperature(logits[repeated], target[repeated], multilabel), rel=1e-4)


def test_fit_temperature_with_every_weight_zero_is_one():
    logits, target = np.array([[2.0, -1.0]]), np.array([[0.0]])
    assert fit_temperature(logits, target, False, np.zeros(1)) == 1.0


# -- one network: validation rows ------------------------------------------------------------


@pytest.mark.parametrize("architecture", ["shared_bottom", "mmoe", "tabm"])
def test_zero_weight_rows_choose_no_threshold_and_no_temperature(architecture):
    X, y = _table()
    w = np.ones(len(y))
    w[::3] = 0.0
    settings_ = dict(tasks=TASKS, architecture=architecture, threshold="accuracy",
                     temperature_scaling=True, validation_fraction=0.3, **FAST)
    clean = MultiTaskNet(**settings_).fit(X, y, sample_weight=w)
    garbled = MultiTaskNet(**settings_).fit(X, _garbled(y, slice(None, None, 3)), sample_weight=w)
    assert clean.thresholds_["bin"] == garbled.thresholds_["bin"]
    np.testing.assert_array_equal(clean.thresholds_["labels"], garbled.thresholds_["labels"])
    assert clean.temperatures_ == pytest.approx(garbled.temperatures_, rel=1e-6)
    # and the weighted validation rows did choose something (not the 0.5 fallback everywhere)
    chosen = [clean.thresholds_["bin"], *clean.thresholds_["labels"]]
    assert any(t != 0.5 for t in chosen)
    assert any(t != 1.0 for t in clean.temperatures_.values())


def test_per_task_zero_weight_equals_a_missing_label_for_thresholds():
    X, y = _table()
    w = np.ones((len(y), 3))
    w[::2, 1] = 0.0  # the multi-label task's labels on every other row
    missing = y.astype({"l0": float, "l1": float})
    missing.loc[missing.index[::2], ["l0", "l1"]] = np.nan
    settings_ = dict(tasks=TASKS, threshold="f1", temperature_scaling=True,
                     validation_fraction=0.3, **FAST)
    weighted = MultiTaskNet(**settings_).fit(X, y, sample_weight=w)
    masked = MultiTaskNet(**settings_).fit(X, missing)
    np.testing.assert_allclose(weighted.thresholds_["labels"], masked.thresholds_["labels"],
                               atol=1e-6)
    assert weighted.temperatures_["labels"] == pytest.approx(masked.temperatures_["labels"],
                                                             rel=1e-4)


# -- ensembles: out-of-fold rows --------------------------------------------------------------


class Recording(MultiTaskNet):
    """A MultiTaskNet that keeps the sample weights each fit received."""

    def fit(self, X, y, sample_weight=None):
        self.seen_weight_ = None if sample_weight is None else np.asarray(sample_weight).copy()
        self.seen_index_ = X.index.to_numpy().copy()
        return super().fit(X, y, sample_weight=sample_weight)


def test_ensemble_passes_each_member_its_rows_weights():
    X, y = _table()
    w = np.arange(len(y), dtype=float) % 5
    ens = MultiTaskEnsemble([Recording(tasks=TASKS, **FAST)], n_seeds=2, cv=3,
                            random_state=0).fit(X, y, sample_weight=w)
    for member, held_out in zip(ens.estimators_, ens.held_out_rows_):
        np.testing.assert_array_equal(member.seen_weight_, w[member.seen_index_])
        assert not set(member.seen_index_) & set(held_out)
    whole = MultiTaskEnsemble([Recording(tasks=TASKS, **FAST)], n_seeds=2,
                              random_state=0).fit(X, y, sample_weight=w)
    for member in whole.estimators_:
        np.testing.assert_array_equal(member.seen_weight_, w)


@pytest.mark.parametrize("cv", [None, 3])
def test_ensemble_reads_a_weight_frame_by_task_name(cv):
    """Per-(row, task) weights as a DataFrame whose columns name the tasks in another
    order train the same members as the array in task order."""
    X, y = _table()
    rng = np.random.RandomState(2)
    array = np.column_stack([rng.randint(0, 3, len(y)), np.full(len(y), 2.0),
                             rng.uniform(0.5, 1.5, len(y))])  # bin, labels, reg
    frame = pd.DataFrame(array[:, ::-1], columns=["reg", "labels", "bin"])
    kw = dict(n_seeds=1, cv=cv, threshold="accuracy" if cv else None, random_state=0)
    by_array = MultiTaskEnsemble([MultiTaskNet(tasks=TASKS, **FAST)], **kw).fit(
        X, y, sample_weight=array)
    by_frame = MultiTaskEnsemble([MultiTaskNet(tasks=TASKS, **FAST)], **kw).fit(
        X, y, sample_weight=frame)
    for a, b in zip(by_array.predict_proba(X), by_frame.predict_proba(X)):
        np.testing.assert_array_equal(a, b)
    assert by_array.thresholds_.keys() == by_frame.thresholds_.keys()
    for name in by_array.thresholds_:
        np.testing.assert_array_equal(by_array.thresholds_[name], by_frame.thresholds_[name])


def test_ensemble_out_of_fold_thresholds_ignore_zero_weight_rows():
    X, y = _table()
    w = np.ones(len(y))
    w[1::4] = 0.0
    kw = dict(n_seeds=1, cv=3, threshold="accuracy", random_state=0)
    clean = MultiTaskEnsemble([MultiTaskNet(tasks=TASKS, **FAST)], **kw).fit(
        X, y, sample_weight=w)
    garbled = MultiTaskEnsemble([MultiTaskNet(tasks=TASKS, **FAST)], **kw).fit(
        X, _garbled(y, slice(1, None, 4)), sample_weight=w)
    assert clean.thresholds_["bin"] == garbled.thresholds_["bin"]
    np.testing.assert_array_equal(clean.thresholds_["labels"], garbled.thresholds_["labels"])
    unweighted = MultiTaskEnsemble([MultiTaskNet(tasks=TASKS, **FAST)], **kw).fit(
        X, _garbled(y, slice(1, None, 4)))
    assert (unweighted.thresholds_["bin"], *unweighted.thresholds_["labels"]) != (
        clean.thresholds_["bin"], *clean.thresholds_["labels"])  # the garbling matters


def test_ensemble_score_weighs_rows_and_tasks():
    X, y = _table()
    ens = MultiTaskEnsemble([MultiTaskNet(tasks=TASKS, **FAST)], n_seeds=2,
                            random_state=0).fit(X, y)
    w = np.random.RandomState(1).uniform(0, 2, len(y))
    pred = ens.predict(X)
    scores = ens.score_tasks(X, y, sample_weight=w)
    assert scores["bin"] == pytest.approx(accuracy_score(y["bin"], pred["bin"], sample_weight=w))
    per_task = np.column_stack([w, np.ones(len(y)), np.ones(len(y))])
    assert ens.score_tasks(X, y, sample_weight=per_task)["labels"] == pytest.approx(
        ens.score_tasks(X, y)["labels"])
    assert ens.score(X, y, sample_weight=w) == pytest.approx(np.mean(list(scores.values())))


def test_ensemble_sample_weight_through_a_pipeline_with_metadata_routing():
    X, y = _table()
    w = np.ones(len(y))
    w[::3] = 0.0
    with config_context(enable_metadata_routing=True):
        pipe = make_pipeline(
            StandardScaler().set_output(transform="pandas").set_fit_request(sample_weight=False),
            MultiTaskEnsemble([Recording(tasks=TASKS, **FAST)], cv=2, random_state=0)
            .set_fit_request(sample_weight=True))
        pipe.fit(X, y, sample_weight=w)
    for member in pipe[-1].estimators_:
        np.testing.assert_array_equal(member.seen_weight_, w[member.seen_index_])
