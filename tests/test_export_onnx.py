"""ONNX export (skmtl.export.to_onnx): ONNX Runtime's outputs equal predict's and
predict_proba's, for every architecture and task type, skmtl's own preprocessing,
Pipelines, user trunks and dicts of inputs; unsupported cases raise clear errors."""

import json
import warnings

import numpy as np
import pandas as pd
import pytest
import torch
from scipy import sparse
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LinearRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler
from skorch.helper import SliceDict
from torch import nn

from skmtl import MultiTaskClassifier, MultiTaskNet, MultiTaskRegressor
from skmtl.architectures import MultiInput
from skmtl.tasks import MultiLabel

ort = pytest.importorskip("onnxruntime")
pytest.importorskip("skl2onnx")
onnx = pytest.importorskip("onnx")
from skmtl.export import onnx_inputs, to_onnx  # noqa: E402

# two epochs on tiny data are enough to compare outputs
pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

ARCHITECTURES = ["shared_bottom", "separate", "mmoe", "cgc", "ple", "cross_stitch", "tabm"]
SMALL = dict(hidden_layer_sizes=(8,), max_epochs=2, random_state=0)
N = 80


def run(onx, X):
    """ONNX Runtime's outputs for rows X, by output name."""
    session = ort.InferenceSession(onx.SerializeToString(), providers=["CPUExecutionProvider"])
    names = [o.name for o in session.get_outputs()]
    return dict(zip(names, session.run(None, onnx_inputs(session, X))))


def assert_parity(model, onx, X):
    """Labels identical, probabilities and regression values within float32 precision."""
    got = run(onx, X)
    predicted = model.predict(X)
    proba = model.predict_proba(X) if hasattr(model, "predict_proba") else []
    proba = [proba] if isinstance(proba, np.ndarray) else list(proba)
    frame = predicted if isinstance(predicted, pd.DataFrame) else None
    for t, task in enumerate(model.tasks_):
        if frame is not None:
            expected = frame[task.columns_].to_numpy()
        else:
            expected = np.asarray(predicted).reshape(len(X), -1)[:, t:t + task.target_width_]
        if task.kind == "regression":
            np.testing.assert_allclose(got[task.name_], expected[:, 0].astype(np.float64),
                                       rtol=1e-5, atol=1e-5)
            continue
        if task.kind == "multilabel":
            np.testing.assert_array_equal(got[task.name_], expected.astype(np.int64))
        else:
            np.testing.assert_array_equal(got[task.name_], expected[:, 0])
        np.testing.assert_allclose(got[f"{task.name_}_proba"], proba.pop(0), rtol=1e-5, atol=1e-6)
    return got


@pytest.fixture(scope="module")
def table():
    """A raw DataFrame: numbers with NaN, a category, text with None, booleans, integers;
    and targets of every task type."""
    rng = np.random.RandomState(0)
    X = pd.DataFrame({
        "size": rng.normal(size=N),
        "weight": np.where(rng.rand(N) < 0.2, np.nan, rng.exponential(size=N)),
        "colour": pd.Categorical(rng.choice(["red", "green", "blue"], N)),
        "shop": rng.choice(["north", "south", None], N).astype(object),
        "member": rng.rand(N) > 0.5,
        "visits": rng.randint(0, 9, N),
        "vip": pd.array(rng.choice([True, False, None], N), dtype="boolean"),  # nullable, NA
        "rooms": pd.array(np.where(rng.rand(N) < 0.2, None, rng.randint(1, 6, N)), dtype="Int64"),
        "floors": rng.choice([1, 3], N),  # two values in fit: mapped to 0 / 1
    })
    y = pd.DataFrame({
        "price": X["size"] * 30 + 100,
        "sold": np.where(X["size"] > 0, "yes", "no"),
        "grade": rng.randint(1, 4, N),
        "l1": rng.randint(0, 2, N),
        "l2": rng.randint(0, 2, N),
    })
    # predict-time rows: unseen categories and missing values
    X_new = X.iloc[:20].copy()
    X_new.loc[0, "shop"] = "east"
    X_new["colour"] = X_new["colour"].cat.add_categories(["purple"])
    X_new.loc[1, "colour"] = "purple"
    X_new.loc[2, "colour"] = np.nan
    X_new.loc[3, "size"] = np.nan
    X_new.loc[4, "weight"] = np.nan
    X_new.loc[5, "shop"] = None
    X_new.loc[6, ["vip", "rooms"]] = pd.NA
    X_new.loc[[7, 8, 9], "floors"] = [0, 2, 7]  # below, between and above the fitted pair
    return X, y, X_new


@pytest.mark.parametrize("architecture", ARCHITECTURES)
def test_parity_every_architecture_and_task_type(table, architecture):
    X, y, X_new = table
    model = MultiTaskNet(tasks=[MultiLabel(["l1", "l2"], name="labels")], architecture=architecture,
                         **SMALL).fit(X, y)
    onx = to_onnx(model, X.iloc[:5])
    assert [i.name for i in onx.graph.input] == list(X.columns)
    assert [o.name for o in onx.graph.output] == [
        "price", "sold", "sold_proba", "grade", "grade_proba", "labels", "labels_proba"]
    got = assert_parity(model, onx, X_new)
    assert_parity(model, onx, X_new.iloc[:1])  # one row: the batch axis is dynamic
    assert got["sold"].dtype == object and set(got["sold"]) <= {"yes", "no"}
    assert got["grade"].dtype == np.int64
    assert got["labels"].shape == (20, 2) and got["labels_proba"].dtype == np.float32
    assert got["price"].shape == (20,) and got["price"].dtype == np.float32


@pytest.mark.parametrize("transform", ["quantile", "robust", "standard", "none"])
def test_parity_array_X_numeric_transforms(transform):
    rng = np.random.RandomState(1)
    X = rng.normal(size=(N, 4)) * [1, 10, 100, 1]
    X[:, 3] = rng.randint(0, 2, N)  # a binary column (0 / 1 unless "none")
    X[rng.rand(N) < 0.1, 1] = np.nan  # a missing-value indicator
    Y = np.column_stack([X[:, 0] * 2, np.nan_to_num(X[:, 1]) + 5])
    model = MultiTaskRegressor(numeric_transform=transform, **SMALL).fit(X, Y)
    onx = to_onnx(model, X[:3])
    assert [i.name for i in onx.graph.input] == ["X"]
    X_new = np.vstack([X[:10], [[np.nan, np.nan, 300.0, 1.0], [-4.0, 3.0, np.nan, np.nan]]])
    assert_parity(model, onx, X_new)


def test_labels_types_temperature_and_thresholds():
    rng = np.random.RandomState(2)
    X = rng.normal(size=(120, 3))
    y = pd.DataFrame({
        "flag": X[:, 0] + 0.5 * rng.normal(size=120) > 0,  # bool classes
        "level": np.where(X[:, 1] > 0, 2.0, 1.0),  # float classes
        "a": (X[:, 2] > 0).astype(int), "b": (X[:, 0] > 0.3).astype(int),
    })
    model = MultiTaskClassifier(tasks=[MultiLabel(["a", "b"], name="ab")], temperature_scaling=True,
                                threshold="f1", **SMALL).fit(X, y)
    assert model.thresholds_ and model.temperatures_
    got = assert_parity(model, to_onnx(model, X[:2]), X)
    assert got["flag"].dtype == bool
    assert got["level"].dtype == np.float64 and set(got["level"]) <= {1.0, 2.0}


def test_pipeline_with_standard_scaler():
    rng = np.random.RandomState(3)
    X = rng.normal(size=(N, 3)) * 50
    y = pd.DataFrame({"v": X[:, 0], "c": np.where(X[:, 1] > 0, "p", "n")})
    pipe = Pipeline([("scale", StandardScaler()), ("net", MultiTaskNet(**SMALL))]).fit(X, y)
    onx = to_onnx(pipe, X[:2])
    got = run(onx, X)
    np.testing.assert_allclose(got["v"], pipe.predict(X)["v"], rtol=1e-5, atol=1e-5)
    np.testing.assert_array_equal(got["c"], pipe.predict(X)["c"].to_numpy())
    np.testing.assert_allclose(got["c_proba"], pipe.predict_proba(X)[0], rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("output", ["sparse", "pandas"])
def test_pipeline_with_column_transformer(table, output):
    X, y, X_new = table
    X = X[["size", "shop"]].assign(shop=X["shop"].fillna("none"))
    X_new = X_new[["size", "shop"]].assign(shop=X_new["shop"].fillna("none"), size=X_new["size"].fillna(0))
    encoder = OneHotEncoder(handle_unknown="ignore", sparse_output=output == "sparse")
    prep = ColumnTransformer([("num", StandardScaler(), ["size"]), ("cat", encoder, ["shop"])],
                             sparse_threshold=1.0)
    if output == "pandas":  # the encoder's columns reach skmtl by name
        prep.set_output(transform="pandas")
    pipe = Pipeline([("prep", prep), ("net", MultiTaskNet(**SMALL))]).fit(X, y[["price", "sold"]])
    assert (pipe[-1].preprocessor_ is None) == (output == "sparse")
    onx = to_onnx(pipe, X.iloc[:3])
    assert [i.name for i in onx.graph.input] == ["size", "shop"]
    got = run(onx, X_new)
    predicted = pipe.predict(X_new)
    np.testing.assert_allclose(got["price"], predicted["price"], rtol=1e-5, atol=1e-4)
    np.testing.assert_array_equal(got["sold"], predicted["sold"].to_numpy())
    np.testing.assert_allclose(got["sold_proba"], pipe.predict_proba(X_new)[0], rtol=1e-5,
                               atol=1e-6)


class SmallCNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.layers = nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten())

    def forward(self, X):
        return self.layers(X)


@pytest.fixture(scope="module")
def images():
    rng = np.random.RandomState(4)
    images = rng.normal(size=(40, 1, 8, 8)).astype(np.float32)
    y = pd.DataFrame({"bright": images.mean(axis=(1, 2, 3)), "edge": (images[:, 0, 0, 0] > 0).astype(int)})
    return images, y


def test_parity_cnn_trunk_on_images(images):
    X, y = images
    model = MultiTaskNet(trunk=SmallCNN(), **SMALL).fit(X, y)
    onx = to_onnx(model, X[:2])
    assert_parity(model, onx, X)


def test_parity_slicedict_multi_input(images):
    X, y = images
    rng = np.random.RandomState(5)
    inputs = SliceDict(img=X, tab=rng.normal(size=(len(X), 3)).astype(np.float32))
    trunk = MultiInput({"img": SmallCNN, "tab": None}, hidden_layer_sizes=(8,))
    model = MultiTaskNet(trunk=trunk, **SMALL).fit(inputs, y)
    reordered = {"tab": inputs["tab"][:2], "img": inputs["img"][:2]}  # key order does not matter
    onx = to_onnx(model, reordered)
    assert sorted(i.name for i in onx.graph.input) == ["img", "tab"]
    assert_parity(model, onx, inputs)


class ErfinvTrunk(nn.Module):
    def __init__(self):
        super().__init__()
        self.linear = nn.Linear(3, 4)

    def forward(self, X):
        return torch.erfinv(torch.tanh(self.linear(X)))


def test_unexportable_trunk_names_the_module_and_torch_message():
    rng = np.random.RandomState(6)
    X = rng.normal(size=(30, 3)).astype(np.float32)
    model = MultiTaskRegressor(trunk=ErfinvTrunk(), **SMALL).fit(X, X[:, 0])
    with pytest.raises(TypeError, match=r"ErfinvTrunk.*erfinv"):
        to_onnx(model, X[:2])


def test_refused_inputs_and_models(tmp_path):
    rng = np.random.RandomState(7)
    X = rng.normal(size=(30, 3))
    model = MultiTaskRegressor(**SMALL).fit(X, X[:, 0])
    with pytest.raises(TypeError, match="dense"):
        to_onnx(model, sparse.csr_matrix(X[:2]))
    with pytest.raises(TypeError, match="LinearRegression"):
        to_onnx(LinearRegression().fit(X, X[:, 0]), X[:2])
    with pytest.raises(TypeError, match="DataFrame"):
        to_onnx(model, np.array([["a", "b", "c"]], dtype=object))
    frame = pd.DataFrame(X, columns=["a", "b", "c"])
    clash = MultiTaskRegressor(**SMALL).fit(frame, pd.DataFrame({"a": X[:, 0]}))  # task "a"
    with pytest.raises(ValueError, match=r"\['a'\] also name"):
        to_onnx(clash, frame[:2])
    path = tmp_path / "model.onnx"
    onx = to_onnx(model, X[:2], path=path)
    assert onnx.load(str(path)).SerializeToString() == onx.SerializeToString()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # nothing of torch's exporter leaks to users
        to_onnx(model, X[:2])
    if "precision" in model.get_params():  # predict under autocast: float32 ONNX differs
        bf16 = MultiTaskRegressor(precision="bf16", device="cpu", **SMALL).fit(X, X[:, 0])
        with pytest.warns(UserWarning, match="precision='bf16'"):
            to_onnx(bf16, X[:2])


def test_int_input_refuses_missing_values():
    rng = np.random.RandomState(8)
    X = pd.DataFrame({"a": rng.randint(0, 5, 30), "b": rng.normal(size=30)})
    model = MultiTaskRegressor(**SMALL).fit(X, X["b"].to_numpy() * 2)
    onx = to_onnx(model, X[:2])
    assert [i.type.tensor_type.elem_type for i in onx.graph.input] == [
        onnx.TensorProto.INT64, onnx.TensorProto.DOUBLE]
    with pytest.raises(ValueError, match="'a' has missing values"):
        onnx_inputs(onx, X.assign(a=np.where(X["a"] > 2, np.nan, X["a"])))


def test_quantile_transform_in_torch_matches_scikit_learn():
    """The torch (ONNX-exportable) quantile transform equals scikit-learn's, with 1,000
    quantiles (the two-level search), repeated quantiles, out-of-range values and NaN."""
    from sklearn.preprocessing import QuantileTransformer

    from skmtl.export._quantile import QuantileNormal

    rng = np.random.RandomState(9)
    X = np.column_stack([rng.normal(size=3000), rng.randint(0, 5, 3000), rng.exponential(size=3000)])
    transformer = QuantileTransformer(output_distribution="normal", n_quantiles=1000).fit(X)
    rows = np.vstack([X[:500], rng.normal(size=(100, 3)) * 5, [[np.nan, 2.0, -1.0]],
                      transformer.quantiles_])
    got = QuantileNormal(transformer)(torch.as_tensor(rows)).numpy()
    expected = transformer.transform(rows)
    np.testing.assert_array_equal(np.isnan(got), np.isnan(expected))
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-8, equal_nan=True)


@pytest.mark.parametrize("min_frequency, category_dropout", [(None, 0.0), (5, 0.0), (0.1, 0.0),
                                                              (None, 0.3), (5, 0.3)])
def test_parity_infrequent_unseen_and_missing_categories(min_frequency, category_dropout):
    """Text and numeric categorical columns with rare categories: the graph gives a missing
    value code 0 and an infrequent or unseen category the shared code, as predict does
    (category_dropout, a training-time replacement, is not in the graph)."""
    rng = np.random.RandomState(3)
    city = ["a"] * 30 + ["b"] * 30 + ["c"] * 3 + ["d"] * 2 + [None] * 5
    zone = [1.0] * 30 + [2.0] * 30 + [3.0] * 2 + [np.nan] * 8
    X = pd.DataFrame({"city": np.array(city, dtype=object)[rng.permutation(70)],
                      "zone": np.array(zone)[rng.permutation(70)], "x": rng.normal(size=70)})
    y = pd.DataFrame({"v": X["x"] * 3 + (X["city"] == "a"), "k": X["zone"].fillna(0) > 1})
    model = MultiTaskNet(categorical_features=["city", "zone"], min_frequency=min_frequency,
                         category_dropout=category_dropout, **SMALL).fit(X, y)
    X_new = pd.DataFrame({"city": np.array(["a", "c", "zzz", None, "d", "b"], dtype=object),
                          "zone": [1.0, 3.0, 9.0, np.nan, 2.0, np.nan], "x": np.zeros(6)})
    codes = model.preprocessor_.transform(X_new)[:, -2:]
    if min_frequency is None:  # unseen and missing share code 0
        np.testing.assert_array_equal(codes[:, 0], [1, 3, 0, 0, 4, 2])
        np.testing.assert_array_equal(codes[:, 1], [1, 3, 0, 0, 2, 0])
    else:  # 0 missing, 1 infrequent or unseen, frequent from 2
        np.testing.assert_array_equal(codes[:, 0], [2, 1, 1, 0, 1, 3])
        np.testing.assert_array_equal(codes[:, 1], [2, 1, 1, 0, 3, 0])
    onx = to_onnx(model, X.iloc[:5])
    assert_parity(model, onx, X_new)
    assert_parity(model, onx, X)


def test_parity_infrequent_categories_of_a_numeric_matrix():
    """Array X with a categorical column of numbers: NaN is missing (code 0) in the graph,
    not the shared code of the infrequent and unseen values."""
    rng = np.random.RandomState(4)
    zone = np.array([1.0] * 30 + [2.0] * 30 + [3.0] * 2 + [np.nan] * 8)[rng.permutation(70)]
    X = np.column_stack([zone, rng.normal(size=70)])
    Y = np.column_stack([X[:, 1] * 3 + np.nan_to_num(zone), np.nan_to_num(zone) * 2])
    model = MultiTaskRegressor(categorical_features=[0], min_frequency=5, **SMALL).fit(X, Y)
    X_new = np.column_stack([[1.0, 3.0, 9.0, np.nan, 2.0], np.zeros(5)])
    codes = model.preprocessor_.transform(pd.DataFrame(X_new))[:, -1]
    np.testing.assert_array_equal(codes, [2, 1, 1, 0, 3])
    onx = to_onnx(model, X[:3])
    assert [i.name for i in onx.graph.input] == ["X"]
    assert_parity(model, onx, X_new)


def test_parity_max_categories():
    """A column over ``max_categories``: its less frequent categories share the code of the
    unseen ones in the graph too."""
    rng = np.random.RandomState(5)
    X = pd.DataFrame({"city": rng.choice(["a", "b", "c", "d", None], 70, p=[.4, .3, .15, .1, .05])
                      .astype(object), "x": rng.normal(size=70)})
    y = pd.DataFrame({"v": X["x"] + (X["city"] == "c")})
    model = MultiTaskRegressor(max_categories=3, min_frequency=None, **SMALL).fit(X, y)
    assert len(model.preprocessor_.categories_[0]) == 2
    X_new = pd.DataFrame({"city": np.array(["a", "b", "c", "d", "zzz", None], dtype=object),
                          "x": np.zeros(6)})
    codes = model.preprocessor_.transform(X_new)[:, -1]
    assert codes[2] == codes[3] == codes[4] == 1 and codes[5] == 0
    assert_parity(model, to_onnx(model, X.iloc[:5]), X_new)


def _dated(n: int, seed: int) -> pd.DataFrame:
    """Dates of every kind the encoder reads: times on a 15-minute grid (so that values
    repeat and sit on the quantile transform's knots) with NaT, midnights, times with a
    time zone across summer time, an object column of ``datetime.date``, a duration."""
    rng = np.random.default_rng(seed)
    start = pd.Timestamp("1969-11-03")  # before 1970 too: days are floored, not truncated
    when = start + pd.to_timedelta(rng.integers(0, 200 * 96, n) * 15, unit="min")
    day = pd.Timestamp("2023-12-01") + pd.to_timedelta(rng.integers(0, 150, n), unit="D")
    X = pd.DataFrame({
        "a": rng.normal(size=n),
        "when": when,
        "day": day,
        "zoned": (day + pd.to_timedelta(rng.integers(0, 1440, n), unit="min")).tz_localize(
            "America/New_York", ambiguous="NaT", nonexistent="NaT"),
        "booked": pd.Series(day - pd.Timedelta(days=30)).dt.date.astype(object),
        "took": pd.to_timedelta(rng.integers(0, 10_000, n), unit="s"),
        "city": rng.choice(["x", "y", "z"], n),
    })
    X.loc[X.index[::11], "when"] = pd.NaT
    return X


@pytest.mark.parametrize("categorical_features", ["from_dtype", None])
def test_parity_dates_and_durations(categorical_features):
    X = _dated(300, 0)
    if categorical_features is None:  # no category: a date gives its numbers only
        X = X.drop(columns="city")
    y = pd.DataFrame({"r": X["a"] + X["when"].dt.hour.fillna(0) / 8 + X["day"].dt.day_of_week,
                      "c": np.where(X["day"].dt.day > 15, "late", "early")})
    model = MultiTaskNet(min_frequency=4, **SMALL, categorical_features=categorical_features)
    model.fit(X, y)
    encoder = model.preprocessor_
    assert set(encoder.dates_) == {"when", "day", "zoned", "booked"}
    assert encoder.dates_["when"] == (True, categorical_features is not None)
    if categorical_features == "from_dtype":  # rare days share a code with unseen ones
        assert len(encoder.infrequent_categories_[encoder.categorical_.index(
            encoder.columns_.index("day.date"))]) > 0
    onx = to_onnx(model, X.head(5))
    session = ort.InferenceSession(onx.SerializeToString(), providers=["CPUExecutionProvider"])
    kinds = {i.name: i.type for i in session.get_inputs()}
    assert kinds["when"] == kinds["zoned"] == kinds["booked"] == "tensor(int64)"
    assert kinds["took"] == "tensor(double)"
    assert_parity(model, onx, X)
    new = _dated(120, 1)[X.columns]  # other times, days unseen in fit, other NaT rows
    new.loc[new.index[::5], ["day", "zoned"]] = pd.NaT
    assert_parity(model, onx, new)
    # the sample's dtypes do not matter for a date column: the model's encoding decides
    as_text = X.head(5).assign(when=X["when"].head(5).astype(str))
    assert_parity(model, to_onnx(model, as_text), new)
    with pytest.raises(ValueError, match=r"X column 'when' holds (object|str) values, but the "
                       r"model's input for it is int64 \(dates, for a date column: "
                       r"pd.to_datetime\(X\['when'\]\)\)"):
        onnx_inputs(session, new.assign(when=new["when"].astype(str)))


def test_parity_periods():
    X = _dated(200, 0)[["a", "day"]]
    X = X.assign(day=X["day"].dt.to_period("M"))
    y = pd.DataFrame({"r": X["a"] + X["day"].dt.month.fillna(0) / 4})
    model = MultiTaskNet(**SMALL).fit(X, y)
    onx = to_onnx(model, X.head(5))
    assert_parity(model, onx, X)
    assert_parity(model, onx, _dated(50, 1)[["a", "day"]].assign(
        day=lambda f: f["day"].dt.to_period("M")))


def test_onnx_reads_dates_of_another_time_zone_in_fits_zone_as_predict_does():
    X = _dated(200, 0)[["a", "zoned", "day"]].assign(
        day=lambda t: t["day"].dt.tz_localize("UTC"))
    y = pd.DataFrame({"r": X["a"] + X["zoned"].dt.hour.fillna(0) / 4})
    model = MultiTaskNet(**SMALL).fit(X, y)
    onx = to_onnx(model, X.head(5))
    metadata = {p.key: p.value for p in onx.metadata_props}
    assert json.loads(metadata["skmtl.date_zones"]) == {"zoned": "America/New_York",
                                                         "day": "UTC"}
    new = _dated(80, 1)[["a", "zoned", "day"]].assign(
        zoned=lambda t: t["zoned"].dt.tz_convert("Asia/Tokyo"),
        day=lambda t: t["day"].dt.tz_localize("Europe/Berlin"))
    got = assert_parity(model, onx, new)  # predict converts too: the same instants
    np.testing.assert_allclose(  # ... give fit's local parts: the rows in fit's zones
        got["r"], model.predict(new.assign(zoned=new["zoned"].dt.tz_convert("America/New_York"),
                                           day=new["day"].dt.tz_convert("UTC")))["r"],
        rtol=1e-5, atol=1e-5)
    with pytest.raises(ValueError, match="X column 'zoned' held dates in time zone "
                       "'America/New_York' in fit, but has no time zone now"):
        run(onx, new.assign(zoned=new["zoned"].dt.tz_localize(None)))


def test_date_parts_in_onnx_equal_the_encoders_over_pandas_range():
    from hypothesis import given, settings
    from hypothesis import strategies as st
    from onnx import TensorProto, helper

    from skmtl.export._dates import MISSING_DATE, date_parts
    from skmtl.tabular import date_columns

    class Scope:  # what date_parts asks of skl2onnx's scope and container
        def __init__(self):
            self.n, self.nodes, self.initializers = 0, [], []

        def get_unique_variable_name(self, seed):
            self.n += 1
            return f"{seed}_{self.n}"

        get_unique_operator_name = get_unique_variable_name

        def add_initializer(self, name, kind, shape, values):
            self.initializers.append(helper.make_tensor(name, kind, shape, values))

        def add_node(self, op_type, inputs, outputs, op_domain="", op_version=None, name=None,
                     **attrs):
            self.nodes.append(helper.make_node(op_type, inputs, outputs, name=name,
                                               domain=op_domain, **attrs))

    scope = Scope()
    parts, days, _ = date_parts(scope, scope, "t", with_time=True)
    outputs = [helper.make_tensor_value_info(v, TensorProto.DOUBLE, [None, 1])
               for v in parts.values()]
    outputs.append(helper.make_tensor_value_info(days, TensorProto.INT64, [None, 1]))
    graph = helper.make_graph(scope.nodes, "parts", [helper.make_tensor_value_info(
        "t", TensorProto.INT64, [None, 1])], outputs, scope.initializers)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    low, high = pd.Timestamp.min.value + 1, pd.Timestamp.max.value

    @settings(max_examples=60, deadline=None)
    @given(st.lists(st.one_of(st.integers(low, high), st.integers(-10**15, 10**15),
                              st.just(MISSING_DATE)), min_size=1, max_size=40))
    def check(values):
        t = np.array(values, dtype=np.int64)
        stamps = pd.Series(t.view("datetime64[ns]"))
        got = session.run(None, {"t": t.reshape(-1, 1)})
        expected = date_columns(stamps, "t", with_time=True, with_day=False)
        for (name, column), value in zip(expected.items(), got):
            np.testing.assert_array_equal(value[:, 0], column.to_numpy(), err_msg=name)
        present = t != MISSING_DATE
        np.testing.assert_array_equal(got[-1][present, 0], t[present] // (86_400 * 10**9))

    check()


def test_dates_before_a_pipelines_own_steps_are_refused():
    X = _dated(60, 0)[["a", "when"]]
    pipe = Pipeline([("scale", "passthrough"), ("net", MultiTaskNet(**SMALL))])
    pipe.fit(X, pd.DataFrame({"r": X["a"]}))
    with pytest.raises(TypeError, match=r"X columns \['when'\] hold dates or durations, which "
                       r"the Pipeline's steps before the skmtl estimator give to skl2onnx's "
                       r"converters"):
        to_onnx(pipe, X.head(5))
    model = MultiTaskNet(**SMALL).fit(X, pd.DataFrame({"r": X["a"]}))
    with pytest.raises(TypeError, match=r"encodes X columns \['when'\] as dates: export it "
                       r"with a DataFrame sample"):
        to_onnx(model, X.head(5).to_numpy())


def test_parity_column_names_that_onnx_renames():
    rng = np.random.default_rng(0)
    X = pd.DataFrame({"price ($)": rng.normal(size=N), "1st": rng.normal(size=N),
                      "a b": rng.choice(["p", "q"], N), "a_b": rng.normal(size=N)})
    y = pd.DataFrame({"r": X["price ($)"] + X["a_b"]})
    model = MultiTaskNet(**SMALL).fit(X, y)
    onx = to_onnx(model, X.head(5))
    assert [i.name for i in onx.graph.input] == ["price____", "_1st", "a_b", "a_b1"]
    assert_parity(model, onx, X)
    reordered = run(onx, X[X.columns[::-1]])  # inputs found by name, not by position
    assert all(np.array_equal(v, run(onx, X)[k]) for k, v in reordered.items())
    # a task named like a renamed column: skl2onnx gives the output the name, the input
    # another one, which the model's record of its inputs still finds
    y2 = y.assign(a_b=X["price ($)"] > 0)
    model = MultiTaskNet(**SMALL).fit(X[["price ($)", "a b"]], y2)
    onx = to_onnx(model, X[["price ($)", "a b"]].head(5))
    assert [o.name for o in onx.graph.output][1] == "a_b"
    assert [i.name for i in onx.graph.input] == ["price____", "a_b1"]
    assert_parity(model, onx, X[["price ($)", "a b"]])


# -- ensembles and task groupings ------------------------------------------------------------------
@pytest.mark.parametrize("kind", ["seeds", "cv, thresholds, mixed members", "hard voting"])
def test_parity_ensembles(table, kind):
    from skmtl import MultiTaskEnsemble

    X, y, X_new = table
    tasks = [MultiLabel(["l1", "l2"], name="labels")]
    if kind == "seeds":
        model = MultiTaskEnsemble([MultiTaskNet(tasks=tasks, **SMALL)], n_seeds=3)
    elif kind == "hard voting":
        model = MultiTaskEnsemble([MultiTaskNet(tasks=tasks, **SMALL)], n_seeds=3, voting="hard")
    else:  # members fitted on other rows (own codes and quantiles), a TabM, temperatures
        model = MultiTaskEnsemble(
            [MultiTaskNet(tasks=tasks, **SMALL),
             MultiTaskNet(tasks=tasks, architecture="tabm", temperature_scaling=True,
                          min_frequency=5, **SMALL)], cv=3, threshold="accuracy", random_state=0)
    model.fit(X, y)
    onx = to_onnx(model, X.iloc[:5])
    assert [o.name for o in onx.graph.output] == [
        "price", "sold", "sold_proba", "grade", "grade_proba", "labels", "labels_proba"]
    assert_parity(model, onx, X_new)
    assert_parity(model, onx, X)
    if kind != "seeds":  # the members differ: the ONNX model is not one member's
        members = [run(to_onnx(m, X.iloc[:5]), X)["sold_proba"] for m in model.estimators_]
        assert not np.allclose(members[0], members[1], atol=1e-4)


def test_parity_ensemble_in_a_pipeline_of_arrays():
    from skmtl import MultiTaskEnsemble

    rng = np.random.RandomState(2)
    X = rng.normal(size=(N, 3))
    Y = np.column_stack([X[:, 0] * 3 + 1, X[:, 1] - X[:, 2]])
    pipe = Pipeline([("scale", StandardScaler()), ("ens", MultiTaskEnsemble(
        [MultiTaskRegressor(**SMALL), MultiTaskRegressor(architecture="mmoe", **SMALL)]))])
    pipe.fit(X, Y)
    onx = to_onnx(pipe, X[:3])
    got = run(onx, X)
    np.testing.assert_allclose(np.column_stack([got["0"], got["1"]]), pipe.predict(X),
                               rtol=1e-5, atol=1e-5)


def test_parity_task_grouping(table):
    from skmtl import TaskGrouping

    X, y, X_new = table
    model = TaskGrouping(MultiTaskNet(threshold="accuracy", **SMALL),
                         n_groups=2, affinity_epochs=2).fit(X, y)
    assert model.n_groups_ == 2
    onx = to_onnx(model, X.iloc[:5])
    # outputs in y's order, whichever group predicts each task
    assert [o.name for o in onx.graph.output] == [
        "price", "sold", "sold_proba", "grade", "grade_proba", "l1", "l1_proba", "l2",
        "l2_proba"]
    assert_parity(model, onx, X_new)


def test_parity_task_grouping_with_a_multilabel_task(table):
    from skmtl import TaskGrouping
    from skmtl.tasks import MultiLabel

    X, y, X_new = table
    tags = MultiLabel(["l1", "l2"], name="tags")
    model = TaskGrouping(MultiTaskNet(tasks=[tags], **SMALL), n_groups=2,
                         affinity=np.array([[0, 1, 0, 0], [1, 0, 0, 0], [0, 0, 0, 1],
                                            [0, 0, 1, 0.0]])).fit(X, y)
    assert model.groups_ == [["price", "sold"], ["grade", "tags"]]
    onx = to_onnx(model, X.iloc[:5])
    assert [o.name for o in onx.graph.output] == [
        "price", "sold", "sold_proba", "grade", "grade_proba", "tags", "tags_proba"]
    assert_parity(model, onx, X_new)


def test_ensembles_whose_members_read_columns_differently_are_refused(table):
    from skmtl import MultiTaskEnsemble

    X, y, _ = table
    X = X[["size", "visits"]]
    model = MultiTaskEnsemble([MultiTaskNet(**SMALL),
                               MultiTaskNet(categorical_features=["visits"], **SMALL)]).fit(
        X, y[["price"]])
    with pytest.raises(TypeError, match=r"read X columns \['visits'\] in different ways"):
        to_onnx(model, X.head())


def test_parity_columns_held_by_pyarrow():
    from tables import pandas_and_arrow

    _, arrow = pandas_and_arrow(120)
    y = pd.DataFrame({"r": arrow["count"].astype(float) * 2,
                      "c": np.where(arrow["num"].fillna(0) > 0, "up", "down")})
    model = MultiTaskNet(**SMALL).fit(arrow, y)
    onx = to_onnx(model, arrow.head(5))
    kinds = {i.name: i.type.tensor_type.elem_type for i in onx.graph.input}
    assert kinds["when"] == kinds["zoned"] == kinds["day"] == onnx.TensorProto.INT64
    assert kinds["took"] == onnx.TensorProto.DOUBLE
    assert kinds["text"] == kinds["kind"] == onnx.TensorProto.STRING
    assert_parity(model, onx, arrow)
    assert_parity(model, onx, pandas_and_arrow(40, seed=1)[1])


def test_parity_of_a_stream_with_declared_categories():
    """The categories a category dtype declared in the first partial_fit call (none of
    whose rows it held) have codes of their own in the exported graph too."""
    rng = np.random.default_rng(0)
    n = 120
    values = np.where(np.arange(n) < 60, rng.choice(["u", "v"], n), rng.choice(["w", "z"], n))
    X = pd.DataFrame({"a": rng.normal(size=n),
                      "c": pd.Categorical(values, categories=["u", "v", "w", "z"])})
    y = pd.DataFrame({"r": X["a"] + 3.0 * (X["c"] == "w"), "b": X["c"].isin(["v", "z"])})
    model = MultiTaskNet(**SMALL).partial_fit(X[:60], y[:60])
    model.partial_fit(X[60:], y[60:])
    assert list(model.preprocessor_.categories_[0]) == ["u", "v", "w", "z"]
    assert_parity(model, to_onnx(model, X), X)
