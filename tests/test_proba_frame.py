"""``predict_proba_frame``: class probabilities labelled by task and class, rows by X's index.

``predict_proba`` returns a list of bare arrays in task order (as scikit-learn's
MultiOutputClassifier does); users who look a task up by name, or subtract ``y_test``,
want the probabilities labelled. These tests check that the frame holds exactly
``predict_proba``'s numbers, under the right (task, class) columns, on X's rows.
"""

from __future__ import annotations

import pickle

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skmtl import (
    MultiTaskClassifier,
    MultiTaskEnsemble,
    MultiTaskNet,
    MultiTaskRegressor,
    TaskGrouping,
)
from skmtl.tasks import Classification, MultiLabel, Regression

FAST = dict(hidden_layer_sizes=(16,), max_epochs=4, batch_size=64, lr=1e-2, random_state=0,
            device="cpu", early_stopping=False)
ARCHITECTURES = ["shared_bottom", "separate", "mmoe", "cgc", "ple", "cross_stitch", "tabm"]


pytestmark = pytest.mark.filterwarnings("ignore")  # short fits warn that they stopped early


def _table(n=160, seed=0):
    """Mixed tasks on a raw DataFrame with a shuffled, non-default index: a 3-class task
    with string labels, a bool task with missing labels, a 2-label task and a regression."""
    rng = np.random.RandomState(seed)
    index = pd.Index(rng.permutation(n) * 3 + 100, name="row_id")
    X = pd.DataFrame({"a": rng.normal(size=n), "b": rng.normal(size=n),
                      "colour": rng.choice(["red", "green", "blue"], n)}, index=index)
    y = pd.DataFrame({
        "kind": np.where(X["a"] > 0.5, "high", np.where(X["a"] < -0.5, "low", "mid")),
        "flag": pd.Series(X["b"] > 0, index=index, dtype=object),
        "l0": (X["colour"] == "red").astype(int), "l1": (X["a"] + X["b"] > 0).astype(int),
        "value": 2 * X["a"] + rng.normal(0, 0.1, n),
    }, index=index)
    y.loc[y.index[::3], "flag"] = None
    return X, y


TASKS = [Classification("kind"), Classification("flag"), MultiLabel(["l0", "l1"], name="labels"),
         Regression("value")]


def _check_frame(model, X):
    """The frame holds predict_proba's numbers under (task, class) columns, X's rows."""
    frame = model.predict_proba_frame(X)
    probas = model.predict_proba(X)
    classifiers = [task for task in model.tasks_ if task.is_classification]
    if len(model.tasks_) == 1:
        probas = [probas]
    expected_columns = [(task.name_, c) for task in classifiers for c in task.classes_]
    assert frame.columns.tolist() == expected_columns
    assert frame.columns.names == ["task", "class"]
    expected_index = X.index if isinstance(X, pd.DataFrame) else pd.RangeIndex(len(X))
    assert frame.index.equals(expected_index)
    for task, proba in zip(classifiers, probas):
        np.testing.assert_array_equal(frame[task.name_].to_numpy(), proba)
        assert frame[task.name_].columns.tolist() == list(task.classes_)
    return frame


@pytest.mark.parametrize("architecture", ARCHITECTURES)
def test_frame_holds_predict_proba_for_each_architecture(architecture):
    X, y = _table()
    model = MultiTaskNet(tasks=TASKS, architecture=architecture, **FAST).fit(X, y)
    frame = _check_frame(model, X.iloc[::-1])
    # the task with missing labels and the regression: labels from classes_, no regression
    assert [c for t, c in frame.columns if t == "flag"] == [False, True]
    assert [c for t, c in frame.columns if t == "labels"] == ["l0", "l1"]
    assert "value" not in frame.columns.get_level_values("task")
    # per-class probabilities sum to one; multi-label columns are per-label probabilities
    np.testing.assert_allclose(frame["kind"].sum(axis=1), 1.0, rtol=1e-5)
    assert ((frame["labels"] >= 0) & (frame["labels"] <= 1)).all().all()


def test_rows_pair_with_y_by_index_after_shuffling():
    X, y = _table()
    model = MultiTaskNet(tasks=TASKS, **FAST).fit(X, y)
    shuffled = X.sample(frac=1, random_state=1)
    frame = model.predict_proba_frame(shuffled)
    # the user's habit: subtract a column of y; pandas aligns on the index
    residual = frame["labels"]["l0"] - y["l0"]
    for label in shuffled.index[:10]:
        alone = model.predict_proba(X.loc[[label]])[2][0, 0]
        assert residual.loc[label] == pytest.approx(alone - y.loc[label, "l0"], abs=1e-6)


def test_arrays_get_a_range_index():
    X, y = _table()
    model = MultiTaskNet(**FAST).fit(X[["a", "b"]].to_numpy(), y[["kind", "value"]].to_numpy())
    frame = _check_frame(model, X[["a", "b"]].to_numpy())
    assert frame.columns.get_level_values("task").unique().tolist() == [model.tasks_[0].name_]


def test_single_task_classifier():
    X, y = _table()
    model = MultiTaskClassifier(**FAST).fit(X, y["kind"])
    frame = _check_frame(model, X)
    assert frame.columns.tolist() == [("kind", c) for c in ["high", "low", "mid"]]


def test_temperature_scaling_is_in_the_frame():
    X, y = _table()
    model = MultiTaskNet(tasks=TASKS, temperature_scaling=True, **FAST).fit(X, y)
    assert any(t != 1.0 for t in model.temperatures_.values())  # really scaled
    _check_frame(model, X)


def test_regression_only_has_no_frame_and_says_why():
    X, y = _table()
    model = MultiTaskRegressor(**FAST).fit(X, y[["value"]])
    assert not hasattr(model, "predict_proba_frame")
    with pytest.raises(AttributeError, match="only regression tasks.*'value'"):
        model.predict_proba_frame(X)


def test_pipeline_clone_and_pickle():
    X, y = _table()
    pipe = make_pipeline(StandardScaler().set_output(transform="pandas"),
                         MultiTaskNet(tasks=TASKS, **FAST))
    pipe.fit(X[["a", "b"]], y)
    frame = pipe[-1].predict_proba_frame(pipe[0].transform(X[["a", "b"]]))
    assert frame.index.equals(X.index)
    model = MultiTaskNet(tasks=TASKS, **FAST).fit(X, y)
    again = pickle.loads(pickle.dumps(model))
    pd.testing.assert_frame_equal(again.predict_proba_frame(X), model.predict_proba_frame(X))
    refit = clone(model).fit(X, y)
    pd.testing.assert_frame_equal(refit.predict_proba_frame(X), model.predict_proba_frame(X))


@pytest.mark.parametrize("cv", [None, 3])
def test_ensemble_frame(cv):
    X, y = _table()
    ens = MultiTaskEnsemble([MultiTaskNet(tasks=TASKS, **FAST)], n_seeds=2, cv=cv,
                            random_state=0).fit(X, y)
    _check_frame(ens, X.iloc[::2])


def test_task_grouping_frame():
    X, y = _table()
    grouping = TaskGrouping(MultiTaskNet(**FAST), n_groups=2, affinity_epochs=2,
                            random_state=0).fit(X, y[["kind", "flag", "value"]])
    frame = _check_frame(grouping, X)
    assert frame.columns.get_level_values("task").unique().tolist() == ["kind", "flag"]
