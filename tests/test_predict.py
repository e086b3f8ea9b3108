"""The shapes, types and values returned by predict, predict_proba and score."""

import numpy as np
import pandas as pd
import pytest

from skmtl import MultiTaskNet
from skmtl.tasks import MultiLabel

FAST = dict(hidden_layer_sizes=(32,), max_epochs=30, batch_size=32, lr=1e-2, random_state=0,
            device="cpu")


@pytest.fixture(scope="module")
def data():
    rng = np.random.RandomState(0)
    n = 240
    X = pd.DataFrame(rng.normal(size=(n, 4)), columns=["f0", "f1", "f2", "f3"],
                     index=pd.RangeIndex(1000, 1000 + n))
    y = pd.DataFrame(
        {
            "mass": (3000 + 500 * X["f0"]).astype(np.float32),
            "species": pd.Categorical(np.where(X["f1"] > 0.5, "gentoo",
                                               np.where(X["f1"] < -0.5, "adelie", "chinstrap"))),
            "male": X["f2"] > 0,
            "n": (X["f3"] > 0).astype(np.int64) + (X["f3"] > 1),
        },
        index=X.index,
    )
    return X, y


@pytest.fixture(scope="module")
def fitted(data):
    X, y = data
    return MultiTaskNet(**FAST).fit(X, y)


def test_predict_dataframe_keeps_columns_labels_dtypes_and_index(data, fitted):
    X, y = data
    pred = fitted.predict(X.iloc[::2])
    assert list(pred.columns) == list(y.columns)
    assert pred.index.equals(X.index[::2])
    assert (pred.dtypes == y.dtypes).all()
    assert set(pred["species"].unique()) <= {"adelie", "chinstrap", "gentoo"}
    assert pred["species"].cat.categories.tolist() == y["species"].cat.categories.tolist()
    assert set(pred["n"].unique()) <= {0, 1, 2}


def test_predict_on_array_after_dataframe_fit_uses_default_index(data, fitted):
    X, _ = data
    with pytest.warns(UserWarning, match="feature names"):
        pred = fitted.predict(X.to_numpy()[:5])
    assert isinstance(pred, pd.DataFrame) and pred.index.tolist() == list(range(5))


def test_predict_proba_one_array_per_classification_task(data, fitted):
    X, _ = data
    probas = fitted.predict_proba(X)
    assert [p.shape for p in probas] == [(240, 3), (240, 2), (240, 3)]
    for p in probas:
        np.testing.assert_allclose(p.sum(axis=1), 1.0, rtol=1e-6)
    species = fitted.tasks_[1]
    assert species.classes_.tolist() == ["adelie", "chinstrap", "gentoo"]
    pred = fitted.predict(X)["species"].astype(str).to_numpy()
    np.testing.assert_array_equal(species.classes_[probas[0].argmax(axis=1)], pred)


def test_score_is_mean_of_task_scores(data, fitted):
    X, y = data
    scores = fitted.score_tasks(X, y)
    assert list(scores) == ["mass", "species", "male", "n"]
    assert scores["mass"] > 0.9 and scores["species"] > 0.8
    assert fitted.score(X, y) == pytest.approx(np.mean(list(scores.values())))


def test_score_skips_missing_labels(data, fitted):
    X, y = data
    y2 = y.copy()
    y2.loc[y2.index[:100], "mass"] = np.nan
    from sklearn.metrics import r2_score

    expected = r2_score(y["mass"].iloc[100:], fitted.predict(X)["mass"].iloc[100:])
    assert fitted.score_tasks(X, y2)["mass"] == pytest.approx(expected, rel=1e-6)


def test_array_targets_give_arrays(data):
    X, y = data
    Y = np.column_stack([y["mass"].to_numpy(np.float64), y["n"].to_numpy()])
    # in a float array every column is a float: declare the class column
    est = MultiTaskNet(tasks={1: "classification"}, **FAST).fit(X.to_numpy(), Y)
    pred = est.predict(X.to_numpy())
    assert isinstance(pred, np.ndarray) and pred.shape == (240, 2) and pred.dtype == np.float64
    assert set(np.unique(pred[:, 1])) <= {0.0, 1.0, 2.0}
    one = MultiTaskNet(**FAST).fit(X.to_numpy(), y["n"].to_numpy())
    pred1 = one.predict(X.to_numpy())
    assert pred1.shape == (240,) and pred1.dtype == np.int64
    assert one.predict_proba(X.to_numpy()).shape == (240, 3)


def test_series_target_gives_series(data):
    X, y = data
    est = MultiTaskNet(**FAST).fit(X, y["male"])
    pred = est.predict(X.iloc[:7])
    assert isinstance(pred, pd.Series) and pred.name == "male" and pred.dtype == bool
    assert pred.index.equals(X.index[:7])


def test_multilabel_task_probabilities(data):
    X, y = data
    labels = pd.DataFrame({"a": (X["f0"] > 0).astype(int), "b": (X["f1"] > 0).astype(int),
                           "mass": y["mass"]})
    est = MultiTaskNet(tasks=[MultiLabel(["a", "b"], name="ab")], **FAST).fit(X, labels)
    proba = est.predict_proba(X)
    assert len(proba) == 1 and proba[0].shape == (240, 2)
    assert ((proba[0] >= 0) & (proba[0] <= 1)).all()
    pred = est.predict(X)
    assert list(pred.columns) == ["a", "b", "mass"]
    assert est.score_tasks(X, labels)["ab"] > 0.85


def test_regression_only_net_has_no_predict_proba(data):
    X, y = data
    est = MultiTaskNet(**FAST).fit(X, y[["mass"]])
    assert not hasattr(est, "predict_proba")


@pytest.mark.parametrize("kind", ["classifier", "regressor"])
def test_classifier_and_regressor_score_is_the_masked_task_mean(kind):
    """Not ClassifierMixin/RegressorMixin's score, which cannot skip missing labels."""
    from skmtl import MultiTaskClassifier, MultiTaskRegressor

    rng = np.random.RandomState(0)
    X = rng.normal(size=(120, 4))
    if kind == "classifier":
        y = pd.DataFrame({"c": np.where(X[:, 0] > 0, "up", "down"), "k": (X[:, 1] > 0).astype(int)})
        y.loc[:9, "c"] = None
        est = MultiTaskClassifier(**FAST)
    else:
        y = pd.DataFrame({"a": X[:, 0] * 3.0, "b": X[:, 1] - X[:, 2]})
        y.loc[:9, "a"] = np.nan
        est = MultiTaskRegressor(**FAST)
    est.fit(X, y)
    scores = est.score_tasks(X, y)
    assert est.score(X, y) == pytest.approx(np.mean(list(scores.values())))
