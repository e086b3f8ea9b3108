"""skmtl.task_view: one task of a fitted model as a single-output scikit-learn estimator,
for the inspection, display and calibration tools that take one output."""

from __future__ import annotations

import pickle

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone, is_classifier, is_regressor
from sklearn.calibration import CalibratedClassifierCV
from sklearn.exceptions import NotFittedError
from sklearn.frozen import FrozenEstimator
from sklearn.inspection import partial_dependence, permutation_importance
from sklearn.metrics import get_scorer, roc_auc_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer
from sklearn.utils.validation import check_is_fitted

from skmtl import (
    MultiTaskClassifier,
    MultiTaskEnsemble,
    MultiTaskNet,
    TaskClassifierView,
    TaskGrouping,
    TaskRegressorView,
    task_view,
)
from skmtl.tasks import MultiLabel

FAST = {"max_epochs": 4, "hidden_layer_sizes": (16,), "random_state": 0}


@pytest.fixture(scope="module")
def table():
    rng = np.random.default_rng(0)
    n = 160
    X = pd.DataFrame({"a": rng.normal(size=n), "b": rng.normal(size=n),
                      "c": rng.choice(["u", "v", "w"], n)},
                     index=rng.permutation(np.arange(500, 500 + n)))
    score = X["a"] - X["b"] + (X["c"] == "u")
    y = pd.DataFrame({"amount": 2 * X["a"] + rng.normal(size=n) * 0.1,
                      "flag": np.where(score > 0, "yes", "no"),
                      "grade": np.array(["lo", "mid", "hi"])[np.digitize(score, [-0.5, 0.8])]},
                     index=X.index)
    y.loc[y.index[::4], "flag"] = None  # a quarter of the flags missing
    return X, y


@pytest.fixture(scope="module")
def model(table):
    X, y = table
    return MultiTaskNet(**FAST).fit(X, y)


def test_each_view_is_its_tasks_part_of_the_model(table, model):
    X, y = table
    amount, flag, grade = (task_view(model, t) for t in ("amount", "flag", "grade"))
    assert isinstance(amount, TaskRegressorView) and is_regressor(amount)
    assert isinstance(flag, TaskClassifierView) and is_classifier(flag)
    pred, proba = model.predict(X), model.predict_proba_frame(X)
    np.testing.assert_array_equal(amount.predict(X), pred["amount"].to_numpy())
    np.testing.assert_array_equal(flag.predict(X), pred["flag"].to_numpy())
    assert list(flag.classes_) == ["no", "yes"] and list(grade.classes_) == ["hi", "lo", "mid"]
    np.testing.assert_allclose(flag.predict_proba(X), proba["flag"].to_numpy())
    np.testing.assert_allclose(grade.predict_proba(X), proba["grade"].to_numpy())
    assert flag.n_features_in_ == 3 and list(flag.feature_names_in_) == ["a", "b", "c"]
    check_is_fitted(flag)


def test_score_skips_missing_labels_as_score_tasks_does(table, model):
    X, y = table
    scores = model.score_tasks(X, y)
    weights = np.linspace(0.1, 2.0, len(X))
    weighted = model.score_tasks(X, y, sample_weight=weights)
    for task in ("amount", "flag", "grade"):
        view = task_view(model, task)
        assert view.score(X, y[task]) == pytest.approx(scores[task])
        assert view.score(X, y[task], sample_weight=weights) == pytest.approx(weighted[task])
        assert view.score(X, y[task].to_numpy()) == pytest.approx(scores[task])
    # permutation_importance scores with it, missing flags included
    result = permutation_importance(task_view(model, "flag"), X, y["flag"], n_repeats=2,
                                    random_state=0)
    assert result.importances_mean.shape == (3,) and np.isfinite(result.importances_mean).all()


def test_partial_dependence_averages_the_tasks_predictions(table, model):
    X, _ = table
    got = partial_dependence(task_view(model, "amount"), X, ["a"], grid_resolution=3)
    grid = got["grid_values"][0]
    expected = [model.predict(X.assign(a=v))["amount"].mean() for v in grid]
    np.testing.assert_allclose(got["average"][0], expected, rtol=1e-5)
    assert expected[-1] > expected[0]  # amount rises with a
    # a binary classification: the positive class's probability
    got = partial_dependence(task_view(model, "flag"), X, ["a"], grid_resolution=3)
    positive = [model.predict_proba_frame(X.assign(a=v))["flag"]["yes"].mean()
                for v in got["grid_values"][0]]
    np.testing.assert_allclose(got["average"][0], positive, rtol=1e-5)
    # a categorical column of X
    got = partial_dependence(task_view(model, "amount"), X, ["c"], categorical_features=["c"])
    assert list(got["grid_values"][0]) == ["u", "v", "w"]


def test_scorers_and_calibration_read_the_tasks_probabilities(table, model):
    X, y = table
    flag = task_view(model, "flag")
    known = y["flag"].notna()
    auc = get_scorer("roc_auc")(flag, X[known], y["flag"][known])
    assert auc == pytest.approx(roc_auc_score(y["flag"][known] == "yes",
                                              flag.predict_proba(X[known])[:, 1]))
    calibrated = CalibratedClassifierCV(FrozenEstimator(flag)).fit(X[known], y["flag"][known])
    proba = calibrated.predict_proba(X)
    assert proba.shape == (len(X), 2) and np.allclose(proba.sum(axis=1), 1)


@pytest.mark.parametrize("kind", ["ensemble", "grouping", "pipeline", "array_y", "one_task",
                                  "thresholds"])
def test_views_of_every_kind_of_model_match_its_predictions(table, kind):
    X, y = table
    if kind == "ensemble":
        est = MultiTaskEnsemble(MultiTaskNet(**FAST), n_seeds=2, random_state=0).fit(X, y)
    elif kind == "grouping":
        est = TaskGrouping(MultiTaskNet(**FAST), n_groups=2, affinity_epochs=2,
                           random_state=0).fit(X, y)
    elif kind == "pipeline":
        est = make_pipeline(FunctionTransformer(feature_names_out="one-to-one"),
                            MultiTaskNet(**FAST)).fit(X, y)
    elif kind == "array_y":  # y as an array: tasks named "0", "1", columns 0, 1
        X = X[["a", "b"]].to_numpy()
        y = np.column_stack([y["amount"], (y["flag"] == "yes").astype(float)])
        est = MultiTaskNet(**FAST).fit(X, y)
    elif kind == "one_task":  # predict_proba gives a single array
        y = y["flag"].fillna("no")
        est = MultiTaskClassifier(**FAST).fit(X, y)
    else:  # decisions at thresholds chosen on validation rows
        y = y.assign(flag=y["flag"].fillna("no"))
        est = MultiTaskNet(threshold="f1", **FAST).fit(X, y)
    pred, tasks = est.predict(X), (est[-1] if kind == "pipeline" else est).tasks_
    for i, task in enumerate(tasks):
        view = task_view(est, task.name_)
        column = (pred[:, i] if isinstance(pred, np.ndarray) and pred.ndim == 2 else
                  np.asarray(pred if not isinstance(pred, pd.DataFrame) else pred[task.name_]))
        np.testing.assert_array_equal(view.predict(X), column)
        if task.is_classification:
            proba = est.predict_proba(X)
            classes = [t for t in tasks if t.is_classification]
            expected = proba if len(tasks) == 1 else proba[classes.index(task)]
            np.testing.assert_allclose(view.predict_proba(X), expected)
    if kind == "array_y":  # a task is also found by its column
        assert task_view(est, 1).task == "1"


def test_a_view_reads_the_model_as_it_is_now(table):
    X, y = table
    est = MultiTaskNet(**FAST).fit(X, y)
    view = task_view(est, "amount")
    before = view.predict(X)
    est.partial_fit(X, y)
    after = view.predict(X)
    assert not np.allclose(before, after)
    np.testing.assert_array_equal(after, est.predict(X)["amount"].to_numpy())
    again = pickle.loads(pickle.dumps(view))
    np.testing.assert_allclose(again.predict(X), after)


def test_refusals_say_what_to_do(table, model):
    X, y = table
    with pytest.raises(ValueError, match=r"no task 'price'; its tasks are \['amount', 'flag', "
                                         r"'grade'\]"):
        task_view(model, "price")
    with pytest.raises(TypeError, match=r"is not fitted itself: fit the model .*"
                                        r"FrozenEstimator\(view\)"):
        task_view(model, "amount").fit(X, y["amount"])
    with pytest.raises(NotFittedError):
        task_view(MultiTaskNet(), "amount")
    with pytest.raises(TypeError, match="has no tasks_"):
        task_view(FunctionTransformer().fit(X), "amount")
    unfitted = clone(task_view(model, "amount"))
    assert not unfitted.__sklearn_is_fitted__()
    with pytest.raises(NotFittedError):
        check_is_fitted(unfitted)
    labels = pd.DataFrame({"tag1": y["flag"].fillna("no") == "yes", "tag2": X["a"] > 0})
    multi = MultiTaskNet(tasks=[MultiLabel(["tag1", "tag2"], name="tags")], **FAST
                         ).fit(X, labels)
    with pytest.raises(ValueError, match=r"task 'tags' is multilabel: several outputs.*"
                                         r"predict_proba_frame\(X\)\['tags'\]"):
        task_view(multi, "tags")


def test_the_guides_example_plots_and_scores_one_task():
    pytest.importorskip("matplotlib")
    pytest.importorskip("palmerpenguins")
    import re
    from pathlib import Path

    import matplotlib

    matplotlib.use("Agg")
    from palmerpenguins import load_penguins
    from sklearn.model_selection import train_test_split

    guide = (Path(__file__).resolve().parents[1] / "docs" / "guide.md").read_text()
    code = next(block for block in re.findall(r"```python\n(.*?)```", guide, re.S)
                if "task_view(model" in block)
    penguins = load_penguins().dropna(subset=["body_mass_g"])
    X = penguins[["island", "bill_length_mm", "bill_depth_mm", "flipper_length_mm"]]
    y = penguins[["species", "sex", "body_mass_g"]]
    X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)
    namespace = {"MultiTaskNet": MultiTaskNet, "X_train": X_train, "y_train": y_train,
                 "X_test": X_test, "y_test": y_test}
    exec(compile(code, "guide.md", "exec"), namespace)
    model, labelled = namespace["model"], y_test["sex"].notna()
    proba = model.predict_proba_frame(X_test[labelled])["sex"]["male"]
    assert namespace["roc"].roc_auc == pytest.approx(
        roc_auc_score(y_test["sex"][labelled] == "male", proba))
    assert namespace["roc"].roc_auc > 0.8
    flipper, island = namespace["dependence"].pd_results
    assert list(island["grid_values"][0]) == ["Biscoe", "Dream", "Torgersen"]
    heavier = flipper["average"][0]
    assert heavier[-1] > heavier[0]  # longer flippers, heavier penguins
    assert namespace["importance"].importances_mean.shape == (4,)
