"""Out-of-fold predictions (``skmtl.model_selection.cross_val_predict``).

scikit-learn's ``cross_val_predict(method="predict_proba")`` label-encodes ``y`` before
fitting, so a missing label becomes a class; skmtl's keeps ``y`` as it is and returns what
the estimator's own method returns, rows in X's order with X's index.
"""

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.model_selection import GroupKFold, KFold, ShuffleSplit
from sklearn.model_selection import cross_val_predict as sklearn_cross_val_predict
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skmtl import (
    MultiTaskClassifier,
    MultiTaskEnsemble,
    MultiTaskNet,
    MultiTaskRegressor,
    TaskGrouping,
)
from skmtl.model_selection import cross_val_predict
from skmtl.tasks import MultiLabel

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

FAST = dict(hidden_layer_sizes=(16,), max_epochs=3, random_state=0)


def _table(n: int = 90, seed: int = 0):
    """A shuffled-index frame with a regression, a 3-class task (missing labels) and a
    binary task."""
    rng = np.random.default_rng(seed)
    X = pd.DataFrame({"a": rng.normal(size=n), "b": rng.normal(size=n),
                      "kind": rng.choice(["u", "v"], size=n)},
                     index=rng.permutation(np.arange(1000, 1000 + n)))
    y = pd.DataFrame({"r": X["a"] * 2 + X["b"],
                      "c3": np.select([X["a"] < -0.4, X["a"] < 0.4], ["lo", "mid"], "hi"),
                      "bin": np.where(X["b"] > 0, "yes", "no")}, index=X.index)
    y.loc[y.index[::4], "c3"] = None
    return X, y


def _by_hand(estimator, X, y, splits, method="predict", **fit_params):
    """Each fold fitted and predicted with y as it is, joined back in X's row order."""
    parts = []
    for train, test in splits:
        params = {k: v[train] for k, v in fit_params.items()}
        model = clone(estimator).fit(X.iloc[train], y.iloc[train], **params)
        parts.append(getattr(model, method)(X.iloc[test]))
    return pd.concat(parts).loc[X.index]


def test_predictions_are_each_folds_with_missing_labels_kept_missing():
    X, y = _table()
    model = MultiTaskNet(**FAST)
    pred = cross_val_predict(model, X, y, cv=3)
    assert pred.index.equals(X.index) and list(pred.columns) == ["r", "c3", "bin"]
    expected = _by_hand(model, X, y, KFold(3).split(X))
    pd.testing.assert_frame_equal(pred, expected)
    # a missing label is no class: every row gets one of the labelled classes
    assert set(pred["c3"]) <= {"lo", "mid", "hi"}
    frame = cross_val_predict(model, X, y, cv=3, method="predict_proba_frame")
    assert list(frame["c3"].columns) == ["hi", "lo", "mid"]
    pd.testing.assert_frame_equal(frame, _by_hand(model, X, y, KFold(3).split(X),
                                                  "predict_proba_frame"))
    probas = cross_val_predict(model, X, y, cv=3, method="predict_proba")
    assert [p.shape for p in probas] == [(90, 3), (90, 2)]
    np.testing.assert_allclose(probas[0], frame["c3"].to_numpy())
    np.testing.assert_allclose(probas[0].sum(axis=1), 1.0, rtol=1e-5)


def test_sklearns_cross_val_predict_makes_a_missing_label_a_class():
    """Why the function exists: scikit-learn encodes y first (NaN becomes a class)."""
    X, y = _table()
    codes = pd.DataFrame({"c3": y["c3"].map({"lo": 0.0, "mid": 1.0, "hi": 2.0}),
                          "bin": (y["bin"] == "yes").astype(float)})
    model = MultiTaskClassifier(**FAST)
    theirs = sklearn_cross_val_predict(model, X[["a", "b"]], codes, cv=KFold(3),
                                       method="predict_proba")
    ours = cross_val_predict(model, X[["a", "b"]], codes, cv=3, method="predict_proba")
    assert theirs[0].shape == (90, 4)  # lo, mid, hi and "missing"
    assert ours[0].shape == (90, 3)


def test_sklearns_cross_val_predict_on_a_mixed_net_says_what_to_use():
    X, y = _table(n=40)
    with pytest.raises(AttributeError, match=r"skmtl\.model_selection\.cross_val_predict"):
        sklearn_cross_val_predict(MultiTaskNet(**FAST), X, y, cv=2, method="predict_proba")
    assert not hasattr(MultiTaskNet(**FAST).fit(X, y), "classes_")


def test_groups_make_folds_of_whole_groups_and_reach_each_fit():
    X, y = _table(n=240)  # 120 training rows a fold: validation rows, early stopping
    groups = np.repeat(np.arange(60), 4)
    model = MultiTaskNet(**FAST)
    pred = cross_val_predict(model, X, y, groups=groups, cv=2)
    expected = _by_hand(model, X, y, GroupKFold(2).split(X, y, groups), groups=groups)
    pd.testing.assert_frame_equal(pred, expected)
    # without the groups in each fit, its validation rows would differ
    plain = _by_hand(model, X, y, GroupKFold(2).split(X, y, groups))
    assert not pred["r"].equals(plain["r"])


def _rare(y):
    """y with a fourth class of c3 on rows 0-5 only: fold 0 of KFold(3) of 90 rows."""
    y = y.copy()
    y["c3"] = np.where(np.arange(90) < 6, "rare", y["c3"].fillna("lo"))
    return y


@pytest.mark.parametrize("pipeline", [False, True])
def test_a_class_missing_from_a_folds_training_rows_is_declared_to_that_fold(pipeline, recwarn):
    # as partial_fit(classes=...) and the members of a cross-fitted ensemble: the fold's
    # model has an output for it, trained towards 0 on its rows, not a 0 filled in after
    X, y = _table()
    y = _rare(y)
    model = MultiTaskNet(**FAST)
    if pipeline:
        X = X[["a", "b"]]
        model = make_pipeline(StandardScaler().set_output(transform="pandas"), model)
    frame = cross_val_predict(model, X, y, cv=3, method="predict_proba_frame")
    assert not [w for w in recwarn if "lack the classes" in str(w.message)]
    assert list(frame["c3"].columns) == ["hi", "lo", "mid", "rare"]
    rare = frame["c3"]["rare"]
    assert (rare.iloc[:30] > 0).all() and rare.iloc[:30].max() < 0.5  # fold 0
    np.testing.assert_allclose(frame["c3"].sum(axis=1), 1.0, rtol=1e-5)
    # fold 0's model, by hand: the classes of all of y declared
    first = clone(model)
    train = np.arange(30, 90)
    if pipeline:
        first[:-1].fit(X.iloc[train], y.iloc[train])
        first[-1]._fit(first[:-1].transform(X.iloc[train]), y.iloc[train], None,
                       classes={"c3": ["hi", "lo", "mid", "rare"], "bin": ["no", "yes"]})
    else:
        first._fit(X.iloc[train], y.iloc[train], None,
                   classes={"c3": ["hi", "lo", "mid", "rare"], "bin": ["no", "yes"]})
    np.testing.assert_allclose(frame["c3"].iloc[:30].to_numpy(),
                               first.predict_proba(X.iloc[:30])[0], rtol=1e-6)
    # predict too: a fold whose labelled rows hold one class of a task still fits
    few = y.assign(bin=np.where(np.arange(90) < 3, "yes", "no"))  # "yes" in fold 0 only
    pred = cross_val_predict(model, X, few, cv=3)
    assert set(pred["bin"]) <= {"yes", "no"}


def test_a_fold_without_labels_of_a_task_is_refused_before_training_naming_it():
    X, y = _table()
    y = y.copy()
    y["bin"] = np.where(np.arange(90) < 30, y["bin"], None)  # labelled in fold 0 only
    with pytest.raises(ValueError, match=r"cv=3: the training rows of fold 0 hold no label of "
                       r"task 'bin' \(30 labelled row\(s\) in all\)"):
        cross_val_predict(MultiTaskNet(**FAST), X, y, cv=3)


def test_polars_y_gives_polars_predictions_in_x_order():
    pl = pytest.importorskip("polars")
    X, y = _table()
    cv = KFold(3, shuffle=True, random_state=0)
    reference = cross_val_predict(MultiTaskNet(**FAST), X, y, cv=cv)
    X_pl = pl.from_pandas(X.reset_index(drop=True))
    pred = cross_val_predict(MultiTaskNet(**FAST), X_pl, pl.from_pandas(y.reset_index(drop=True)),
                             cv=cv)
    assert isinstance(pred, pl.DataFrame) and pred.columns == list(y.columns)
    np.testing.assert_allclose(pred["r"].to_numpy(), reference["r"].to_numpy(), rtol=1e-6)
    assert pred["c3"].to_list() == reference["c3"].tolist()
    series = cross_val_predict(MultiTaskNet(**FAST), X_pl, pl.Series("r", y["r"].to_numpy()),
                               cv=cv)
    assert isinstance(series, pl.Series) and series.name == "r"
    np.testing.assert_allclose(series.to_numpy(), cross_val_predict(
        MultiTaskNet(**FAST), X, y["r"], cv=cv).to_numpy(), rtol=1e-6)


@pytest.mark.parametrize("kind", ["seeds", "cross-fitted", "grouping", "pipeline"])
def test_an_ensembles_or_groupings_fold_that_lacks_a_class_has_it_declared(kind, recwarn):
    # as a plain estimator's fold: every member / group estimator of fold 0 has an output
    # for the class its rows lack, not a 0 filled in afterwards
    X, y = _table()
    y = _rare(y)
    model = {"seeds": MultiTaskEnsemble(MultiTaskNet(**FAST), n_seeds=2, random_state=0),
             "cross-fitted": MultiTaskEnsemble(MultiTaskNet(**FAST), cv=2, random_state=0),
             "grouping": TaskGrouping(MultiTaskNet(**FAST), n_groups=2, random_state=0),
             "pipeline": MultiTaskEnsemble(MultiTaskNet(**FAST), n_seeds=2, random_state=0),
             }[kind]
    if kind == "pipeline":  # a Pipeline ending in an ensemble: its steps, then the ensemble
        X = X[["a", "b"]]
        scaler = StandardScaler().set_output(transform="pandas")
        frame = cross_val_predict(make_pipeline(scaler, model), X, y, cv=3,
                                  method="predict_proba_frame")
        X = clone(scaler).fit(X.iloc[30:]).transform(X)  # fold 0's steps, for the check below
    else:
        frame = cross_val_predict(model, X, y, cv=3, method="predict_proba_frame")
    assert not [w for w in recwarn if "lack the classes" in str(w.message)]
    assert list(frame["c3"].columns) == ["hi", "lo", "mid", "rare"]
    rare = frame["c3"]["rare"]
    assert (rare.iloc[:30] > 0).all() and rare.iloc[:30].max() < 0.5  # fold 0
    np.testing.assert_allclose(frame["c3"].sum(axis=1), 1.0, rtol=1e-5)
    # fold 0's model, by hand: the classes of all of y declared to it
    first = clone(model)._fit_with_classes(
        X.iloc[30:], y.iloc[30:], {"c3": ["hi", "lo", "mid", "rare"], "bin": ["no", "yes"]})
    c3 = [task for est in first.estimators_ for task in est.tasks_ if task.name_ == "c3"]
    assert c3 and all(list(task.classes_) == ["hi", "lo", "mid", "rare"] for task in c3)
    np.testing.assert_allclose(frame["c3"].iloc[:30].to_numpy(),
                               first.predict_proba_frame(X.iloc[:30])["c3"].to_numpy(),
                               rtol=1e-5)


def test_a_categorical_task_keeps_its_category_order_when_a_fold_lacks_a_class():
    # the classes of a model fitted on all of y: category order, not sorted, whether the
    # folds' models declare them (a skmtl estimator) or the folds' classes are joined
    X, y = _table()
    y = _rare(y)
    y["c3"] = pd.Categorical(y["c3"], categories=["rare", "mid", "lo", "hi"])
    whole = MultiTaskNet(**FAST).fit(X, y)
    assert list(whole.tasks_[1].classes_) == ["rare", "mid", "lo", "hi"]
    for model in (MultiTaskNet(**FAST),
                  MultiTaskEnsemble(MultiTaskNet(**FAST), n_seeds=2, random_state=0)):
        frame = cross_val_predict(model, X, y, cv=3, method="predict_proba_frame")
        assert list(frame["c3"].columns) == ["rare", "mid", "lo", "hi"], model
        probas = cross_val_predict(model, X, y, cv=3, method="predict_proba")
        np.testing.assert_array_equal(probas[0], frame["c3"].to_numpy())  # c3, then bin


def test_arrays_a_pipeline_and_sample_weight():
    X, y = _table()
    Xa, ya = X[["a", "b"]].to_numpy(), y["r"].to_numpy()
    pred = cross_val_predict(MultiTaskRegressor(**FAST), Xa, ya, cv=3)
    assert isinstance(pred, np.ndarray) and pred.shape == (90,)
    np.testing.assert_allclose(
        pred, np.concatenate([clone(MultiTaskRegressor(**FAST)).fit(Xa[tr], ya[tr]).predict(Xa[te])
                              for tr, te in KFold(3).split(Xa)]))
    weights = np.where(np.arange(90) % 3 == 0, 0.0, 1.0)
    pipe = make_pipeline(StandardScaler().set_output(transform="pandas"), MultiTaskNet(**FAST))
    pred = cross_val_predict(pipe, X[["a", "b"]], y, cv=3, sample_weight=weights)
    expected = _by_hand(pipe, X[["a", "b"]], y, KFold(3).split(X),
                        multitasknet__sample_weight=weights)
    pd.testing.assert_frame_equal(pred, expected)
    unweighted = cross_val_predict(pipe, X[["a", "b"]], y, cv=3)
    assert not pred["r"].equals(unweighted["r"])


def test_ensembles_task_groupings_and_multilabel_tasks():
    X, y = _table(n=60)
    ens = MultiTaskEnsemble([MultiTaskNet(**FAST)], n_seeds=2, random_state=0)
    frame = cross_val_predict(ens, X, y, cv=2, method="predict_proba_frame")
    assert frame.shape == (60, 5) and frame.index.equals(X.index)
    grouping = TaskGrouping(MultiTaskNet(**FAST), n_groups=2, random_state=0)
    pred = cross_val_predict(grouping, X, y, cv=2)
    assert list(pred.columns) == ["r", "c3", "bin"] and pred.index.equals(X.index)
    labels = pd.DataFrame({"p": (X["a"] > 0).astype(int), "q": (X["b"] > 0).astype(int)},
                          index=X.index)
    ml = MultiTaskNet(tasks=[MultiLabel(["p", "q"], name="tags")], **FAST)
    proba = cross_val_predict(ml, X, labels, cv=2, method="predict_proba")
    assert proba.shape == (60, 2)


def test_bad_arguments_are_refused_before_fitting():
    X, y = _table(n=30)
    with pytest.raises(ValueError, match="method='decision_function' is not one of"):
        cross_val_predict(MultiTaskNet(**FAST), X, y, method="decision_function")
    with pytest.raises(ValueError, match="exactly once"):
        cross_val_predict(MultiTaskNet(**FAST), X, y, cv=ShuffleSplit(2, random_state=0))
    with pytest.raises(AttributeError, match="regression tasks only"):
        cross_val_predict(MultiTaskRegressor(**FAST), X[["a"]], y[["r"]], method="predict_proba")
    with pytest.raises(ValueError, match="cv=40 folds need"):
        cross_val_predict(MultiTaskNet(**FAST), X, y, cv=40)
    with pytest.raises(ValueError, match="index"):
        cross_val_predict(MultiTaskNet(**FAST), X, y.sort_index())
