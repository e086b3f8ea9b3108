"""skmtl estimators inside scikit-learn's Pipeline, model selection, clone and persistence."""

import pickle

import joblib
import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.compose import ColumnTransformer
from sklearn.exceptions import NotFittedError
from sklearn.model_selection import GridSearchCV, cross_val_score, cross_validate, train_test_split
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler
from sklearn.utils.validation import check_is_fitted

from skmtl import MultiTaskClassifier, MultiTaskNet, MultiTaskRegressor
from skmtl.tasks import Classification, Regression

FAST = dict(hidden_layer_sizes=(16,), max_epochs=30, batch_size=64, lr=1e-2, device="cpu",
            random_state=0)

NUMERIC = ["x_float", "x_float2", "x_int"]
CATEGORICAL = ["x_str", "x_cat"]



def _mixed_data(n=300, seed=0):
    """A mixed-dtype X and a y with a float, a str-label and a bool column."""
    rng = np.random.RandomState(seed)
    x_float = rng.normal(size=n)
    x_float2 = rng.normal(size=n)
    x_int = rng.randint(0, 10, size=n)
    x_str = rng.choice(["north", "south", "east"], size=n)
    x_cat = pd.Categorical(rng.choice(["lo", "mid", "hi"], size=n), categories=["lo", "mid", "hi"])
    X = pd.DataFrame({
        "x_float": x_float,
        "x_float2": x_float2,
        "x_int": x_int,
        "x_str": pd.Series(x_str, dtype="str"),
        "x_cat": x_cat,
    })
    region = pd.Series(x_str).map({"north": 1.0, "south": -1.0, "east": 0.0}).to_numpy()
    level = pd.Series(np.asarray(x_cat)).map({"lo": -1.0, "mid": 0.0, "hi": 1.0}).to_numpy()
    price = 2.0 * x_float - x_float2 + 0.3 * x_int + 1.5 * region + 0.1 * rng.normal(size=n)
    # Three classes driven by a numeric feature and the categorical one.
    score = x_float + level
    grade = np.select([score < -0.7, score < 0.7], ["low", "medium"], default="high")
    y = pd.DataFrame({
        "price": price.astype(np.float64),
        "grade": pd.Series(grade, dtype="str"),
        "sold": (x_float2 + region > 0),
    })
    return X, y


def _preprocessor():
    return ColumnTransformer([
        ("num", StandardScaler(), NUMERIC),
        ("cat", OneHotEncoder(handle_unknown="ignore"), CATEGORICAL),
    ])


def _pipeline(**params):
    return Pipeline([("prep", _preprocessor()), ("model", MultiTaskNet(**{**FAST, **params}))])


def _array_data(n=120, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.normal(size=(n, 4))
    Y = np.column_stack([X[:, 0] - X[:, 1], X[:, 2] * 2.0 + 0.5 * X[:, 3]])
    return X, Y


# -- Pipeline with a ColumnTransformer ------------------------------------------------


def test_pipeline_on_mixed_dtype_frame():
    X, y = _mixed_data()
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.3, random_state=0)
    pipe = _pipeline().fit(X_train, y_train)

    predicted = pipe.predict(X_test)
    assert isinstance(predicted, pd.DataFrame)
    assert list(predicted.columns) == list(y.columns)
    assert predicted.dtypes.to_dict() == y.dtypes.to_dict()
    assert len(predicted) == len(X_test)
    assert set(predicted["grade"]) <= set(y["grade"])

    score = pipe.score(X_test, y_test)
    assert isinstance(score, float)
    assert 0.5 < score <= 1.0

    # Each task beats its trivial baseline by a wide margin.
    majority_grade = y_train["grade"].value_counts(normalize=True).max()
    majority_sold = y_train["sold"].value_counts(normalize=True).max()
    # The ColumnTransformer hands the model an array, so predictions have a fresh RangeIndex.
    grade_accuracy = np.mean(predicted["grade"].to_numpy() == y_test["grade"].to_numpy())
    sold_accuracy = np.mean(predicted["sold"].to_numpy() == y_test["sold"].to_numpy())
    assert grade_accuracy > majority_grade + 0.15, (grade_accuracy, majority_grade)
    assert sold_accuracy > majority_sold + 0.15, (sold_accuracy, majority_sold)
    scores = pipe.named_steps["model"].score_tasks(pipe[:-1].transform(X_test), y_test)
    assert scores["price"] > 0.8
    assert scores["grade"] == pytest.approx(grade_accuracy)


# -- GridSearchCV ----------------------------------------------------------------------


def test_grid_search_over_estimator():
    X, y = _mixed_data(n=160)
    X_num = X[NUMERIC]
    grid = {"hidden_layer_sizes": [(8,), (16,)], "lr": [1e-2, 1e-3]}
    search = GridSearchCV(MultiTaskNet(**{**FAST, "max_epochs": 10}), grid, cv=2, n_jobs=2)
    search.fit(X_num, y)

    assert search.best_params_ in [
        {"hidden_layer_sizes": h, "lr": lr} for h in grid["hidden_layer_sizes"] for lr in grid["lr"]
    ]
    assert len(search.cv_results_["params"]) == 4
    assert np.isfinite(search.cv_results_["mean_test_score"]).all()
    predicted = search.best_estimator_.predict(X_num)
    assert isinstance(predicted, pd.DataFrame)
    assert list(predicted.columns) == list(y.columns)
    assert predicted.dtypes.to_dict() == y.dtypes.to_dict()


def test_grid_search_over_pipeline_param():
    X, y = _mixed_data(n=160)
    search = GridSearchCV(_pipeline(max_epochs=10), {"model__dropout": [0.0, 0.2]}, cv=2)
    search.fit(X, y)

    assert search.best_params_["model__dropout"] in (0.0, 0.2)
    assert len(search.cv_results_["params"]) == 2
    assert np.isfinite(search.cv_results_["mean_test_score"]).all()
    assert search.best_estimator_.named_steps["model"].dropout == search.best_params_["model__dropout"]
    assert isinstance(search.predict(X), pd.DataFrame)


# -- cross-validation ------------------------------------------------------------------


def test_cross_validate_regressor_on_2d_array():
    X, Y = _array_data()
    result = cross_validate(MultiTaskRegressor(**FAST), X, Y, cv=3)
    assert result["test_score"].shape == (3,)
    assert np.isfinite(result["test_score"]).all()
    assert (result["test_score"] > 0).all()


def test_cross_val_score_classifier_pipeline_on_1d_str_y():
    X, y = _mixed_data(n=150)
    pipe = Pipeline([("prep", _preprocessor()), ("model", MultiTaskClassifier(**FAST))])
    grade = y["grade"].to_numpy(dtype=object)
    scores = cross_val_score(pipe, X, grade, cv=3)
    assert scores.shape == (3,)
    assert np.isfinite(scores).all()
    majority = pd.Series(grade).value_counts(normalize=True).max()
    assert scores.mean() > majority


# -- clone ---------------------------------------------------------------------------


def test_clone_of_fitted_estimator_is_unfitted():
    X, Y = _array_data(n=40)
    model = MultiTaskRegressor(**{**FAST, "max_epochs": 2}).fit(X, Y)
    copy = clone(model)
    assert copy.get_params() == model.get_params()
    check_is_fitted(model)
    with pytest.raises(NotFittedError):
        check_is_fitted(copy)


def test_clone_copies_task_specs():
    tasks = [Classification("b"), Regression("a")]
    model = MultiTaskNet(tasks=tasks, **FAST)
    copy = clone(model)

    assert copy.tasks is not model.tasks
    assert len(copy.tasks) == len(tasks)
    for original, copied in zip(tasks, copy.tasks):
        assert copied is not original
        assert type(copied) is type(original)
        assert copied.get_params() == original.get_params()
    params = {k: v for k, v in model.get_params(deep=False).items() if k != "tasks"}
    assert {k: v for k, v in copy.get_params(deep=False).items() if k != "tasks"} == params

    # Fitting the clone leaves the user's specs untouched.
    rng = np.random.RandomState(0)
    X = rng.normal(size=(40, 3))
    y = pd.DataFrame({"a": X[:, 0], "b": np.where(X[:, 1] > 0, "yes", "no")})
    copy.set_params(max_epochs=2).fit(X, y)
    assert [t.name_ for t in copy.tasks_] == ["a", "b"]  # tasks follow y's column order
    for spec in tasks:
        with pytest.raises(NotFittedError):
            check_is_fitted(spec)


# -- persistence ----------------------------------------------------------------------


def _fitted_models():
    X, y = _mixed_data(n=120)
    X_num = X[NUMERIC].astype(np.float64)
    net = MultiTaskNet(**{**FAST, "max_epochs": 5}).fit(X_num, y)
    clf_y = y[["grade", "sold"]]
    clf = MultiTaskClassifier(**{**FAST, "max_epochs": 5}).fit(X_num, clf_y)
    return X_num, net, clf


@pytest.fixture(scope="module")
def fitted_models():
    return _fitted_models()


def _pickle_round_trip(model, tmp_path):
    return pickle.loads(pickle.dumps(model))


def _joblib_round_trip(model, tmp_path):
    path = tmp_path / "model.joblib"
    joblib.dump(model, path)
    return joblib.load(path)


@pytest.mark.parametrize("round_trip", [_pickle_round_trip, _joblib_round_trip],
                         ids=["pickle", "joblib"])
@pytest.mark.parametrize("which", ["net", "classifier"])
def test_persistence_round_trip(fitted_models, round_trip, which, tmp_path):
    X, net, clf = fitted_models
    model = net if which == "net" else clf
    loaded = round_trip(model, tmp_path)

    assert type(loaded) is type(model)
    assert len(loaded.history_) == len(model.history_)
    assert loaded.n_epochs_ == model.n_epochs_
    pd.testing.assert_frame_equal(loaded.predict(X), model.predict(X))
    before, after = model.predict_proba(X), loaded.predict_proba(X)
    assert isinstance(after, list) and len(after) == len(before)
    for a, b in zip(before, after):
        np.testing.assert_array_equal(a, b)
    assert loaded.score_tasks(X, model.predict(X)) == model.score_tasks(X, model.predict(X))
    if which == "classifier":
        for a, b in zip(model.classes_, loaded.classes_):
            np.testing.assert_array_equal(a, b)


def test_persistence_of_1d_classifier(tmp_path):
    X, y = _mixed_data(n=80)
    X_num = X[NUMERIC].astype(np.float64)
    grade = y["grade"].to_numpy(dtype=object)
    model = MultiTaskClassifier(**{**FAST, "max_epochs": 3}).fit(X_num, grade)
    loaded = _joblib_round_trip(model, tmp_path)
    np.testing.assert_array_equal(loaded.predict(X_num), model.predict(X_num))
    np.testing.assert_array_equal(loaded.predict_proba(X_num), model.predict_proba(X_num))
    np.testing.assert_array_equal(loaded.classes_, model.classes_)
