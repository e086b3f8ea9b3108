"""Raw DataFrames in: the fitted column encoding (skmtl.tabular.TabularEncoder), the
network's input layer (FeatureEmbedding), and how both combine with the rest of skmtl."""

from __future__ import annotations

import pickle
import re
import warnings

import numpy as np
import pandas as pd
import pytest
import torch
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from rtdl_num_embeddings import PiecewiseLinearEmbeddings, compute_bins
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV, KFold
from sklearn.utils._param_validation import InvalidParameterError
from tables import pandas_and_arrow

from skmtl import MultiTaskClassifier, MultiTaskNet, MultiTaskRegressor
from skmtl.architectures import ARCHITECTURES
from skmtl.tabular import (
    BIN_EDGES,
    FeatureEmbedding,
    TabularEncoder,
    distinct_value_bins,
    embedding_dim,
    mass_aware_bins,
    piecewise_linear_bins,
)
from skmtl.tabular._encoder import is_categorical_dtype
from skmtl.transfer import shared_trunk

FAST = {"max_epochs": 3, "device": "cpu", "random_state": 0, "hidden_layer_sizes": (16,)}
N = 240


def _table(seed: int = 0, n: int = N) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    X = pd.DataFrame({
        "age": rng.normal(40, 10, n),
        "city": rng.choice(["paris", "rome", "oslo"], n).astype(object),
        "income": rng.lognormal(3, 1, n),
        "grade": pd.Categorical(rng.choice(["a", "b", "c", "d"], n)),
        "member": rng.integers(0, 2, n).astype(bool),
    })
    X.loc[X.index[::9], "age"] = np.nan
    X.loc[X.index[::13], "city"] = None
    return X


def _targets(X: pd.DataFrame, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed + 1)
    score = X["age"].fillna(40) / 10 + (X["city"] == "rome") * 2 + (X["grade"] == "a")
    return pd.DataFrame({
        "spend": score + rng.normal(0, 0.1, len(X)),
        "churn": np.where(score > score.median(), "yes", "no"),
    }, index=X.index)


# -------------------------------------------------------------------------- the encoder
def test_encoder_layout_codes_and_summary():
    X = _table()
    enc = TabularEncoder().fit(X)
    assert enc.numeric_ == [0, 2] and enc.binary_ == [4] and enc.indicators_ == [0]
    assert enc.categorical_ == [1, 3]
    assert [list(c) for c in enc.categories_] == [["oslo", "paris", "rome"], ["a", "b", "c", "d"]]
    assert enc.cardinalities_ == [4, 5]
    out = enc.transform(X)
    assert out.dtype == np.float32 and out.shape == (N, 6)
    assert list(enc.get_feature_names_out()) == ["age", "income", "member", "age__missing",
                                                 "city", "grade"]
    # city: oslo=1, paris=2, rome=3, missing=0
    city = X["city"].map({"oslo": 1, "paris": 2, "rome": 3}).fillna(0).to_numpy()
    np.testing.assert_array_equal(out[:, 4], city)
    np.testing.assert_array_equal(out[:, 3], X["age"].isna().to_numpy())
    np.testing.assert_array_equal(out[:, 2], X["member"].to_numpy())
    assert (out[X["age"].isna().to_numpy(), 0] == 0).all()  # missing -> centre
    summary = enc.summary()
    assert summary.loc["city", "kind"] == "categorical" and summary.loc["city", "n_categories"] == 3
    assert summary.loc["age", "missing_indicator"] and summary.loc["member", "kind"] == "binary"


def test_unseen_and_missing_categories_get_code_0():
    X = _table()
    enc = TabularEncoder().fit(X)
    new = X.iloc[:3].copy()
    new["city"] = ["berlin", None, "rome"]
    new["grade"] = pd.Categorical(["z", "a", None])
    out = enc.transform(new)
    np.testing.assert_array_equal(out[:, 4], [0, 0, 3])
    np.testing.assert_array_equal(out[:, 5], [0, 1, 0])


def test_all_missing_numeric_column_and_explicit_categorical_features():
    X = _table().assign(empty=np.nan, zip=np.tile([75001, 75002, 10115], N // 3))
    enc = TabularEncoder(categorical_features=["city", "grade", "zip"]).fit(X)
    summary = enc.summary()
    assert summary.loc["zip", "kind"] == "categorical" and summary.loc["zip", "n_categories"] == 3
    assert summary.loc["empty", "missing_indicator"]
    out = enc.transform(X)
    assert np.isfinite(out).all()
    with pytest.raises(ValueError, match=r"categorical_features names column 'town'.*X's columns"):
        TabularEncoder(categorical_features=["town"]).fit(X)
    mask = np.zeros(X.shape[1], dtype=bool)
    mask[[1, 3]] = True
    assert TabularEncoder(categorical_features=mask).fit(X).categorical_ == [1, 3]
    with pytest.raises(ValueError, match=r"X column 'grade' \(category\) is treated as numeric"):
        TabularEncoder(categorical_features=[1]).fit(X)


def test_two_valued_columns_map_unseen_values_to_the_nearer_end():
    """A column with two values in fit (a count that was only 0 or 1, a flag) maps them to
    0 / 1; at predict a value outside the pair goes to the nearer end (2 children read as
    1, not as 0), one in between linearly, a missing one to 0 (with its indicator)."""
    X = pd.DataFrame({"kids": [0.0, 1, 0, 1, np.nan, 1], "flag": [True, False] * 3,
                      "const": [3.0] * 6, "x": np.arange(6.0)})
    enc = TabularEncoder().fit(X)
    assert list(enc.summary()["kind"]) == ["binary", "binary", "binary", "numeric"]
    new = pd.DataFrame({"kids": [2, -1, 0.5, np.nan, 1, 0], "flag": [True, False] * 3,
                        "const": [3.0, 4, 2, np.nan, 3, 3], "x": np.arange(6.0)})
    out = enc.transform(new)
    kids, flag, const, indicator = out[:, 1], out[:, 2], out[:, 3], out[:, 4]
    np.testing.assert_array_equal(kids, [1, 0, 0.5, 0, 1, 0])
    np.testing.assert_array_equal(indicator, [0, 0, 0, 1, 0, 0])
    np.testing.assert_array_equal(flag, [1, 0] * 3)
    np.testing.assert_array_equal(const, np.zeros(6))  # one value in fit: no information


@pytest.mark.parametrize("transform", ["quantile", "robust", "standard", "none"])
def test_numeric_transforms(transform):
    X = _table()
    out = TabularEncoder(numeric_transform=transform).fit(X).transform(X)
    income = out[:, 1]
    if transform == "none":
        np.testing.assert_allclose(income, X["income"], rtol=1e-6)
    elif transform == "quantile":
        assert abs(np.median(income)) < 0.05 and income.std() == pytest.approx(1, abs=0.15)
    elif transform == "robust":
        assert abs(np.median(income)) < 1e-6
    else:
        assert abs(income.mean()) < 1e-5 and income.std() == pytest.approx(1, abs=1e-3)


# ------------------------------------------------------------------------ the input layer
@pytest.mark.parametrize("numeric, width", [(None, 2), ("periodic", 2 * 24),
                                            ("piecewise_linear", 2 * 16)])
def test_feature_embedding_width_parameters_and_gradients(numeric, width):
    X = torch.as_tensor(TabularEncoder().fit(_table()).transform(_table()))
    layer = FeatureEmbedding(2, 2, [4, 5], numeric, X[:, :2])
    dims = embedding_dim(4) + embedding_dim(5)
    assert layer.output_width == width + 2 + dims
    out = layer(X)
    assert out.shape == (N, layer.output_width)
    assert sum(p.numel() for p in layer.embeddings.parameters()) == 4 * embedding_dim(4) + 5 * embedding_dim(5)
    out.pow(2).sum().backward()
    for table in layer.embeddings:
        assert table.weight.grad.abs().sum() > 0
    if numeric is not None:
        assert all(p.grad is not None for p in layer.numeric.parameters())


def test_embedding_dim_rule():
    assert [embedding_dim(c) for c in (2, 4, 10, 100, 10_000)] == [2, 3, 6, 21, 32]


def test_piecewise_linear_bins_rule():
    rows = (3, 40, 192, 20_000, 47_999, 48_000, 90_500, 128_000, 2_000_000)
    assert [piecewise_linear_bins(n) for n in rows] == [2, 10, 48, 48, 48, 48, 90, 128, 128]


def _bins_of(model):
    return model.net_.module_.trunk[0].numeric.impl.weight.shape[1]


@pytest.mark.parametrize("n_bins, expected", [("auto", 48), (8, 8), (10_000, 499)])
def test_n_bins_reaches_the_piecewise_linear_embedding(n_bins, expected):
    rng = np.random.default_rng(0)
    X = pd.DataFrame({"a": rng.normal(size=500), "b": rng.uniform(size=500)})
    y = pd.DataFrame({"r": X["a"] + rng.normal(scale=0.1, size=500), "c": X["b"] > 0.5})
    model = MultiTaskNet(n_bins=n_bins, max_epochs=2, early_stopping=False,
                         random_state=0).fit(X, y)
    assert _bins_of(model) == expected  # more bins than rows - 1: as many as compute_bins allows


@pytest.mark.filterwarnings("ignore:.*bin edges:UserWarning")  # rtdl: a one-bin column
def test_bin_rules_on_a_mostly_zero_column_and_a_continuous_one():
    rng = np.random.default_rng(0)
    gains = np.r_[np.zeros(960), rng.choice([3.0, 7.0, 11.0, 20.0, 50.0], 40)]
    X = torch.tensor(np.c_[gains, rng.normal(size=1000)])
    rows = compute_bins(X.float(), n_bins=16)
    assert len(rows[0]) == 2  # 96 % zeros: the row quantiles leave one bin, zero to 50
    # distinct values, each counted once: all 5 are edges
    assert distinct_value_bins(X, 16)[0].tolist() == [0.0, 3.0, 7.0, 11.0, 20.0, 50.0]
    # mass-aware: zero (96 % > 1/16 of the rows) is an edge; the 40 other rows get the
    # 15 bins left, as many as their 5 values allow
    masses = mass_aware_bins(X, 16)
    assert masses[0].tolist() == [0.0, 3.0, 7.0, 11.0, 20.0, 50.0]
    # no point mass: the row quantiles' edges, by either rule (all values distinct)
    for rule in (distinct_value_bins, mass_aware_bins):
        torch.testing.assert_close(rule(X, 16)[1], rows[1])
        assert all(b.dtype == torch.float32 for b in rule(X, 16))


def test_mass_aware_bins_keep_the_row_quantiles_of_the_other_rows():
    rng = np.random.default_rng(2)
    other = rng.normal(size=300)
    column = np.r_[np.zeros(700), other]
    (edges,) = mass_aware_bins(torch.tensor(column[:, None]), 11)
    # one mass (zero) and 10 bins over the 300 other rows, at their quantiles
    expected = np.unique(np.r_[0.0, np.quantile(other, np.linspace(0, 1, 11))])
    np.testing.assert_allclose(edges.numpy(), expected.astype(np.float32), rtol=1e-6)
    # a value under 1/n_bins of the rows is no mass: these are the plain row quantiles
    few = np.r_[np.zeros(20), other]
    (plain,) = mass_aware_bins(torch.tensor(few[:, None]), 11)
    np.testing.assert_allclose(plain.numpy(), np.quantile(few, np.linspace(0, 1, 12)),
                               rtol=1e-6, atol=1e-7)



def test_bin_quantiles_match_torch_quantile_without_its_size_limit():
    from skmtl.tabular._embedding import _quantiles

    values = torch.sort(torch.randn(1001, dtype=torch.float64)).values
    ranks = torch.linspace(0, 1, 17, dtype=torch.float64)
    torch.testing.assert_close(_quantiles(values, ranks), torch.quantile(values, ranks))
    # torch.quantile refuses more than 2 ** 24 values; the sorted-index form does not
    big = torch.arange(2 ** 24 + 3, dtype=torch.float64)
    assert _quantiles(big, torch.tensor([0.0, 0.5, 1.0], dtype=torch.float64)).tolist() == [
        0.0, (2 ** 24 + 2) / 2, 2 ** 24 + 2]

@pytest.mark.parametrize("rule", [distinct_value_bins, mass_aware_bins])
def test_bin_rules_edge_cases(rule):
    X = torch.tensor([[2.0, 0.0], [2.0, 1.0], [2.0, 0.0]])
    assert [b.tolist() for b in rule(X, 8)] == [[2.0, 3.0], [0.0, 1.0]]
    with pytest.raises(ValueError, match="finite"):
        rule(torch.tensor([[0.0], [np.nan]]), 4)
    with pytest.raises(ValueError, match="2-D"):
        rule(torch.zeros(5), 4)


@settings(max_examples=60, deadline=None)
@given(values=st.lists(st.integers(-50, 50), min_size=2, max_size=300),
       n_bins=st.integers(1, 40))
def test_bin_rules_properties(values, n_bins):
    column = np.asarray(values, dtype=float)
    distinct = np.unique(column)
    for rule in (distinct_value_bins, mass_aware_bins):
        (edges,) = rule(torch.tensor(column[:, None]), n_bins)
        assert len(edges) >= 2 and bool((edges[1:] > edges[:-1]).all())
        assert len(edges) <= n_bins + 1 or len(distinct) == 1
        if len(distinct) > 1:  # the edges span the values
            assert edges[0] == distinct[0] and edges[-1] == distinct[-1]
    (edges,) = distinct_value_bins(torch.tensor(column[:, None]), n_bins)
    if 1 < len(distinct) <= n_bins + 1:  # every value is an edge when few
        assert edges.tolist() == distinct.tolist()
    elif len(distinct) > 1:
        assert len(edges) == n_bins + 1
    (edges,) = mass_aware_bins(torch.tensor(column[:, None]), n_bins)
    values_, counts = np.unique(column, return_counts=True)
    masses = values_[counts * n_bins > len(column)]
    assert set(masses.tolist()) <= set(edges.tolist())  # every point mass is an edge


def _gains_table(n: int = 400) -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(1)
    gains = np.where(rng.uniform(size=n) < 0.9, 0.0, rng.choice([5.0, 9.0, 30.0, 80.0], n))
    X = pd.DataFrame({"gains": gains, "a": rng.normal(size=n)})
    y = pd.DataFrame({"r": X["a"] + (X["gains"] > 20), "c": X["gains"] > 7})
    return X, y


@pytest.mark.parametrize("bin_edges", ["mass_aware", "distinct", "quantile"])
def test_bin_edges_reach_the_piecewise_linear_embedding(bin_edges):
    X, y = _gains_table()
    model = MultiTaskNet(bin_edges=bin_edges, n_bins=16, max_epochs=1, early_stopping=False,
                         random_state=0, device="cpu").fit(X, y)
    numeric = torch.as_tensor(model.preprocessor_.transform(X)[:, :2])
    rules = {"mass_aware": mass_aware_bins, "distinct": distinct_value_bins,
             "quantile": lambda X, n: compute_bins(X.float(), n_bins=n)}
    bins = rules[bin_edges](numeric, 16)
    expected = PiecewiseLinearEmbeddings(bins, 16, activation=False, version="B").impl
    impl = model.net_.module_.trunk[0].numeric.impl
    torch.testing.assert_close(impl.weight, expected.weight)
    torch.testing.assert_close(impl.bias, expected.bias)
    # the mostly-zero column: each of its 5 values is an edge, but 3 edges at row quantiles
    values = set(torch.unique(numeric[:, 0].float()).tolist())
    assert (len(bins[0]) == 3) if bin_edges == "quantile" else values <= set(bins[0].tolist())



@pytest.mark.parametrize("architecture", sorted(ARCHITECTURES))
@pytest.mark.parametrize("bin_edges", BIN_EDGES)
def test_bin_edges_with_each_architecture_missing_labels_partial_fit_and_warm_start(
        bin_edges, architecture):
    X, y = _gains_table(160)
    y = y.astype({"c": object})
    y.loc[y.index[::3], "c"] = None
    y.loc[y.index[::5], "r"] = np.nan
    model = MultiTaskNet(architecture=architecture, bin_edges=bin_edges, n_bins=16,
                         hidden_layer_sizes=(8,), max_epochs=2, batch_size=32,
                         early_stopping=False, random_state=0, device="cpu").fit(X, y)
    numeric = torch.as_tensor(model.preprocessor_.transform(X)[:, :2])
    rules = {"mass_aware": mass_aware_bins, "distinct": distinct_value_bins,
             "quantile": lambda X, n: compute_bins(X.float(), n_bins=n)}
    expected = PiecewiseLinearEmbeddings(rules[bin_edges](numeric, 16), 16, activation=False,
                                         version="B").impl.weight

    def embeddings():  # every input layer's (one per tower under "separate")
        found = [m.impl.weight.detach().clone() for m in model.net_.module_.modules()
                 if isinstance(m, PiecewiseLinearEmbeddings)]
        assert found
        return found

    for weight in embeddings():
        torch.testing.assert_close(weight, expected)
    model.partial_fit(X, y)  # the bins are fitted state: kept by partial_fit and warm_start
    model.set_params(warm_start=True, max_epochs=1).fit(X, y)
    for weight in embeddings():
        torch.testing.assert_close(weight, expected)
    pred = model.predict(X)
    assert pred.index.equals(X.index) and list(pred.columns) == ["r", "c"]
    assert np.isfinite(pred["r"].to_numpy(dtype=float)).all()
    assert set(pred["c"]) <= {True, False}

def test_bin_edges_is_validated_and_fixed_for_warm_starts():
    X, y = _gains_table(200)
    with pytest.raises(InvalidParameterError, match="bin_edges"):
        MultiTaskNet(bin_edges="uniform").fit(X, y)
    with pytest.raises(ValueError, match="bin_edges"):
        FeatureEmbedding(1, 0, [], "piecewise_linear", torch.zeros(4, 1), bin_edges="uniform")
    model = MultiTaskNet(bin_edges="quantile", max_epochs=1, warm_start=True,
                         random_state=0).fit(X, y)
    model.set_params(bin_edges="mass_aware")
    with pytest.raises(ValueError, match="bin_edges"):
        model.fit(X, y)


def test_n_bins_is_validated_and_fixed_for_warm_starts():
    X = pd.DataFrame({"a": np.arange(200.0)})
    y = pd.DataFrame({"r": np.arange(200.0)})
    with pytest.raises(ValueError, match="n_bins"):
        MultiTaskNet(n_bins=1).fit(X, y)
    model = MultiTaskNet(n_bins=8, max_epochs=1, warm_start=True, random_state=0).fit(X, y)
    model.set_params(n_bins=16)
    with pytest.raises(ValueError, match="n_bins"):
        model.fit(X, y)


# ----------------------------------------------------------------------- the estimators
def test_category_dtype_and_object_strings_give_the_same_model():
    X = _table()
    y = _targets(X)
    as_category = X.assign(city=X["city"].astype("category"))
    as_strings = X.assign(grade=X["grade"].astype(object))
    a = MultiTaskNet(**FAST).fit(as_category, y).predict(as_category)
    b = MultiTaskNet(**FAST).fit(as_strings, y).predict(as_strings)
    pd.testing.assert_frame_equal(a, b)


def test_raw_frame_fits_predicts_keeps_index_and_names():
    X = _table()
    X.index = pd.RangeIndex(1000, 1000 + N)[::-1]
    y = _targets(X)
    model = MultiTaskNet(max_epochs=40, device="cpu", random_state=0).fit(X[:200], y[:200])
    assert list(model.feature_names_in_) == list(X.columns) and model.n_features_in_ == 5
    pred = model.predict(X[200:])
    assert pred.index.equals(X.index[200:])
    assert (pred["churn"] == y["churn"][200:]).mean() > 0.8
    residual = pred["spend"] - y["spend"][200:]  # the users' habit: pairs rows by index
    assert residual.abs().mean() < y["spend"].std()
    with pytest.raises(ValueError, match="feature names"):
        model.predict(X[200:].rename(columns={"city": "town"}))


def test_a_category_unseen_in_fit_does_not_break_predict():
    X = _table()
    model = MultiTaskNet(**FAST).fit(X, _targets(X))
    new = X.iloc[:4].assign(city=["berlin", "rome", "lima", None])
    assert model.predict(new).shape == (4, 2)


@pytest.mark.parametrize("architecture", ["shared_bottom", "separate", "mmoe", "cgc", "ple",
                                          "cross_stitch", "tabm"])
@pytest.mark.parametrize("numeric_embedding", [None, "periodic"])
def test_every_architecture_reads_a_raw_frame_with_missing_labels(architecture,
                                                                  numeric_embedding):
    X = _table()
    y = _targets(X)
    y.loc[y.index[::3], "spend"] = np.nan
    y.loc[y.index[1::4], "churn"] = None
    model = MultiTaskNet(architecture=architecture, numeric_embedding=numeric_embedding,
                         **FAST).fit(X, y)
    embeddings = [m for m in model.net_.module_.modules() if isinstance(m, FeatureEmbedding)]
    # one shared input layer; "separate" gives each task its own
    assert len(embeddings) == (2 if architecture == "separate" else 1)
    assert model.predict(X).notna().all().all()


@pytest.mark.parametrize("weighting", ["uncertainty", "gradnorm", "mgda", "upgrad"])
def test_weightings_and_freeze_with_embeddings(weighting):
    X = _table()
    y = _targets(X)
    y.loc[y.index[::2], "spend"] = np.nan
    model = MultiTaskNet(weighting=weighting, numeric_embedding="piecewise_linear",
                         **FAST).fit(X, y)
    before = {k: v.clone() for k, v in model.net_.module_.state_dict().items()}
    model.set_params(warm_start=True, freeze="trunk").fit(X, y)
    after = model.net_.module_.state_dict()
    trunk = [k for k in before if k.startswith("trunk.")]
    assert trunk and all(torch.equal(before[k], after[k]) for k in trunk)  # embeddings too
    assert any(not torch.equal(before[k], after[k]) for k in before if k.startswith("heads."))


def test_partial_fit_reuses_the_fitted_encoding():
    X = _table()
    y = _targets(X)
    model = MultiTaskNet(**FAST).partial_fit(X[:120], y[:120])
    encoder = model.preprocessor_
    later = X[120:].assign(city="berlin")  # only unseen categories in the second batch
    model.partial_fit(later, y[120:])
    assert model.preprocessor_ is encoder and model.n_epochs_ == 2
    assert encoder.categories_[0].tolist() == ["oslo", "paris", "rome"]


def test_unseen_categories_lists_each_columns_new_values_in_order():
    X, _ = _rare_table()
    X = X.assign(when=pd.date_range("2020-01-01", periods=len(X)))
    enc = TabularEncoder(min_frequency=3).fit(X)
    later = X.head(6).assign(plane=["zz", "r00", None, "a", "yy", "zz"],
                             when=pd.date_range("2030-01-01", periods=6))  # new days: expected
    assert enc.unseen_categories(later) == {"plane": ["zz", "yy"]}  # r00: rare, not unseen
    assert enc.unseen_categories(X) == {}


def test_training_on_categories_the_encoding_did_not_see_warns():
    """partial_fit and warm starts keep the encoding of the first fit, and a transferred
    trunk brings its source's: categories new to it read one code, which the user is told
    (naming the column and values); predict stays silent, as for any unseen category."""
    X = _table()
    y = _targets(X)
    model = MultiTaskNet(**FAST).partial_fit(X[:120], y[:120])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model.partial_fit(X[120:].assign(city=None), y[120:])  # missing values: seen
        model.predict(X.assign(city="berlin"))
    many = [f"c{k}" for k in (6, 3, 5, 0, 4, 1, 2)] * 20  # listed sorted: one message
    with pytest.warns(UserWarning, match=re.escape(
            "the fitted encoding did not see ('city': ['c0', 'c1', 'c2', 'c3', 'c4'] and 2 "
            "more)")) as caught:
        model.partial_fit(X[120:].assign(city=many[:120]), y[120:])
    assert "category_dropout" in str(caught[0].message)
    assert caught[0].filename == __file__  # points at the user's call
    warm = MultiTaskNet(warm_start=True, **FAST).fit(X, y)
    with pytest.warns(UserWarning, match=re.escape("did not see ('city': ['berlin'])")):
        warm.fit(X.assign(city="berlin"), y)
    source = MultiTaskNet(**FAST).fit(X, y)
    with pytest.warns(UserWarning, match=re.escape(
            "a transferred trunk's encoding did not see ('city': ['berlin'])")):
        MultiTaskNet(trunk=shared_trunk(source), **FAST).fit(X.assign(city="berlin"), y)


def test_out_of_range_lists_the_values_the_encoding_reads_at_its_ends():
    X = pd.DataFrame({"t": np.arange(10.0), "flag": [0.0, 1.0] * 5, "one": 3.0,
                      "empty": np.nan, "day": pd.date_range("2024-01-01", periods=10)})
    enc = TabularEncoder().fit(X)
    later = pd.DataFrame({"t": [-1.0, 5.0, 20.0, np.nan], "flag": [0.0, 2.0, 1.0, 1.0],
                          "one": [3.0, 3.0, 3.0, 4.0], "empty": [np.nan, 1.0, np.nan, 2.0],
                          "day": pd.date_range("2024-01-09", periods=4)})
    found = enc.out_of_range(later)
    assert found["t"] == (2 / 3, 0.0, 9.0)  # missing values not counted
    assert found["flag"] == (0.25, 0.0, 1.0) and found["one"] == (0.25, 3.0, 3.0)
    share, low, high = found["empty"]  # no value in fit: every value is outside
    assert share == 1.0 and np.isnan(low) and np.isnan(high)
    assert found["day.dayofyear"] == (0.5, 1.0, 10.0) and found["day.day"] == (0.5, 1.0, 10.0)
    assert "day.month" not in found and "day.year" not in found  # January 2024 still
    assert enc.out_of_range(X) == {}
    # robust and standard scaling keep values outside the range apart: not listed
    for transform in ("robust", "standard"):
        scaled = TabularEncoder(numeric_transform=transform).fit(X).out_of_range(later)
        assert "t" not in scaled and "day.dayofyear" not in scaled and "flag" in scaled


def test_a_time_ordered_stream_warns_that_its_first_chunk_fixed_the_numbers_range():
    """The encoding is fitted on the first partial_fit call: in a stream ordered by time,
    later values lie beyond that call's range and read as its end (the quantile transform
    clips), so the network cannot learn them apart. Measured on a 6,000-row stream of 20
    chunks ordered by t (target t + x): MAE 4.3 over the whole range, against 0.22 with
    numeric_transform='standard'."""
    rng = np.random.default_rng(0)
    n = 400
    X = pd.DataFrame({"t": np.linspace(0, 10, n), "x": np.tile(np.linspace(-1, 1, 100), 4)})
    y = pd.DataFrame({"r": X["t"] + X["x"]})
    model = MultiTaskNet(**FAST).partial_fit(X[:100], y[:100])
    with pytest.warns(UserWarning, match=re.escape(
            "values of numeric column(s) lie outside what its encoding saw in fit "
            "('t': [0, 2.4812])")) as caught:
        model.partial_fit(X[100:200], y[100:200])
    message = str(caught[0].message)
    assert "numeric_transform='standard' or 'robust'" in message
    assert caught[0].filename == __file__  # points at the user's call
    # the stream's later calls repeat the same message: shown once per model
    with warnings.catch_warnings(record=True) as repeated:
        warnings.simplefilter("always")
        model.partial_fit(X[200:300], y[200:300])
        model.partial_fit(X[300:], y[300:])
    assert not [w for w in repeated if "lie outside" in str(w.message)]
    # the same stream, shuffled: a later chunk holds few values beyond the first's range
    order = rng.permutation(n)
    shuffled = MultiTaskNet(**FAST).partial_fit(X.iloc[order[:100]], y.iloc[order[:100]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for chunk in np.array_split(order[100:], 3):
            shuffled.partial_fit(X.iloc[chunk], y.iloc[chunk])
        shuffled.predict(X.assign(t=X["t"] * 100))  # predict stays silent
    # standard scaling keeps the order: only a column with one value in fit still warns
    scaled = MultiTaskNet(numeric_transform="standard", **FAST)
    scaled.partial_fit(X[:100].assign(year=2024.0), y[:100])
    with pytest.warns(UserWarning, match=re.escape("fit ('year': only 2024)")) as caught:
        scaled.partial_fit(X[100:200].assign(year=2025.0), y[100:200])
    assert "'t'" not in str(caught[0].message) and "'robust'" not in str(caught[0].message)
    # a warm start on new values and a transferred trunk's encoding warn too
    warm = MultiTaskNet(warm_start=True, **FAST).fit(X[:100], y[:100])
    with pytest.warns(UserWarning, match=re.escape("its encoding saw in fit ('t':")):
        warm.fit(X[100:], y[100:])
    with pytest.warns(UserWarning, match=re.escape(
            "outside what a transferred trunk's encoding saw in fit ('t':")):
        MultiTaskNet(trunk=shared_trunk(warm), **FAST).fit(X[200:], y[200:])


def test_array_after_frame_fit_and_arrays_encoded_like_frames():
    X = _table()
    y = _targets(X)
    model = MultiTaskNet(**FAST).fit(X, y)
    with pytest.warns(UserWarning, match="does not have valid feature names"):
        from_array = model.predict(X.to_numpy(dtype=object))
    pd.testing.assert_frame_equal(from_array.reset_index(drop=True),
                                  model.predict(X).reset_index(drop=True))
    # a numeric array is encoded as the DataFrame of the same values: the same model
    numeric = X[["age", "income", "member"]].astype(float)
    on_array = MultiTaskNet(**FAST).fit(numeric.to_numpy(), y)
    on_frame = MultiTaskNet(**FAST).fit(numeric, y)
    assert on_array.preprocessor_.columns_ == [0, 1, 2]
    assert on_array.preprocessor_.indicators_ == [0] and on_array.preprocessor_.binary_ == [2]
    np.testing.assert_array_equal(on_array.predict(numeric.to_numpy())["spend"],
                                  on_frame.predict(numeric)["spend"])
    assert sum(isinstance(m, FeatureEmbedding) for m in on_array.net_.module_.modules()) == 1
    plain = MultiTaskNet(numeric_embedding=None, **FAST).fit(numeric.to_numpy(), y)
    assert not any(isinstance(m, FeatureEmbedding) for m in plain.net_.module_.modules())
    embedded = MultiTaskNet(numeric_embedding="periodic", **FAST).fit(numeric.to_numpy(), y)
    assert sum(isinstance(m, FeatureEmbedding) for m in embedded.net_.module_.modules()) == 1
    # an object array of numbers is numeric; explicit categorical columns by position
    codes = np.column_stack([numeric.fillna(0).to_numpy(), np.tile([3, 7, 9], N // 3)])
    both = MultiTaskNet(categorical_features=[3], **FAST).fit(codes.astype(object), y)
    assert both.preprocessor_.categorical_ == [3] and both.preprocessor_.numeric_ == [0, 1]


@pytest.mark.parametrize("values, dtype, categorical", [
    (["a", "b", None, "a"], object, True),
    (["a", "b", None, "a"], "string", True),
    (["1", "2.5", None, "1"], object, False),  # numeric text
    (["1", "2.5", None, "1"], "string", False),
    ([1, "2", 3.5, None], object, False),  # numbers and numeric text mixed
    ([1, "x", 3.5, None], object, True),  # one value is not a number
    ([[1], [2], None, [1]], object, True),  # unhashable values: parsed row by row
    ([None, None, None, None], object, False),  # nothing to read: numeric, all missing
    ([pd.Timestamp("2024-01-01"), None, pd.Timestamp("2024-01-02 10:00"), None], object,
     False),  # timestamps in an object column: dates
])
def test_which_text_columns_are_categorical(values, dtype, categorical):
    column = pd.Series(values * 50, dtype=dtype)
    assert is_categorical_dtype(column) is categorical
    assert is_categorical_dtype(column.iloc[::-1].reset_index(drop=True)) is categorical


def test_pickle_clone_and_grid_search_on_a_raw_frame():
    X = _table()
    y = _targets(X)[["churn"]]
    model = MultiTaskClassifier(**FAST).fit(X, y)
    again = pickle.loads(pickle.dumps(model))
    pd.testing.assert_frame_equal(again.predict(X), model.predict(X))
    assert clone(model).get_params()["numeric_transform"] == "quantile"
    search = GridSearchCV(MultiTaskClassifier(**FAST),
                          {"numeric_embedding": [None, "periodic"],
                           "numeric_transform": ["quantile", "robust"]},
                          cv=KFold(2), error_score="raise").fit(X, y["churn"])
    assert np.isfinite(search.cv_results_["mean_test_score"]).all()


def test_regressor_with_categorical_only_table():
    X = _table()[["city", "grade"]]
    y = (X["city"] == "rome") * 3.0 + (X["grade"] == "b")
    model = MultiTaskRegressor(max_epochs=60, device="cpu", random_state=0).fit(X, y)
    assert model.score(X, y) > 0.9


def _bin_counts(model):
    from rtdl_num_embeddings import PiecewiseLinearEmbeddings

    return [m.impl.weight.shape[1] for m in model.net_.module_.modules()
            if isinstance(m, PiecewiseLinearEmbeddings)]


def _mixed_table_with_missing_labels(n=300):
    rng = np.random.default_rng(0)
    X = pd.DataFrame({"a": rng.normal(size=n), "b": rng.uniform(size=n),
                      "c": rng.choice(list("xyz"), n)})
    k = (X["b"] > 0.5).astype(object).where(rng.random(n) < 0.5)  # half the labels missing
    return X, pd.DataFrame({"r": X["a"] + rng.normal(scale=0.1, size=n), "k": k})


@pytest.mark.parametrize("architecture", ["shared_bottom", "separate", "mmoe", "cgc", "ple",
                                          "cross_stitch", "tabm"])
def test_n_bins_in_every_architecture_with_missing_labels(architecture):
    X, y = _mixed_table_with_missing_labels()
    model = MultiTaskNet(architecture=architecture, n_bins=6, max_epochs=2,
                         early_stopping=False, random_state=0).fit(X, y)
    counts = _bin_counts(model)  # separate: one input layer per task
    assert counts == [6] * (2 if architecture == "separate" else 1)
    assert model.predict(X).notna().all().all()


def test_n_bins_kept_by_partial_fit_and_refused_when_changed():
    X, y = _mixed_table_with_missing_labels()
    model = MultiTaskNet(n_bins=6, max_epochs=1, random_state=0)
    model.partial_fit(X[:100], y[:100]).partial_fit(X[100:], y[100:])
    assert _bin_counts(model) == [6]
    model.set_params(n_bins=8)
    with pytest.raises(ValueError, match="n_bins is 8 but the network was built with 6"):
        model.partial_fit(X, y)


# -------------------------------------------------------------------- rare categories
def _rare_table(n: int = 200, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``plane``: 3 common categories and 12 rare ones (1 - 3 rows each), some missing."""
    rng = np.random.default_rng(seed)
    rare = [f"r{k:02d}" for k in range(12) for _ in range(1 + k % 3)]  # 24 rows
    common = rng.choice(["a", "b", "c"], n - len(rare) - 10).tolist()
    plane = np.array(common + rare + [None] * 10, dtype=object)[rng.permutation(n)]
    X = pd.DataFrame({"plane": plane, "x": rng.normal(size=n)})
    y = pd.DataFrame({"r": X["x"] + (X["plane"] == "a"), "c": X["x"] > 0})
    return X, y


@pytest.mark.parametrize("min_frequency, threshold", [(3, 3), (0.015, 3), (1, 1), (None, 1)])
def test_min_frequency_groups_rare_categories_with_unseen_ones(min_frequency, threshold):
    X, _ = _rare_table()
    enc = TabularEncoder(min_frequency=min_frequency).fit(X)
    counts = X["plane"].value_counts()
    frequent = sorted(counts[counts >= threshold].index)
    infrequent = sorted(counts[counts < threshold].index)
    assert list(enc.categories_[0]) == frequent
    assert list(enc.infrequent_categories_[0]) == infrequent
    shared = int(bool(infrequent))
    assert enc.cardinalities_ == [len(frequent) + 1 + shared]
    new = pd.DataFrame({"plane": np.array(["a", "r00", "never", None, "c"], dtype=object),
                        "x": np.zeros(5)})
    codes = enc.transform(new)[:, -1]
    position = {k: i + 1 + shared for i, k in enumerate(frequent)}
    expected = [position["a"], position.get("r00", shared), shared, 0, position["c"]]
    np.testing.assert_array_equal(codes, expected)
    summary = enc.summary()
    assert summary.loc["plane", "n_categories"] == len(frequent)
    assert summary.loc["plane", "n_infrequent"] == len(infrequent)
    assert str(summary["n_categories"].dtype) == "Int64"  # counts, <NA> for other columns
    assert ("1 = infrequent or unseen" in summary.loc["plane", "encoding"]) == bool(shared)


def test_min_frequency_all_rare_column_and_category_dtype_give_the_same_codes():
    X, _ = _rare_table()
    as_category = X.assign(plane=X["plane"].astype("category"))
    a = TabularEncoder(min_frequency=4).fit(X)
    b = TabularEncoder(min_frequency=4).fit(as_category)
    np.testing.assert_array_equal(a.transform(X), b.transform(as_category))
    everything = TabularEncoder(min_frequency=10_000).fit(X)  # no category is frequent
    assert everything.cardinalities_ == [2] and len(everything.categories_[0]) == 0
    codes = everything.transform(X)[:, -1]
    np.testing.assert_array_equal(codes, X["plane"].notna().to_numpy().astype(np.float32))


@pytest.mark.parametrize("bad, error, message", [
    (0, ValueError, "an int must be >= 1"), (1.5, ValueError, "in \\(0, 1\\)"),
    (0.0, ValueError, "in \\(0, 1\\)"), ("rare", TypeError, "min_frequency='rare'"),
    (True, TypeError, "min_frequency=True")])
def test_min_frequency_is_validated(bad, error, message):
    X, y = _rare_table()
    with pytest.raises(error, match=message):
        TabularEncoder(min_frequency=bad).fit(X)
    # scikit-learn's Interval(Integral) admits True: the encoder refuses it
    with pytest.raises(error if bad is True else InvalidParameterError, match="min_frequency"):
        MultiTaskNet(min_frequency=bad).fit(X, y)


@pytest.mark.parametrize("architecture", sorted(ARCHITECTURES))
def test_an_unseen_category_reads_the_infrequent_embedding(architecture):
    """With min_frequency, a category unseen in fit predicts exactly as a rare one; without,
    exactly as a missing value; in every architecture, with missing labels."""
    X, y = _rare_table()
    y = y.astype({"c": object})
    y.loc[y.index[::4], "r"] = np.nan
    y.loc[y.index[1::5], "c"] = None
    row = X.iloc[[0]].assign(x=0.3)
    for min_frequency, twin in [(3, "r00"), (None, None)]:
        model = MultiTaskNet(architecture=architecture, min_frequency=min_frequency,
                             **FAST).fit(X, y)
        unseen = model.predict_proba_frame(row.assign(plane="never seen"))
        known = model.predict_proba_frame(row.assign(plane=twin))
        pd.testing.assert_frame_equal(unseen, known)
        other = model.predict_proba_frame(row.assign(plane="a"))
        assert not np.allclose(unseen.to_numpy(), other.to_numpy())
        tables = [m for m in model.net_.module_.modules() if isinstance(m, FeatureEmbedding)]
        assert tables and all(t.embeddings[0].num_embeddings
                              == model.preprocessor_.cardinalities_[0] for t in tables)


def test_min_frequency_is_kept_by_partial_fit_and_fixed_for_warm_starts():
    X, y = _rare_table()
    model = MultiTaskNet(min_frequency=3, **FAST).partial_fit(X[:100], y[:100])
    encoder = model.preprocessor_
    model.partial_fit(X[100:], y[100:])  # the encoding of the first call is kept
    assert model.preprocessor_ is encoder
    warm = MultiTaskNet(min_frequency=3, warm_start=True, **FAST).fit(X, y)
    warm.set_params(min_frequency=5)
    with pytest.raises(ValueError, match="min_frequency"):
        warm.fit(X, y)


@pytest.mark.parametrize("name, value, grid", [("min_frequency", 3, [None, 5]),
                                               ("category_dropout", 0.1, [0.0, 0.1])])
def test_encoding_parameters_pickle_clone_and_grid_search(name, value, grid):
    X, y = _rare_table()
    model = MultiTaskNet(**{name: value}, **FAST).fit(X, y)
    restored = pickle.loads(pickle.dumps(model))
    pd.testing.assert_frame_equal(restored.predict(X), model.predict(X))
    assert clone(model).get_params()[name] == value
    search = GridSearchCV(MultiTaskNet(**FAST), {name: grid},
                          cv=KFold(2), error_score="raise").fit(X, y)
    assert search.best_params_[name] in grid
    assert np.isfinite(search.cv_results_["mean_test_score"]).all()


@settings(max_examples=60, deadline=None)
@given(st.lists(st.sampled_from(["a", "b", "c", "d", "e", None]), min_size=1, max_size=40),
       st.one_of(st.none(), st.integers(1, 12), st.floats(0.01, 0.99)))
def test_min_frequency_codes_property(values, min_frequency):
    """Every row's code: 0 when missing; else its rank among the frequent categories after
    the shared code 1 (when some are infrequent), or 1 for an infrequent one."""
    assume(any(v is not None for v in values))  # an all-missing column is numeric
    X = pd.DataFrame({"k": np.array(values, dtype=object)})
    enc = TabularEncoder(min_frequency=min_frequency).fit(X)
    counts = X["k"].value_counts()
    need = (1 if min_frequency is None else min_frequency if isinstance(min_frequency, int)
            else int(np.ceil(min_frequency * len(X))))
    frequent = sorted(counts[counts >= need].index)
    shared = int((counts < need).any())
    expected = [0 if v is None else (frequent.index(v) + 1 + shared if v in frequent else 1)
                for v in values]
    np.testing.assert_array_equal(enc.transform(X)[:, 0], expected)
    assert enc.cardinalities_ == [len(frequent) + 1 + shared]


@pytest.mark.parametrize("max_categories", [None, 2, 3, 14, 15, 40])
def test_max_categories_keeps_the_most_frequent_categories(max_categories):
    X, _ = _rare_table()
    counts = X["plane"].value_counts()
    ranked = sorted(counts.index, key=lambda k: (-counts[k], k))  # ties: sorted order
    assert len(ranked) == 15
    kept = (ranked if max_categories is None or len(ranked) <= max_categories
            else ranked[:max_categories - 1])
    enc = TabularEncoder(max_categories=max_categories).fit(X)
    assert list(enc.categories_[0]) == sorted(kept)
    assert list(enc.infrequent_categories_[0]) == sorted(set(ranked) - set(kept))
    assert enc.cardinalities_[0] == len(kept) + 1 + (len(kept) < 15)
    assert enc.cardinalities_[0] <= (max_categories or 10**9) + 1  # + the missing code
    both = TabularEncoder(min_frequency=3, max_categories=14).fit(X)  # the limit after
    assert list(both.categories_[0]) == sorted(k for k in ranked if counts[k] >= 3)


@pytest.mark.parametrize("bad", [1, 0, 2.5, True])
def test_max_categories_is_validated_and_fixed_for_warm_starts(bad):
    X, y = _rare_table()
    with pytest.raises(ValueError, match="max_categories"):
        TabularEncoder(max_categories=bad).fit(X)
    if bad is not True:  # scikit-learn's Interval(Integral) admits True: the encoder refuses it
        with pytest.raises(InvalidParameterError, match="max_categories"):
            MultiTaskNet(max_categories=bad).fit(X, y)
    warm = MultiTaskNet(max_categories=8, warm_start=True, **FAST).fit(X, y)
    assert warm.preprocessor_.cardinalities_ == [9]
    warm.set_params(max_categories=4)
    with pytest.raises(ValueError, match="max_categories"):
        warm.fit(X, y)


# ------------------------------------------------------------------ category_dropout
def _dropout_layer(p: float) -> tuple[FeatureEmbedding, torch.Tensor]:
    """Two categorical columns (4 and 5 codes; unseen codes 0 and 1), every row at codes
    3 and 4."""
    torch.manual_seed(0)
    layer = FeatureEmbedding(0, 0, [4, 5], unseen_codes=[0, 1], category_dropout=p)
    return layer, torch.tensor([[3.0, 4.0]]).repeat(4000, 1)


def test_category_dropout_replaces_codes_by_the_unseen_code_in_training_only():
    layer, X = _dropout_layer(0.3)
    first, second = layer.embeddings
    width = first.embedding_dim
    out = layer.train()(X).detach()
    for table, known, unseen, part in [(first, 3, 0, out[:, :width]),
                                       (second, 4, 1, out[:, width:])]:
        is_known = torch.isclose(part, table.weight[known].detach()).all(1)
        is_unseen = torch.isclose(part, table.weight[unseen].detach()).all(1)
        assert bool((is_known ^ is_unseen).all())  # each row reads one of the two
        assert 0.27 < float(is_unseen.float().mean()) < 0.33  # with probability 0.3
    # the columns are replaced independently of each other
    both = (torch.isclose(out[:, :width], first.weight[0].detach()).all(1)
            & torch.isclose(out[:, width:], second.weight[1].detach()).all(1))
    assert 0.06 < float(both.float().mean()) < 0.12
    reference, _ = _dropout_layer(0.0)
    evaluated = layer.eval()(X)
    torch.testing.assert_close(evaluated, reference.eval()(X))  # same seed, same weights
    torch.testing.assert_close(evaluated, reference.train()(X))


def test_category_dropout_trains_the_embedding_unseen_categories_read():
    for p, trained in [(0.0, False), (0.2, True)]:
        layer, X = _dropout_layer(p)
        layer.train()(X).sum().backward()
        first, second = layer.embeddings
        assert bool(first.weight.grad[0].abs().sum() > 0) is trained
        assert bool(second.weight.grad[1].abs().sum() > 0) is trained
        assert float(first.weight.grad[1:3].abs().sum()) == 0  # no row reads codes 1, 2


@pytest.mark.parametrize("bad", [1.0, -0.1, 1.5])
def test_category_dropout_is_validated(bad):
    X, y = _rare_table()
    with pytest.raises(InvalidParameterError, match="category_dropout"):
        MultiTaskNet(category_dropout=bad).fit(X, y)
    with pytest.raises(ValueError, match="category_dropout"):
        FeatureEmbedding(0, 0, [3], category_dropout=bad)
    with pytest.raises(ValueError, match="unseen_codes has 1 entries for 2"):
        FeatureEmbedding(0, 0, [3, 4], unseen_codes=[0])


@pytest.mark.parametrize("architecture", sorted(ARCHITECTURES))
def test_category_dropout_with_each_architecture_missing_labels_partial_fit_and_warm_start(
        architecture):
    """Every input layer replaces with its column's unseen code (1 with a shared code of
    rare categories, else 0); predictions are deterministic; partial_fit and warm starts
    train with the current setting (e.g. set once new categories start to arrive)."""
    X, y = _rare_table()
    X = X.assign(city=np.where(np.arange(len(X)) % 3, "oslo", "rome"))
    y = y.astype({"c": object})
    y.loc[y.index[::4], "r"] = np.nan
    y.loc[y.index[1::5], "c"] = None
    model = MultiTaskNet(architecture=architecture, min_frequency=3, category_dropout=0.2,
                         **FAST).fit(X, y)
    assert model.preprocessor_.unseen_codes() == [1, 0]  # plane has rare ones, city not
    layers = [m for m in model.net_.module_.modules() if isinstance(m, FeatureEmbedding)]
    assert layers
    for layer in layers:
        assert layer.category_dropout == 0.2
        assert layer.unseen_codes.tolist() == [1, 0]
    new = X.assign(plane="never seen", city="bergen")
    pd.testing.assert_frame_equal(model.predict_proba_frame(new),
                                  model.predict_proba_frame(new))
    pd.testing.assert_frame_equal(model.predict_proba_frame(new),
                                  model.predict_proba_frame(X.assign(plane="r00", city=None)))
    model.partial_fit(X, y)
    assert all(layer.category_dropout == 0.2 for layer in layers)
    model.set_params(category_dropout=0.0).partial_fit(X, y)
    assert all(layer.category_dropout == 0.0 for layer in layers)
    model.set_params(warm_start=True, category_dropout=0.1).fit(X, y)
    assert all(layer.category_dropout == 0.1 for layer in layers)
    assert layers == [m for m in model.net_.module_.modules() if isinstance(m, FeatureEmbedding)]


def test_a_model_pickled_before_a_parameter_existed_predicts_and_warm_starts_as_it_did():
    """Its estimator, layers and recorded structure lack the parameter: each reads as the
    default, the behaviour it was trained with."""
    X, y = _rare_table()
    old = MultiTaskNet(warm_start=True, **FAST).fit(X, y)
    del old.__dict__["category_dropout"]
    del old._structure_["bin_edges"]  # as if built before bin_edges existed
    for layer in old.net_.module_.modules():
        if isinstance(layer, FeatureEmbedding):
            del layer.__dict__["category_dropout"]
    restored = pickle.loads(pickle.dumps(old))
    assert restored.get_params()["category_dropout"] == 0.0
    pd.testing.assert_frame_equal(restored.predict(X), old.predict(X))
    layer = next(m for m in restored.net_.module_.modules() if isinstance(m, FeatureEmbedding))
    encoded = torch.as_tensor(restored.preprocessor_.transform(X))
    torch.testing.assert_close(layer.train()(encoded), layer.eval()(encoded))  # no replacement
    restored.fit(X, y)  # bin_edges at its default: the network it was built with
    restored.set_params(bin_edges="quantile")
    with pytest.raises(ValueError, match="bin_edges is 'quantile' but the network was built "
                                         "with 'mass_aware'"):
        restored.fit(X, y)


def test_min_frequency_auto_groups_rare_categories_of_wide_columns_only():
    """"auto": 1 row in 500 (rounded up), in columns with more than 64 categories."""
    from skmtl.tabular import AUTO_MIN_CATEGORIES, AUTO_MIN_FREQUENCY

    assert (AUTO_MIN_FREQUENCY, AUTO_MIN_CATEGORIES) == (0.002, 64)
    rng = np.random.default_rng(0)
    n = 2000  # a category needs ceil(0.002 * 2000) = 4 rows
    wide = rng.choice([f"k{i:03d}" for i in range(300)], n).astype(object)
    narrow = np.array(["a"] * (n - 2) + ["b", "c"], dtype=object)  # 3 categories: b, c rare
    edge = np.array([f"e{i:02d}" for i in range(64)] * 31 + ["e00"] * (n - 64 * 31),
                    dtype=object)  # exactly 64 categories: kept whatever their counts
    X = pd.DataFrame({"wide": wide, "narrow": narrow, "edge": edge})
    enc = TabularEncoder(min_frequency="auto").fit(X)
    counts = X["wide"].value_counts()
    assert list(enc.categories_[0]) == sorted(counts[counts >= 4].index)
    assert list(enc.infrequent_categories_[0]) == sorted(counts[counts < 4].index)
    assert len(enc.infrequent_categories_[0]) > 0
    assert list(enc.categories_[1]) == ["a", "b", "c"] and len(enc.categories_[2]) == 64
    assert enc.cardinalities_ == [len(enc.categories_[0]) + 2, 4, 65]
    fraction = TabularEncoder(min_frequency=0.002).fit(X)  # every column
    assert list(fraction.categories_[1]) == ["a"]
    assert MultiTaskNet().get_params()["min_frequency"] == "auto"


# -- dates and durations ------------------------------------------------------------------
def _dated(n: int = N, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    X = _table(seed, n)
    start = pd.Timestamp("2023-11-20")
    X["booked"] = start + pd.to_timedelta(rng.integers(0, 90, n), unit="D")  # days only
    X["stamp"] = (start + pd.to_timedelta(rng.integers(0, 90 * 24 * 60, n), unit="min")
                  ).tz_localize("Europe/Lisbon", ambiguous="NaT", nonexistent="NaT")
    X["waited"] = pd.to_timedelta(rng.integers(0, 5_000, n), unit="s")
    X.loc[X.index[::17], "booked"] = pd.NaT
    return X


def _by_hand(X: pd.DataFrame) -> pd.DataFrame:
    """What the encoder derives from ``_dated``'s date and duration columns, by hand."""
    parts = {}
    for name in X.columns:
        column = X[name]
        if not pd.api.types.is_datetime64_any_dtype(column):
            parts[name] = (column.dt.total_seconds()
                           if pd.api.types.is_timedelta64_dtype(column) else column)
            continue
        for part, attribute in [("year", "year"), ("month", "month"), ("day", "day"),
                                ("dayofweek", "day_of_week"), ("dayofyear", "day_of_year")]:
            parts[f"{name}.{part}"] = getattr(column.dt, attribute).astype(float)
        if name == "stamp":  # times of day: hours as a number
            parts[f"{name}.hour"] = column.dt.hour + column.dt.minute / 60
        parts[f"{name}.date"] = column.dt.strftime("%Y-%m-%d").astype(object).where(
            column.notna(), None)
    return pd.DataFrame(parts, index=X.index)


def test_dates_become_numbers_and_the_day_as_a_category_as_if_given_by_hand():
    X = _dated()
    encoder = TabularEncoder(min_frequency="auto").fit(X)
    hand = TabularEncoder(min_frequency="auto").fit(_by_hand(X))
    assert encoder.input_columns_ == list(X.columns)
    assert encoder.columns_ == list(_by_hand(X).columns) == hand.columns_
    assert encoder.dates_ == {"booked": (False, True), "stamp": (True, True)}
    # the same encoding as the columns given by hand, on fitted and new rows
    np.testing.assert_array_equal(encoder.transform(X), hand.transform(_by_hand(X)))
    new = _dated(seed=3, n=60)
    np.testing.assert_array_equal(encoder.transform(new), hand.transform(_by_hand(new)))
    summary = encoder.summary()
    assert summary.loc["booked.date", "kind"] == "categorical"
    assert summary.loc["booked.year", "missing_indicator"]  # NaT: missing
    assert summary.loc["stamp.hour", "kind"] == "numeric"
    assert summary.loc["waited", "kind"] == "numeric"  # a duration: its seconds
    assert "booked" not in summary.index
    # a missing day reads the missing value's code
    day = encoder.columns_.index("booked.date")
    codes = encoder.transform(X)[:, -len(encoder.categorical_) + encoder.categorical_.index(day)]
    assert (codes[X["booked"].isna().to_numpy()] == 0).all()
    assert (codes[X["booked"].notna().to_numpy()] > 0).all()


def test_a_time_zone_keeps_its_local_hours():
    stamps = pd.Series(pd.to_datetime(["2024-07-01 09:30", "2024-07-01 18:00"]))
    local = pd.DataFrame({"t": stamps.dt.tz_localize("Europe/Lisbon")})
    hours = TabularEncoder(numeric_transform="none").fit(local)
    assert hours.dates_ == {"t": (True, True)}
    hour = hours.columns_.index("t.hour")
    values = hours.transform(local)
    assert sorted(values[:, hours.numeric_.index(hour)]) == [9.5, 18.0]


def test_dates_in_another_time_zone_read_fits_local_times_and_missing_zones_are_refused():
    """The same instants give the same parts whatever zone predict's dates are in; a zone
    where fit had none (or none where it had one) is refused, as pandas refuses to compare
    them, instead of reading other local hours without an error."""
    stamps = pd.Series(pd.date_range("2024-03-20 06:00", periods=40, freq="7h", tz="UTC"))
    X = pd.DataFrame({"t": stamps.dt.tz_convert("Asia/Kolkata"), "a": np.arange(40.0)})
    encoder = TabularEncoder().fit(X)
    assert [str(z) for z in encoder.date_zones_.values()] == ["Asia/Kolkata"]
    expected = encoder.transform(X)
    for zone in ["UTC", "America/New_York", "Europe/Lisbon"]:
        np.testing.assert_array_equal(
            encoder.transform(X.assign(t=X["t"].dt.tz_convert(zone))), expected)
    assert not np.array_equal(  # other local times do change the parts
        encoder.transform(X.assign(t=X["t"].dt.tz_localize(None).dt.tz_localize("UTC"))),
        expected)
    with pytest.raises(ValueError, match=r"X column 't' held dates in time zone "
                       r"'Asia/Kolkata' in fit, but has no time zone now; .*"
                       r"tz_localize\('Asia/Kolkata'\)"):
        encoder.transform(X.assign(t=X["t"].dt.tz_localize(None)))
    naive = TabularEncoder().fit(X.assign(t=X["t"].dt.tz_localize(None)))
    assert naive.date_zones_ == {"t": None}
    with pytest.raises(ValueError, match=r"X column 't' held dates without a time zone in "
                       r"fit, but has time zone 'Asia/Kolkata' now"):
        naive.transform(X)
    # an encoder pickled before zones were recorded reads dates in their own zone, as then
    old = pickle.loads(pickle.dumps(encoder))
    del old.__dict__["date_zones_"]
    old = pickle.loads(pickle.dumps(old))
    assert old.date_zones_ == {}
    np.testing.assert_array_equal(old.transform(X), expected)


def test_text_that_reads_as_dates_or_numbers_with_placeholders_is_flagged():
    """A CSV read without parse_dates gives dates as text, and a column of numbers with
    "?" for missing ones stays text: read as categories, silently, each is a category per
    value. The warning names the column and the conversion; codes, categories asked for,
    and columns entirely of numbers (numeric already) are not flagged."""
    rng = np.random.default_rng(0)
    n = 600
    age = rng.integers(17, 90, n).astype(str).astype(object)
    age[::50] = "?"
    days = pd.Timestamp("2020-01-01") + pd.to_timedelta(rng.integers(0, 700, n), unit="D")
    X = pd.DataFrame({
        "age": age,
        "iso": pd.Series(days).dt.strftime("%Y-%m-%d"),
        "stamp": pd.Series(days).dt.strftime("%Y-%m-%dT%H:%M:%S"),
        "us": pd.Series(days).dt.strftime("%m/%d/%Y"),
        "zip": pd.Series(rng.integers(1000, 99999, n)).astype(str).str.zfill(5),  # a code
        "shop": [f"shop{i}" for i in rng.integers(0, 300, n)],
        "few": rng.choice(["1", "2", "?"], n),  # too few values to tell
        "count": rng.integers(0, 500, n).astype(str),  # all numbers: numeric already
    })
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        encoder = TabularEncoder().fit(X)
    messages = [str(w.message) for w in caught if issubclass(w.category, UserWarning)]
    flagged = sorted(re.match(r"X column '(\w+)'", m).group(1) for m in messages)
    assert flagged == ["age", "iso", "stamp", "us"]
    age_message = next(m for m in messages if m.startswith("X column 'age'"))
    assert re.search(r"reads as numbers \(e.g. '\d+'\) but for a few values \('\?'\), so "
                     r"it is read as categories \(74 distinct values\)\. .*X\['age'\] = "
                     r"pd.to_numeric\(X\['age'\], errors='coerce'\)", age_message)
    assert any(re.search(r"X column 'us' holds text that reads as dates \(e.g. '\d\d/\d\d/"
                         r"\d{4}'\).*X\['us'\] = pd.to_datetime\(X\['us'\]\)", m)
               for m in messages)
    assert encoder.columns_ == list(X.columns)  # the warning changes nothing
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        TabularEncoder().fit(X.astype("category"))  # categories asked for
        TabularEncoder(categorical_features=["age", "iso"]).fit(X[["age", "iso"]])
        TabularEncoder().fit(X.assign(iso=pd.to_datetime(X["iso"]),
                                      age=pd.to_numeric(X["age"], errors="coerce"))[
            ["age", "iso", "zip", "shop", "few", "count"]])


def test_dates_without_categorical_columns_give_numbers_only():
    X = _dated()[["age", "booked"]]
    encoder = TabularEncoder(categorical_features=None).fit(X)
    assert encoder.columns_ == ["age", "booked.year", "booked.month", "booked.day",
                                "booked.dayofweek", "booked.dayofyear"]
    assert encoder.categorical_ == []
    listed = TabularEncoder(categorical_features=["booked"]).fit(X)  # as categories
    assert listed.dates_ == {} and listed.columns_ == ["age", "booked"]
    assert listed.categorical_ == [1]


@pytest.mark.parametrize("architecture", ["shared_bottom", "tabm"])
def test_a_model_on_dates_predicts_new_days_pickles_clones_and_searches(architecture):
    X = _dated()
    y = _targets(X)
    y.loc[y.index[::5], "churn"] = None  # missing labels
    model = MultiTaskNet(architecture=architecture, **FAST).fit(X, y)
    assert list(model.feature_names_in_) == list(X.columns)
    later = _dated(seed=5, n=40)
    later["booked"] = later["booked"] + pd.Timedelta(days=365)  # days never seen in fit
    pred = model.predict(later.iloc[::-1])
    assert list(pred.index) == list(later.index[::-1])
    assert np.isfinite(pred["spend"].to_numpy(dtype=float)).all()
    again = pickle.loads(pickle.dumps(model))
    pd.testing.assert_frame_equal(again.predict(later), model.predict(later))
    # an array after a DataFrame fit: its columns read by position, timestamps as dates
    np.testing.assert_array_equal(model.predict(later.to_numpy())["spend"],
                                  model.predict(later)["spend"])
    hand = MultiTaskNet(architecture=architecture, **FAST).fit(_by_hand(X), y)
    pd.testing.assert_frame_equal(hand.predict(_by_hand(later)), model.predict(later))
    search = GridSearchCV(MultiTaskNet(**FAST), {"min_frequency": ["auto", None]},
                          cv=KFold(2), error_score="raise").fit(X, y[["spend"]])
    assert search.best_estimator_.preprocessor_.dates_ == {"booked": (False, True),
                                                           "stamp": (True, True)}
    stream = MultiTaskNet(**FAST)
    stream.partial_fit(X.iloc[:120], y.iloc[:120]).partial_fit(X.iloc[120:], y.iloc[120:])
    assert stream.preprocessor_.dates_ == model.preprocessor_.dates_
    assert stream.predict(later).shape == (40, y.shape[1])


def test_an_object_column_of_dates_is_encoded_as_the_dates():
    import datetime

    X = _dated()[["age", "booked"]]
    days = X["booked"].dt.date.astype(object).where(X["booked"].notna(), None)  # from a database
    as_objects = X.assign(booked=days)
    assert as_objects["booked"].dtype == object
    encoder = TabularEncoder(min_frequency="auto").fit(as_objects)
    reference = TabularEncoder(min_frequency="auto").fit(X)
    assert encoder.dates_ == reference.dates_ == {"booked": (False, True)}
    np.testing.assert_array_equal(encoder.transform(as_objects), reference.transform(X))
    np.testing.assert_array_equal(encoder.transform(X), reference.transform(X))
    assert isinstance(days.dropna().iloc[0], datetime.date)
    # timestamps of two time zones fit no one datetime64 dtype: categories, as before
    zones = pd.Series([pd.Timestamp("2024-01-01", tz="UTC"),
                       pd.Timestamp("2024-01-01", tz="Europe/Lisbon")] * 10, dtype=object)
    mixed = TabularEncoder().fit(pd.DataFrame({"t": zones}))
    assert mixed.dates_ == {} and mixed.categorical_ == [0]


def test_a_column_of_periods_is_encoded_as_the_periods_starts():
    X = _dated()[["age", "booked"]]
    months = X.assign(booked=X["booked"].dt.to_period("M"))
    assert isinstance(months["booked"].dtype, pd.PeriodDtype) and months["booked"].isna().any()
    starts = months.assign(booked=months["booked"].dt.to_timestamp())
    encoder = TabularEncoder(min_frequency="auto").fit(months)
    reference = TabularEncoder(min_frequency="auto").fit(starts)
    assert encoder.dates_ == reference.dates_ == {"booked": (False, True)}
    np.testing.assert_array_equal(encoder.transform(months), reference.transform(starts))
    # periods of another frequency at predict: their starts too
    days = months.assign(booked=starts["booked"].dt.to_period("D"))
    np.testing.assert_array_equal(encoder.transform(days), reference.transform(starts))


def test_an_encoder_pickled_before_dates_and_rare_categories_encodes_as_it_did():
    X = _table()
    encoder = TabularEncoder().fit(X)  # no date, no infrequent category: the old layout
    state = dict(encoder.__getstate__())  # a copy: the encoder keeps its own
    for name in ("input_columns_", "dates_", "infrequent_keys_", "infrequent_categories_",
                 "declared_categories"):
        del state[name]  # what an encoder fitted before these attributes holds
    old = TabularEncoder.__new__(TabularEncoder)
    old.__setstate__(state)
    assert old.input_columns_ == encoder.columns_ and old.dates_ == {}
    assert old.get_params() == encoder.get_params()  # declared_categories=False, as then
    assert [len(k) for k in old.infrequent_keys_] == [0] * len(encoder.keys_)
    np.testing.assert_array_equal(old.transform(X), encoder.transform(X))
    new = X.assign(city="never seen")
    np.testing.assert_array_equal(old.transform(new), encoder.transform(new))
    pd.testing.assert_frame_equal(old.summary(), encoder.summary())


def test_date_columns_gives_the_encoders_parts_by_hand():
    from skmtl.tabular import DATE_PARTS, date_columns

    days = pd.Series(pd.to_datetime(["2024-02-29", None, "2024-03-01"]))
    parts = date_columns(days, "d")
    assert list(parts) == [f"d.{p}" for p in DATE_PARTS] + ["d.date"]  # midnights: no hour
    assert parts["d.dayofyear"].tolist()[::2] == [60.0, 61.0]
    assert parts["d.date"].tolist() == ["2024-02-29", None, "2024-03-01"]
    timed = date_columns(days + pd.Timedelta(minutes=90), "d", with_day=False)
    assert list(timed)[-1] == "d.hour" and timed["d.hour"].tolist()[0] == 1.5
    X = pd.DataFrame({"d": days + pd.Timedelta(minutes=90)})
    hand = TabularEncoder(categorical_features=None).fit(pd.DataFrame(timed))
    np.testing.assert_array_equal(TabularEncoder(categorical_features=None).fit(X).transform(X),
                                  hand.transform(pd.DataFrame(timed)))


def test_dates_are_encoded_without_warnings():
    # pandas 3 deprecates Series.dt.dayofweek / dayofyear: the encoder must not use them
    # (a user fitting on a date column saw a Pandas4Warning at every fit and predict)
    X = _dated()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        encoder = TabularEncoder().fit(X)
        encoder.transform(X)
    assert "booked.dayofweek" in encoder.columns_


# -- columns held by pyarrow --------------------------------------------------------------
def test_columns_held_by_pyarrow_are_encoded_as_pandas_own():
    pandas, arrow = pandas_and_arrow()
    assert all(isinstance(arrow[c].dtype, pd.ArrowDtype) for c in arrow.columns)
    ours, theirs = TabularEncoder().fit(pandas), TabularEncoder().fit(arrow)
    assert theirs.summary()["kind"].to_dict() == ours.summary()["kind"].to_dict()
    assert set(theirs.dates_) == {"when", "zoned", "day"}
    assert theirs.summary().loc["took", "kind"] == "numeric"  # a duration: its seconds
    assert {theirs.columns_[j] for j in theirs.categorical_} == {
        "text", "kind", "when.date", "zoned.date", "day.date"}
    np.testing.assert_array_equal(theirs.transform(arrow), ours.transform(pandas))
    new_pandas, new_arrow = pandas_and_arrow(40, seed=1)
    np.testing.assert_array_equal(theirs.transform(new_arrow), ours.transform(new_pandas))


def test_a_model_fits_and_predicts_columns_held_by_pyarrow():
    pandas, arrow = pandas_and_arrow()
    y = pd.DataFrame({"r": pandas["count"] * 2.0, "c": np.where(pandas["count"] > 4, "hi", "lo")})
    y_arrow = y.astype({"r": "double[pyarrow]", "c": "string[pyarrow]"})
    ours = MultiTaskNet(max_epochs=3, random_state=0).fit(pandas, y)
    theirs = MultiTaskNet(max_epochs=3, random_state=0).fit(arrow, y_arrow)
    expected, got = ours.predict(pandas), theirs.predict(arrow)
    np.testing.assert_array_equal(got["r"].to_numpy(dtype=float), expected["r"].to_numpy())
    assert got["c"].astype(str).tolist() == expected["c"].astype(str).tolist()
    assert got.dtypes.astype(str).tolist() == y_arrow.dtypes.astype(str).tolist()


def test_a_streams_first_call_keeps_the_categories_a_dtype_declares():
    """In the first partial_fit call, a category column's dtype declares the categories to
    come, as classes= declares the labels: each gets a code and is learned apart when its
    rows arrive, without a warning. fit reads only the rows' categories."""
    rng = np.random.default_rng(0)
    n = 600
    values = np.where(np.arange(n) < 300, rng.choice(["u", "v"], n), rng.choice(["w", "z"], n))
    X = pd.DataFrame({"a": rng.normal(size=n),
                      "c": pd.Categorical(values, categories=["u", "v", "w", "z"])})
    y = pd.DataFrame({"r": X["a"] + 3.0 * (X["c"] == "w") - 3.0 * (X["c"] == "z")})
    def mean_errors(model, X):
        errors = model.predict(X[300:])["r"] - y["r"][300:]
        return errors.groupby(X["c"][300:].astype(str)).mean().abs()

    stream = MultiTaskNet(**FAST)
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        stream.partial_fit(X[:300], y[:300])  # u and v only
        for _ in range(30):
            stream.partial_fit(X[300:], y[300:])  # w and z
    assert list(stream.preprocessor_.categories_[0]) == ["u", "v", "w", "z"]
    # the same stream without the declaration: w and z read one code, and the user is told
    text = X.astype({"c": str})
    plain = MultiTaskNet(**FAST).partial_fit(text[:300], y[:300])
    with pytest.warns(UserWarning, match=r"did not see \('c': \['w', 'z'\]\).*CategoricalDtype"):
        plain.partial_fit(text[300:], y[300:])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        for _ in range(29):
            plain.partial_fit(text[300:], y[300:])
    declared, shared = mean_errors(stream, X), mean_errors(plain, text)
    assert shared.min() > 2.0  # one code for w and z: about ±3 off
    assert declared.max() < 0.25 * shared.min(), (declared, shared)  # learned apart
    # fit: the rows' categories only, as scikit-learn's encoders
    fitted = MultiTaskNet(**FAST).fit(X[:300], y[:300])
    assert list(fitted.preprocessor_.categories_[0]) == ["u", "v"]


def test_declared_categories_count_as_just_frequent_enough():
    column = pd.Categorical(["a"] * 6 + ["b"] * 2 + ["c"] * 4,
                            categories=["a", "b", "c", "d", "e"])
    X = pd.DataFrame({"k": column})
    kept = TabularEncoder(min_frequency=3, declared_categories=True).fit(X)
    assert list(kept.categories_[0]) == ["a", "c", "d", "e"]  # b: 2 rows < 3, infrequent
    assert list(kept.infrequent_categories_[0]) == ["b"]
    plain = TabularEncoder(min_frequency=3).fit(X)
    assert list(plain.categories_[0]) == ["a", "c"]
    # max_categories ranks them after the categories with more rows (ties: sorted)
    capped = TabularEncoder(max_categories=4, declared_categories=True).fit(X)
    assert list(capped.categories_[0]) == ["a", "b", "c"]
    codes = capped.transform(pd.DataFrame({"k": pd.Categorical(["d", "e", "a"],
                                                                 categories=list("abcde"))}))
    assert codes[0, 0] == codes[1, 0] == 1  # the shared code of the others
    # an object column declares nothing
    text = TabularEncoder(declared_categories=True).fit(X.astype({"k": object}))
    assert list(text.categories_[0]) == ["a", "b", "c"]
