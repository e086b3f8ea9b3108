"""Sparse X (densified per batch) and per-label decision thresholds (``threshold=``)."""

import pickle

import numpy as np
import pandas as pd
import pytest
from scipy import sparse
from sklearn.base import clone
from sklearn.metrics import f1_score
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder
from torch import nn

from skmtl import MultiTaskClassifier, MultiTaskNet
from skmtl._thresholds import best_threshold
from skmtl._training import SparseRows
from skmtl.tasks import Classification, MultiLabel, Regression

FAST = dict(hidden_layer_sizes=(16,), max_epochs=4, batch_size=32, lr=1e-2, random_state=0,
            device="cpu")
#: Sparse X is read as given; dense X is encoded (numeric_transform): compare them "as given".
AS_GIVEN = dict(FAST, numeric_transform="none", numeric_embedding=None)


def _sparse_data(n=240, d=30, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.rand(n, d)
    X[X < 0.8] = 0
    y = pd.DataFrame({
        "c": np.where(X[:, 0] + X[:, 1] > 0.3, "a", "b"),
        "r": X[:, 2] * 3 + rng.normal(0, 0.1, n),
    })
    y.loc[::5, "c"] = None
    y.loc[1::7, "r"] = np.nan
    return X, y


# -- sparse X ----------------------------------------------------------------------------
def test_sparse_and_dense_fits_agree_with_missing_labels():
    X, y = _sparse_data()
    kw = dict(AS_GIVEN, temperature_scaling=True)
    dense = MultiTaskNet(**kw).fit(X, y)
    csr = MultiTaskNet(**kw).fit(sparse.csr_matrix(X), y)
    pd.testing.assert_frame_equal(dense.predict(X), csr.predict(sparse.csr_matrix(X)))
    np.testing.assert_array_equal(dense.predict_proba(X)[0],
                                  csr.predict_proba(sparse.csr_array(X))[0])
    assert dense.score(X, y) == csr.score(sparse.csr_matrix(X), y)
    assert dense.score_tasks(X, y) == csr.score_tasks(sparse.coo_matrix(X), y)
    assert csr.temperatures_ == dense.temperatures_
    assert csr.n_features_in_ == X.shape[1]


def test_sparse_pretrain_and_early_stopping_agree_with_dense():
    X, y = _sparse_data()
    kw = dict(AS_GIVEN, pretrain="autoencoder", pretrain_epochs=2, early_stopping=True)
    dense = MultiTaskNet(**kw).fit(X, y)
    csr = MultiTaskNet(**kw).fit(sparse.csr_matrix(X), y)
    pd.testing.assert_frame_equal(dense.predict(X), csr.predict(sparse.csr_matrix(X)))


def test_csc_and_other_formats_are_accepted():
    X, y = _sparse_data()
    reference = MultiTaskNet(**FAST).fit(sparse.csr_matrix(X), y).predict(X)
    for convert in (sparse.csc_matrix, sparse.coo_array, sparse.lil_matrix):
        model = MultiTaskNet(**FAST).fit(convert(X), y)
        pd.testing.assert_frame_equal(model.predict(convert(X)), reference)


def test_partial_fit_on_csr():
    X, y = _sparse_data()
    Xs = sparse.csr_matrix(X)
    dense = MultiTaskNet(**AS_GIVEN)
    csr = MultiTaskNet(**AS_GIVEN)
    for start in (0, 120):
        rows = slice(start, start + 120)
        dense.partial_fit(X[rows], y.iloc[rows], classes={"c": ["a", "b"]})
        csr.partial_fit(Xs[rows], y.iloc[rows], classes={"c": ["a", "b"]})
    pd.testing.assert_frame_equal(dense.predict(X), csr.predict(Xs))


def test_pipeline_with_sparse_one_hot_encoder():
    rng = np.random.RandomState(0)
    X = pd.DataFrame({"city": rng.choice([f"c{i}" for i in range(50)], 300),
                      "kind": rng.choice(["x", "y", "z"], 300)})
    y = (X["kind"] == "x").astype(int).to_numpy()
    encoder = OneHotEncoder(sparse_output=True, handle_unknown="ignore")
    assert sparse.issparse(encoder.fit_transform(X))
    pipe = make_pipeline(encoder, MultiTaskClassifier(**dict(FAST, max_epochs=20)))
    pipe.fit(X, y)
    assert pipe.score(X, y) > 0.9
    assert pipe.predict_proba(X).shape == (300, 2)


def test_sparse_with_too_many_columns_at_predict():
    X, y = _sparse_data()
    model = MultiTaskNet(**FAST).fit(sparse.csr_matrix(X), y)
    wide = sparse.hstack([sparse.csr_matrix(X), sparse.csr_matrix(X[:, :2])]).tocsr()
    with pytest.raises(ValueError, match="features"):
        model.predict(wide)


def test_sparse_with_a_trunk_or_in_a_dict_is_refused():
    X, y = _sparse_data()
    trunk = nn.Sequential(nn.LazyLinear(8), nn.ReLU())
    with pytest.raises(ValueError, match="sparse"):
        MultiTaskNet(trunk=trunk, **FAST).fit(sparse.csr_matrix(X), y)
    with pytest.raises(ValueError, match="sparse"):
        MultiTaskNet(trunk=trunk, **FAST).fit({"a": sparse.csr_matrix(X)}, y)
    assert MultiTaskNet().__sklearn_tags__().input_tags.sparse
    assert not MultiTaskNet(trunk=trunk).__sklearn_tags__().input_tags.sparse


def test_sparse_nan_is_refused():
    X, y = _sparse_data()
    X[3, 4] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        MultiTaskNet(**FAST).fit(sparse.csr_matrix(X), y)


def test_fit_and_predict_never_densify_more_than_a_batch(monkeypatch):
    X, y = _sparse_data(n=400)
    blocks = []
    dense = SparseRows.dense

    def recording(self):
        blocks.append(len(self))
        return dense(self)

    for cls in (sparse.csr_matrix, sparse.csr_array):
        original = cls.toarray

        def guarded(self, *args, _original=original, **kwargs):
            assert self.shape[0] <= FAST["batch_size"], f"densified {self.shape[0]} rows"
            return _original(self, *args, **kwargs)

        monkeypatch.setattr(cls, "toarray", guarded)
    monkeypatch.setattr(SparseRows, "dense", recording)
    model = MultiTaskNet(**dict(FAST, temperature_scaling=True, threshold="f1",
                                pretrain="autoencoder", pretrain_epochs=1))
    model.fit(sparse.csr_matrix(X), y)
    model.predict(sparse.csr_matrix(X))
    model.predict_proba(sparse.csr_matrix(X))
    assert blocks and max(blocks) <= FAST["batch_size"]


# -- thresholds ---------------------------------------------------------------------------
def _imbalanced_multilabel(n=1500, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.normal(size=(n, 8))
    logits = np.stack([X[:, 0] * 1.5 - 2.5, X[:, 1] - 2.0 + X[:, 2], X[:, 3] * 0.7 - 3.0], axis=1)
    Y = (rng.rand(n, 3) < 1 / (1 + np.exp(-logits))).astype(int)
    return X, pd.DataFrame(Y, columns=["a", "b", "c"])


def _validation_rows(model, n):
    _, index = model.net_.train_split.split(n)
    return index.numpy()


@pytest.fixture(scope="module")
def multilabel_fits():
    X, Y = _imbalanced_multilabel()
    kw = dict(tasks=[MultiLabel(["a", "b", "c"])], hidden_layer_sizes=(16,), max_epochs=8,
              batch_size=64, lr=5e-3, random_state=0, device="cpu")
    fits = {t: MultiTaskNet(threshold=t, **kw).fit(X, Y) for t in ("accuracy", "f1")}
    fits[None] = MultiTaskNet(validation_fraction=0.1, **kw).fit(X, Y)
    return X, Y, fits


def test_accuracy_thresholds_do_not_increase_hamming_loss(multilabel_fits):
    X, Y, fits = multilabel_fits
    valid = _validation_rows(fits["accuracy"], len(X))
    truth = Y.to_numpy()[valid]
    tuned = (fits["accuracy"].predict(X.take(valid, axis=0)).to_numpy() != truth).mean()
    # the same network with the default 0.5 cut
    proba = fits["accuracy"].predict_proba(X[valid])
    default = ((proba > 0.5).astype(int) != truth).mean()
    assert tuned <= default
    assert set(fits["accuracy"].thresholds_) == {"a+b+c"}
    assert fits["accuracy"].thresholds_["a+b+c"].shape == (3,)
    assert fits[None].thresholds_ == {}


def test_f1_thresholds_raise_validation_f1(multilabel_fits):
    X, Y, fits = multilabel_fits
    model = fits["f1"]
    valid = _validation_rows(model, len(X))
    truth = Y.to_numpy()[valid]
    proba = model.predict_proba(X[valid])
    tuned = f1_score(truth, model.predict(X[valid]).to_numpy(), average="macro", zero_division=0)
    default = f1_score(truth, (proba > 0.5).astype(int), average="macro", zero_division=0)
    assert tuned > default
    thresholds = model.thresholds_["a+b+c"]
    assert (thresholds < 0.5).all()  # rare labels: lower cuts
    np.testing.assert_array_equal(model.predict(X).to_numpy(),
                                  (model.predict_proba(X) >= thresholds).astype(int))


def _brute_force(proba, truth, metric):
    labelled = ~np.isnan(truth)
    p, t = proba[labelled], truth[labelled] > 0.5
    """The best score over a fine grid of cuts."""
    scores = []
    for cut in np.linspace(0.0005, 0.9995, 1999):
        pred = p >= cut
        scores.append((pred == t).mean() if metric == "accuracy"
                      else f1_score(t, pred, zero_division=0))
    return max(scores)


def test_best_threshold_matches_a_brute_force_search():
    proba = np.array([0.05, 0.12, 0.2, 0.31, 0.33, 0.4, 0.55, 0.6, 0.7, 0.92, 0.5, 0.25])
    truth = np.array([0, 0, 1, 0, 1, 1, 0, 1, 1, 1, np.nan, np.nan])
    # hand-checked: accuracy is best (8/10) cutting at 0.16 or at 0.32
    accuracy = best_threshold(proba, truth, "accuracy")
    f1 = best_threshold(proba, truth, "f1")
    labelled = ~np.isnan(truth)
    for metric, cut in (("accuracy", accuracy), ("f1", f1)):
        pred = proba[labelled] >= cut
        t = truth[labelled] > 0.5
        score = (pred == t).mean() if metric == "accuracy" else f1_score(t, pred)
        assert score == pytest.approx(_brute_force(proba, truth, metric))
    assert accuracy == pytest.approx((0.31 + 0.33) / 2)  # of the tied cuts, closest to 0.5
    assert f1 == pytest.approx((0.12 + 0.2) / 2)  # every positive, one false positive less


def test_best_threshold_falls_back_to_one_half():
    proba = np.array([0.1, 0.7, 0.4])
    assert best_threshold(proba, np.array([1.0, 1.0, np.nan]), "f1") == 0.5
    assert best_threshold(proba, np.array([0.0, 0.0, 0.0]), "accuracy") == 0.5
    assert best_threshold(proba, np.full(3, np.nan), "accuracy") == 0.5


def test_thresholds_with_missing_labels_binary_and_multiclass_untouched():
    rng = np.random.RandomState(1)
    X = rng.normal(size=(400, 5))
    y = pd.DataFrame({
        "bin": np.where(X[:, 0] > 1.0, "yes", "no").astype(object),
        "multi": np.digitize(X[:, 1], [-0.5, 0.5]),
        "reg": X[:, 2],
    })
    y.loc[::3, "bin"] = None
    kw = dict(tasks=[Classification("bin"), Classification("multi"), Regression("reg")],
              **dict(FAST, max_epochs=6))
    plain = MultiTaskNet(validation_fraction=0.1, **kw).fit(X, y)
    tuned = MultiTaskNet(threshold="f1", **kw).fit(X, y)
    assert set(tuned.thresholds_) == {"bin"}
    assert isinstance(tuned.thresholds_["bin"], float)
    # same network (same seeds, same split): multiclass and regression predictions equal
    pd.testing.assert_series_equal(tuned.predict(X)["multi"], plain.predict(X)["multi"])
    pd.testing.assert_series_equal(tuned.predict(X)["reg"], plain.predict(X)["reg"])
    np.testing.assert_array_equal(tuned.predict_proba(X)[0], plain.predict_proba(X)[0])
    yes = tuned.predict_proba(X)[0][:, 1] >= tuned.thresholds_["bin"]
    np.testing.assert_array_equal(tuned.predict(X)["bin"].to_numpy(),
                                  np.where(yes, "yes", "no"))


def test_float_threshold_and_temperature_scaling():
    X, Y = _imbalanced_multilabel(n=400)
    kw = dict(tasks=[MultiLabel(["a", "b", "c"])], **FAST)
    model = MultiTaskNet(threshold=0.3, temperature_scaling=True, **kw).fit(X, Y)
    np.testing.assert_array_equal(model.thresholds_["a+b+c"], [0.3, 0.3, 0.3])
    proba = model.predict_proba(X)  # calibrated
    np.testing.assert_array_equal(model.predict(X).to_numpy(), (proba >= 0.3).astype(int))
    calibrated = MultiTaskNet(threshold="accuracy", temperature_scaling=True, **kw).fit(X, Y)
    assert set(calibrated.temperatures_) == set(calibrated.thresholds_) == {"a+b+c"}
    np.testing.assert_array_equal(
        calibrated.predict(X).to_numpy(),
        (calibrated.predict_proba(X) >= calibrated.thresholds_["a+b+c"]).astype(int))


def test_pickle_clone_and_grid_search_over_threshold():
    X, Y = _imbalanced_multilabel(n=400)
    y = Y["a"].to_numpy()
    model = MultiTaskClassifier(threshold="f1", **FAST).fit(X, y)
    restored = pickle.loads(pickle.dumps(model))
    assert restored.thresholds_ == model.thresholds_
    np.testing.assert_array_equal(restored.predict(X), model.predict(X))
    assert clone(model).get_params()["threshold"] == "f1"
    assert not hasattr(clone(model), "thresholds_")
    search = GridSearchCV(MultiTaskClassifier(**FAST), {"threshold": [None, 0.3, "accuracy"]},
                          cv=2).fit(X, y)
    assert search.best_params_["threshold"] in (None, 0.3, "accuracy")


def test_warm_start_and_partial_fit_recompute_thresholds():
    X, Y = _imbalanced_multilabel(n=400)
    kw = dict(tasks=[MultiLabel(["a", "b", "c"])], **FAST)
    model = MultiTaskNet(threshold="f1", warm_start=True, **kw).fit(X, Y)
    first = model.thresholds_["a+b+c"].copy()
    model.set_params(threshold=0.4).fit(X, Y)
    np.testing.assert_array_equal(model.thresholds_["a+b+c"], [0.4] * 3)
    model.set_params(threshold=None).partial_fit(X, Y)
    assert model.thresholds_ == {}
    model.set_params(threshold="f1").partial_fit(X, Y)
    assert model.thresholds_["a+b+c"].shape == first.shape
    assert ((0 < model.thresholds_["a+b+c"]) & (model.thresholds_["a+b+c"] < 1)).all()
