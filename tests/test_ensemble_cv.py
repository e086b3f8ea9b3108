"""Cross-fitted ensembles (``MultiTaskEnsemble(cv=...)``) and thresholds chosen on their
out-of-fold probabilities (``threshold=``)."""

import pickle

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import sparse
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV, KFold

from skmtl import MultiTaskEnsemble, MultiTaskNet
from skmtl._thresholds import best_threshold
from skmtl.architectures import ARCHITECTURES
from skmtl.tasks import Classification, MultiLabel, Regression

FAST = dict(hidden_layer_sizes=(16,), max_epochs=6, batch_size=32, lr=1e-2, device="cpu",
            numeric_embedding=None)


class Recording(MultiTaskNet):
    """A MultiTaskNet that remembers the index of the rows it was fitted on."""

    def fit(self, X, y, **kwargs):
        self.fitted_rows_ = np.asarray(X.index)
        return super().fit(X, y, **kwargs)


def _table(n=240, seed=0):
    """A binary task with missing labels, a 3-label task and a regression, on a DataFrame
    whose index is not 0..n-1."""
    rng = np.random.RandomState(seed)
    X = pd.DataFrame(rng.normal(size=(n, 6)), columns=[f"x{i}" for i in range(6)],
                     index=np.arange(n) * 10 + 7)
    y = pd.DataFrame({
        "bin": np.where(X["x0"] + 0.5 * rng.normal(size=n) > 0.8, "yes", "no").astype(object),
        "l0": (X["x1"] > 0.5).astype(int), "l1": (X["x2"] + X["x3"] > 1).astype(int),
        "l2": (X["x4"] > -1).astype(int),
        "reg": X["x5"] + 0.1 * rng.normal(size=n),
    }, index=X.index)
    y.loc[y.index[::4], "bin"] = None
    y.loc[y.index[1::5], "l1"] = np.nan
    return X, y


TASKS = [Classification("bin"), MultiLabel(["l0", "l1", "l2"]), Regression("reg")]


def _out_of_fold(ens, X, n_labels=4):
    """Each row's positive-class probabilities averaged over the members that held it out
    (bin, then the three labels)."""
    sums, counts = np.zeros((len(X), n_labels)), np.zeros(len(X))
    for member, rows in zip(ens.estimators_, ens.held_out_rows_):
        proba = member.predict_proba(X.iloc[rows])
        sums[rows] += np.column_stack([proba[0][:, 1], proba[1]])
        counts[rows] += 1
    return sums / counts[:, None], counts


@pytest.fixture(scope="module")
def cross_fitted():
    X, y = _table()
    templates = [Recording(tasks=TASKS, **FAST),
                 Recording(tasks=TASKS, architecture="mmoe", **FAST)]
    ens = MultiTaskEnsemble(templates, n_seeds=2, cv=3, threshold="accuracy",
                            random_state=0).fit(X, y)
    return X, y, ens


def test_members_are_fitted_on_the_other_folds(cross_fitted):
    X, y, ens = cross_fitted
    assert len(ens.estimators_) == 2 * 2 * 3  # templates x seeds x folds
    assert [m.architecture for m in ens.estimators_] == ["shared_bottom"] * 6 + ["mmoe"] * 6
    assert len({m.random_state for m in ens.estimators_}) == 12
    for member, rows in zip(ens.estimators_, ens.held_out_rows_):
        expected = np.setdiff1d(np.arange(len(X)), rows)
        np.testing.assert_array_equal(np.sort(member.fitted_rows_), X.index[expected])
    for start in range(0, 12, 3):  # each template and seed: the folds partition the rows
        folds = np.concatenate(ens.held_out_rows_[start:start + 3])
        np.testing.assert_array_equal(np.sort(folds), np.arange(len(X)))
    # the two seeds shuffle differently; the two templates share each seed's folds
    assert not np.array_equal(ens.held_out_rows_[0], ens.held_out_rows_[3])
    for a, b in zip(ens.held_out_rows_[:6], ens.held_out_rows_[6:]):
        np.testing.assert_array_equal(a, b)


def test_thresholds_maximise_accuracy_on_out_of_fold_probabilities(cross_fitted):
    X, y, ens = cross_fitted
    proba, counts = _out_of_fold(ens, X)
    assert (counts == 4).all()  # 2 templates x 2 seeds held each row out once
    truth = np.column_stack([
        y["bin"].map({"yes": 1.0, "no": 0.0}).to_numpy(dtype=float),
        y[["l0", "l1", "l2"]].to_numpy(dtype=float)])
    expected = [best_threshold(proba[:, j], truth[:, j], "accuracy") for j in range(4)]
    assert set(ens.thresholds_) == {"bin", "l0+l1+l2"}
    assert isinstance(ens.thresholds_["bin"], float)
    assert ens.thresholds_["bin"] == pytest.approx(expected[0], rel=1e-5)
    np.testing.assert_allclose(ens.thresholds_["l0+l1+l2"], expected[1:], rtol=1e-5)
    # missing labels do not count: the labelled rows' accuracy is the best reachable
    for j in range(4):
        labelled = ~np.isnan(truth[:, j])
        chosen = ((proba[labelled, j] >= expected[j]) == (truth[labelled, j] > 0.5)).mean()
        at_half = ((proba[labelled, j] >= 0.5) == (truth[labelled, j] > 0.5)).mean()
        assert chosen >= at_half


def test_predict_and_score_follow_the_thresholds(cross_fitted):
    X, y, ens = cross_fitted
    X_new, y_new = _table(120, seed=1)
    pred = ens.predict(X_new)
    proba = ens.predict_proba(X_new)
    pd.testing.assert_index_equal(pred.index, X_new.index)
    yes = proba[0][:, 1] >= ens.thresholds_["bin"]
    np.testing.assert_array_equal(pred["bin"].to_numpy(), np.where(yes, "yes", "no"))
    labels = (proba[1] >= ens.thresholds_["l0+l1+l2"]).astype(int)
    np.testing.assert_array_equal(pred[["l0", "l1", "l2"]].to_numpy(), labels)
    # the regression is the plain mean of the members
    np.testing.assert_allclose(pred["reg"], np.mean(
        [m.predict(X_new)["reg"] for m in ens.estimators_], axis=0), rtol=1e-5)
    scores = ens.score_tasks(X_new, y_new)
    labelled = y_new["bin"].notna()
    assert scores["bin"] == pytest.approx(
        (pred["bin"][labelled] == y_new["bin"][labelled]).mean())
    assert ens.score(X_new, y_new) == pytest.approx(np.mean(list(scores.values())))


def test_without_threshold_predictions_cut_at_one_half():
    X, y = _table()
    ens = MultiTaskEnsemble([MultiTaskNet(tasks=TASKS, **FAST)], cv=3, random_state=0).fit(X, y)
    assert ens.thresholds_ == {}
    assert len(ens.estimators_) == 3 and all(len(r) == 80 for r in ens.held_out_rows_)
    labels = (ens.predict_proba(X)[1] > 0.5).astype(int)
    np.testing.assert_array_equal(ens.predict(X)[["l0", "l1", "l2"]].to_numpy(), labels)


def test_without_cv_members_see_every_row_and_hold_nothing_out():
    X, y = _table(120)
    ens = MultiTaskEnsemble([Recording(tasks=TASKS, **FAST)], n_seeds=2, random_state=0)
    ens.fit(X, y)
    assert ens.thresholds_ == {}
    for member, rows in zip(ens.estimators_, ens.held_out_rows_):
        assert rows.size == 0
        np.testing.assert_array_equal(member.fitted_rows_, X.index)


def test_a_splitter_gives_the_same_folds_to_every_seed():
    X, y = _table(150)
    ens = MultiTaskEnsemble([MultiTaskNet(tasks=TASKS, **FAST)], n_seeds=2, cv=KFold(3),
                            threshold="f1", random_state=0).fit(X, y)
    blocks = [np.arange(0, 50), np.arange(50, 100), np.arange(100, 150)]
    for rows, block in zip(ens.held_out_rows_, blocks * 2):
        np.testing.assert_array_equal(rows, block)
    proba, counts = _out_of_fold(ens, X)
    assert (counts == 2).all()
    truth = y["l0"].to_numpy(dtype=float)
    assert ens.thresholds_["l0+l1+l2"][0] == pytest.approx(
        best_threshold(proba[:, 1], truth, "f1"), rel=1e-5)


def test_arrays_sparse_x_and_series_targets():
    X, y = _table(150)
    dense = MultiTaskEnsemble([MultiTaskNet(random_state=0, **FAST)], cv=3, threshold="accuracy",
                              random_state=0).fit(X.to_numpy(), y["l0"].to_numpy())
    # an array y: its one task is named "0"
    assert set(dense.thresholds_) == {"0"} and isinstance(dense.thresholds_["0"], float)
    assert dense.predict(X.to_numpy()).shape == (150,)
    kw = dict(FAST, numeric_transform="none", random_state=0)
    csr = MultiTaskEnsemble([MultiTaskNet(**kw)], cv=3, threshold="accuracy", random_state=0)
    csr.fit(sparse.csr_matrix(X.to_numpy()), y["l0"])
    same = MultiTaskEnsemble([MultiTaskNet(**kw)], cv=3, threshold="accuracy", random_state=0)
    same.fit(X.to_numpy(), y["l0"])
    assert csr.thresholds_["l0"] == pytest.approx(same.thresholds_["l0"], abs=1e-6)
    for a, b in zip(csr.held_out_rows_, same.held_out_rows_):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("kwargs, message", [
    (dict(threshold="accuracy"), "set cv"),
    (dict(threshold="f1", cv=3, voting="hard"), "voting='soft'"),
    (dict(cv=500), "cv=500 folds need at least 500 rows"),
])
def test_bad_settings_are_refused_with_a_clear_message(kwargs, message):
    X, y = _table(60)
    ens = MultiTaskEnsemble([MultiTaskNet(tasks=TASKS, **FAST)], **kwargs)
    with pytest.raises(ValueError, match=message.replace("(", r"\(")):
        ens.fit(X, y)


@pytest.mark.parametrize("cv", [1, 0, "three"])
def test_invalid_cv_is_refused_by_parameter_validation(cv):
    X, y = _table(60)
    with pytest.raises(ValueError, match="cv"):
        MultiTaskEnsemble([MultiTaskNet(**FAST)], cv=cv).fit(X, y["reg"])


def test_clone_grid_search_and_pickle_keep_the_thresholds():
    X, y = _table(150)
    ens = MultiTaskEnsemble([MultiTaskNet(tasks=TASKS, **FAST)], cv=2, threshold="accuracy",
                            random_state=0)
    twin = clone(ens)
    assert twin.get_params()["cv"] == 2 and twin.get_params()["threshold"] == "accuracy"
    search = GridSearchCV(ens, {"threshold": [None, "accuracy"]}, cv=2, error_score="raise")
    search.fit(X, y)
    assert len(search.cv_results_["params"]) == 2
    assert np.isfinite(search.cv_results_["mean_test_score"]).all()
    fitted = ens.fit(X, y)
    restored = pickle.loads(pickle.dumps(fitted))
    pd.testing.assert_frame_equal(restored.predict(X), fitted.predict(X))
    assert restored.thresholds_["bin"] == fitted.thresholds_["bin"]


@pytest.mark.parametrize("architecture", sorted(ARCHITECTURES))
def test_every_architecture_cross_fits_with_missing_labels(architecture):
    X, y = _table(120, seed=2)
    ens = MultiTaskEnsemble([MultiTaskNet(tasks=TASKS, architecture=architecture, **FAST)],
                            cv=2, threshold="accuracy", random_state=0).fit(X, y)
    proba, counts = _out_of_fold(ens, X)
    assert (counts == 1).all()
    truth = y[["l0", "l1", "l2"]].to_numpy(dtype=float)
    np.testing.assert_allclose(ens.thresholds_["l0+l1+l2"], [
        best_threshold(proba[:, 1 + j], truth[:, j], "accuracy") for j in range(3)], rtol=1e-5)
    np.testing.assert_allclose(ens.predict(X)["reg"], np.mean(
        [m.predict(X)["reg"] for m in ens.estimators_], axis=0), rtol=1e-5)


@settings(max_examples=12, deadline=None)
@given(n=st.integers(12, 40), cv=st.integers(2, 4), n_seeds=st.integers(1, 2),
       seed=st.integers(0, 2**16))
def test_folds_partition_the_rows_for_every_seed(n, cv, n_seeds, seed):
    rng = np.random.RandomState(seed)
    X = rng.normal(size=(n, 3))
    # a regression target: every fold can be fitted (with class labels, a fold without
    # one of the classes is refused by its member's fit, which would end the example)
    y = rng.normal(size=n)
    template = MultiTaskNet(hidden_layer_sizes=(4,), max_epochs=1, device="cpu",
                            numeric_embedding=None, early_stopping=False)
    ens = MultiTaskEnsemble([template], n_seeds=n_seeds, cv=cv, random_state=seed).fit(X, y)
    assert len(ens.estimators_) == n_seeds * cv
    for s in range(n_seeds):
        folds = ens.held_out_rows_[s * cv:(s + 1) * cv]
        np.testing.assert_array_equal(np.sort(np.concatenate(folds)), np.arange(n))
        assert max(map(len, folds)) - min(map(len, folds)) <= 1


def test_out_of_fold_thresholds_use_the_members_temperature_scaled_probabilities():
    X, y = _table(200, seed=3)
    template = MultiTaskNet(tasks=TASKS, temperature_scaling=True, **FAST)
    ens = MultiTaskEnsemble([template], cv=2, threshold="f1", random_state=0).fit(X, y)
    assert all(m.temperatures_ for m in ens.estimators_)
    proba, _ = _out_of_fold(ens, X)  # predict_proba divides by each member's temperature
    truth = y["bin"].map({"yes": 1.0, "no": 0.0}).to_numpy(dtype=float)
    assert ens.thresholds_["bin"] == pytest.approx(best_threshold(proba[:, 0], truth, "f1"),
                                                   rel=1e-5)


def test_a_fold_without_one_of_the_classes_gets_every_class():
    """A cross-fitted member whose rows lack one of the classes (the folds of a splitter
    without shuffling) is given all the rows' classes, in the order a single model has
    them (a categorical column's category order), and learns the class it saw."""
    X = np.random.RandomState(0).normal(size=(12, 3))
    labels = ["a"] * 6 + ["a", "b"] * 3  # the second fold's training rows are all "a"
    y = pd.Series(pd.Categorical(labels, categories=["b", "a"]), name="t")
    template = MultiTaskNet(hidden_layer_sizes=(4,), max_epochs=30, lr=0.05, device="cpu",
                            numeric_embedding=None, early_stopping=False)
    ens = MultiTaskEnsemble([template], cv=KFold(2)).fit(X, y)
    single = clone(template).fit(X, y)
    assert single.tasks_[0].classes_.tolist() == ["b", "a"]
    for member in ens.estimators_:
        assert member.tasks_[0].classes_.tolist() == ["b", "a"]
    only_a, rows = ens.estimators_[1], ens.held_out_rows_[1]
    np.testing.assert_array_equal(rows, np.arange(6, 12))
    assert (only_a.predict_proba(X)[:, 0] < 0.5).all()  # p("b"): it saw "a" only
    proba = ens.predict_proba(X)
    assert proba.shape == (12, 2)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-6)
    assert ens.predict(X).dtype == y.dtype


def test_a_fold_without_labels_of_a_task_is_refused_before_any_member_trains():
    X = pd.DataFrame(np.random.RandomState(0).normal(size=(12, 3)))
    y = pd.DataFrame({"r": np.arange(12.0), "sparse": [np.nan] * 6 + [1.0, 2.0] * 3})
    template = Recording(hidden_layer_sizes=(4,), max_epochs=1, device="cpu")
    ens = MultiTaskEnsemble([template], cv=KFold(2))
    with pytest.raises(ValueError, match=r"cv=KFold.*fold 1 hold no label of task 'sparse' "
                                         r"\(6 labelled row\(s\) in all\)"):
        ens.fit(X, y)
    assert not hasattr(ens, "estimators_")

