"""Data frames of other libraries: polars X and y are read as the pandas frames of the
same columns (names, missing values), so they give the same model and named predictions."""

import numpy as np
import pandas as pd
import pytest

from skmtl import MultiTaskEnsemble, MultiTaskNet

pl = pytest.importorskip("polars")
pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

N = 120


def _tables(seed: int = 0):
    """The same X and y in pandas and in polars, with missing values and labels."""
    rng = np.random.default_rng(seed)
    size = rng.normal(size=N)
    shop = rng.choice(["north", "south", "east"], N).astype(object)
    shop[::9] = None
    price = size * 3 + rng.normal(size=N)
    grade = np.where(size > 0, "high", "low").astype(object)
    grade[::7] = None  # missing labels: masked
    rooms = rng.integers(1, 5, N).astype(float)
    rooms[::5] = np.nan
    X = pd.DataFrame({"size": size, "shop": shop})
    y = pd.DataFrame({"price": price, "grade": grade, "rooms": rooms})
    X_pl = pl.DataFrame({"size": size, "shop": shop.tolist()})
    y_pl = pl.DataFrame({"price": price, "grade": grade.tolist(),
                         "rooms": [None if np.isnan(v) else int(v) for v in rooms]})
    return X, y, X_pl, y_pl


def test_polars_X_and_y_give_the_pandas_model_and_named_predictions():
    X, y, X_pl, y_pl = _tables()
    tasks = {"rooms": "regression"}  # declared by y's column name
    ours = MultiTaskNet(max_epochs=3, random_state=0, tasks=tasks).fit(X, y)
    theirs = MultiTaskNet(max_epochs=3, random_state=0, tasks=tasks).fit(X_pl, y_pl)
    assert [t.name_ for t in theirs.tasks_] == ["price", "grade", "rooms"]
    assert [t.kind for t in theirs.tasks_] == ["regression", "classification", "regression"]
    assert list(theirs.feature_names_in_) == ["size", "shop"]
    assert list(theirs.preprocessor_.summary().index) == ["size", "shop"]
    got, expected = theirs.predict(X_pl), ours.predict(X)
    # polars predictions for polars y, in y's columns and dtypes (a regression stays float)
    assert isinstance(got, pl.DataFrame) and got.columns == ["price", "grade", "rooms"]
    assert got.schema["grade"] == pl.String and got.schema["rooms"] == pl.Float64
    for name in got.columns:
        assert got[name].to_list() == expected[name].tolist()
    assert theirs.score_tasks(X_pl, y_pl) == pytest.approx(ours.score_tasks(X, y))
    np.testing.assert_array_equal(theirs.predict_proba(X_pl), ours.predict_proba(X))


def test_a_polars_series_y_and_an_ensemble():
    X, y, X_pl, y_pl = _tables()
    model = MultiTaskNet(max_epochs=2, random_state=0).fit(X_pl, y_pl["grade"])
    pred = model.predict(X_pl)
    assert isinstance(pred, pl.Series) and pred.name == "grade"
    assert set(pred.to_list()) <= {"high", "low"}
    # integer labels with missing ones (floats on the way through NumPy) come back as ints
    labels = y_pl.with_columns(pl.col("rooms").alias("rooms"))
    classifier = MultiTaskNet(max_epochs=2, random_state=0).fit(X_pl, labels[["rooms"]])
    assert classifier.tasks_[0].kind == "classification"
    assert classifier.predict(X_pl).schema["rooms"] == pl.Int64
    ensemble = MultiTaskEnsemble([MultiTaskNet(max_epochs=2)], cv=3, random_state=0)
    pred = ensemble.fit(X_pl, y_pl).predict(X_pl)
    assert isinstance(pred, pl.DataFrame) and pred.columns == ["price", "grade", "rooms"]


def test_a_model_fitted_on_polars_exports_to_onnx_from_polars_rows():
    ort = pytest.importorskip("onnxruntime")
    pytest.importorskip("skl2onnx")
    from skmtl.export import onnx_inputs, to_onnx

    X, y, X_pl, y_pl = _tables()
    model = MultiTaskNet(max_epochs=2, random_state=0).fit(X_pl, y_pl)
    onx = to_onnx(model, X_pl.head(5))
    assert [i.name for i in onx.graph.input] == ["size", "shop"]
    session = ort.InferenceSession(onx.SerializeToString(), providers=["CPUExecutionProvider"])
    got = dict(zip([o.name for o in session.get_outputs()],
                   session.run(None, onnx_inputs(session, X_pl))))
    pred = model.predict(X_pl)
    np.testing.assert_allclose(got["price"], pred["price"], rtol=1e-5, atol=1e-5)
    assert got["grade"].tolist() == pred["grade"].to_list()


def test_polars_times_with_a_time_zone_keep_their_local_hours():
    """NumPy gives a zoned polars column's instants in UTC: read so, a model fitted on
    polars would learn other hours of the day than the same table in pandas."""
    stamps = pd.Series(pd.date_range("2024-06-01 08:00", periods=N, freq="5h",
                                     tz="America/Chicago"))
    stamps[::10] = pd.NaT
    X = pd.DataFrame({"size": np.arange(N, dtype=float), "when": stamps})
    y = pd.DataFrame({"r": stamps.dt.hour.fillna(0).to_numpy() + X["size"] / 100})
    X_pl = pl.from_pandas(X)
    assert X_pl.schema["when"].time_zone == "America/Chicago"
    ours = MultiTaskNet(max_epochs=3, random_state=0).fit(X, y)
    theirs = MultiTaskNet(max_epochs=3, random_state=0).fit(X_pl, pl.from_pandas(y))
    assert str(theirs.preprocessor_.date_zones_["when"]) == "America/Chicago"
    np.testing.assert_array_equal(theirs.preprocessor_.transform(X), ours.preprocessor_.transform(X))
    assert theirs.predict(X_pl)["r"].to_list() == ours.predict(X)["r"].tolist()


def test_polars_numbers_text_and_naive_dates_fit_and_stream_as_pandas():
    """polars cannot make one NumPy array of float, text and naive datetime columns
    (DTypePromotionError): X is only ever read as a frame, in fit, partial_fit and predict."""
    days = pd.Series(pd.date_range("2024-01-01", periods=N, freq="D"))
    X = pd.DataFrame({"size": np.linspace(0, 1, N), "shop": ["north", "south"] * (N // 2),
                      "day": days})
    y = pd.DataFrame({"r": X["size"] + days.dt.dayofweek.to_numpy() / 6})
    X_pl = pl.from_pandas(X)
    assert isinstance(X_pl.schema["day"], pl.Datetime) and X_pl.schema["day"].time_zone is None
    ours = MultiTaskNet(max_epochs=3, random_state=0).fit(X, y)
    theirs = MultiTaskNet(max_epochs=3, random_state=0).fit(X_pl, y)
    assert theirs.preprocessor_.summary().equals(ours.preprocessor_.summary())
    np.testing.assert_array_equal(theirs.predict(X_pl)["r"], ours.predict(X)["r"])
    stream = MultiTaskNet(random_state=0).partial_fit(X_pl[:60], y.iloc[:60])
    stream.partial_fit(X_pl[60:], y.iloc[60:])
    expected = MultiTaskNet(random_state=0).partial_fit(X[:60], y.iloc[:60])
    expected.partial_fit(X[60:], y.iloc[60:])
    np.testing.assert_array_equal(stream.predict(X_pl)["r"], expected.predict(X)["r"])
