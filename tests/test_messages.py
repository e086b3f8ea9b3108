"""Error messages say what is wrong, where, and what to do (issue 10, defect 12)."""

from __future__ import annotations

import traceback
import warnings

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.compose import make_column_transformer
from sklearn.impute import SimpleImputer
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skmtl import MultiTaskClassifier, MultiTaskNet, MultiTaskRegressor
from skmtl.tasks import Classification, Regression, infer_task

FAST = dict(hidden_layer_sizes=(8,), max_epochs=1, batch_size=16, device="cpu", random_state=0)
N = 40


def _X(n: int = N) -> pd.DataFrame:
    return pd.DataFrame(np.random.RandomState(0).normal(size=(n, 3)), columns=["f0", "f1", "f2"])


def _y(n: int = N) -> pd.DataFrame:
    rng = np.random.RandomState(1)
    return pd.DataFrame({"height": rng.normal(size=n), "kind": rng.choice(["a", "b"], n)})


# -- NaN / infinity in X ------------------------------------------------------------------


def _with_nan(frame: pd.DataFrame) -> pd.DataFrame:
    frame = frame.copy()
    frame.iloc[[3, 7], 1] = np.nan
    frame.iloc[5, 2] = np.nan
    return frame


def test_nan_in_X_message_is_skmtl_s_own_and_names_columns_and_fix():
    """X read as given by a user trunk must be complete (a table is encoded: NaN are missing
    values, see test_bad_input.py), and the message says so."""
    X = _with_nan(_X()).to_numpy()
    with pytest.raises(ValueError) as info:
        MultiTaskNet(trunk=torch.nn.Identity(), **FAST).fit(X, _y())
    message = str(info.value)
    columns = "[1, 2]"
    assert message.startswith(f"Input X contains NaN (missing values) in X column(s) {columns} ")
    assert "(2 rows, 1 row respectively)" in message
    assert "SimpleImputer" in message and "Pipeline" in message
    assert "HistGradientBoosting" not in message
    assert "does not accept missing values encoded as NaN natively" not in message
    assert info.value.__cause__ is None and info.value.__suppress_context__


def test_nan_in_a_frame_at_predict_is_encoded_as_the_column_centre(fitted):
    """A column without missing values in fit gets the centre value 0 for a NaN at predict
    (no indicator was fitted for it), so the prediction equals that of the median row."""
    X = _X()
    missing = X.iloc[:1].copy()
    missing.iloc[0, 0] = np.nan
    centre = X.iloc[:1].copy()
    centre.iloc[0, 0] = X.iloc[:, 0].median()
    pred = fitted.predict(missing)
    assert pred.notna().all().all()
    pd.testing.assert_frame_equal(pred, fitted.predict(centre), atol=1e-3)


def test_the_suggested_imputer_pipeline_works():
    X = _with_nan(_X())
    model = make_pipeline(SimpleImputer(), MultiTaskNet(**FAST)).fit(X, _y())
    assert model.predict(X).shape == (N, 2)


def test_infinity_in_X_names_the_column_and_says_what_to_do():
    X = _X()
    X.iloc[4, 2] = -np.inf
    with pytest.raises(ValueError) as info:
        MultiTaskNet(**FAST).fit(X, _y())
    message = str(info.value)
    assert message.startswith("Input X contains infinity in X column(s) ['f2'] (1 row).")
    assert "finite values" in message and "X.replace([np.inf, -np.inf], np.nan)" in message


def test_a_date_column_that_is_text_at_predict_says_to_give_dates():
    X = _X().assign(when=pd.date_range("2024-01-01", periods=N, freq="D"))
    model = MultiTaskNet(**FAST).fit(X, _y())
    with pytest.raises(ValueError, match=r"X column 'when' held dates in fit but is "
                       r"(object|str) now; give it as dates \(pd\.to_datetime\(X\['when'\]\)\)\."):
        model.predict(X.assign(when=X["when"].dt.strftime("%Y-%m-%d").astype(object)))


def test_a_date_part_name_taken_by_another_column_is_refused():
    X = _X().assign(when=pd.date_range("2024-01-01", periods=N, freq="D"))
    X["when.month"] = 1.0
    with pytest.raises(ValueError, match=r"X column 'when' holds dates, which skmtl encodes as "
                       r"columns named 'when\.<part>', but X already has a column "
                       r"'when\.month'; rename it\."):
        MultiTaskNet(**FAST).fit(X, _y())


def test_text_in_a_numeric_column_at_predict_is_shown_with_the_fix():
    X = _X()
    model = MultiTaskNet(**FAST).fit(X, _y())
    read_from_csv = X.astype({"f1": object})
    read_from_csv.iloc[[2, 5], 1] = "NA"
    read_from_csv.iloc[7, 1] = "?"
    with pytest.raises(ValueError) as info:
        model.predict(read_from_csv)
    message = str(info.value)
    assert message.startswith("X column 'f1' (object) is treated as numeric but holds values "
                              "that are not numbers ('NA', '?').")
    assert "pd.to_numeric(X['f1'], errors='coerce')" in message
    fixed = read_from_csv.assign(f1=pd.to_numeric(read_from_csv["f1"], errors="coerce"))
    assert model.predict(fixed).shape == (N, 2)  # the suggested fix works


def test_a_dict_at_predict_after_a_table_fit_says_to_make_a_dataframe():
    X = _X()
    model = MultiTaskNet(**FAST).fit(X, _y())
    columns = {name: X[name].head(2).tolist() for name in X.columns}
    with pytest.raises(TypeError, match=r"X is a dict with keys \['f0', 'f1', 'f2'.*\], but "
                       r"MultiTaskNet was fitted on a table: pass a DataFrame, e\.g\. "
                       r"pd\.DataFrame\(X\)"):
        model.predict(columns)
    pd.testing.assert_frame_equal(model.predict(pd.DataFrame(columns)), model.predict(X.head(2)))


def test_a_complex_column_is_refused_not_cast_to_its_real_part():
    X = _X().assign(z=np.arange(N) + 1j)
    with pytest.raises(ValueError, match=r"X column 'z' \(complex128\) holds complex "
                       r"numbers, which skmtl does not encode; give their parts as two columns"):
        MultiTaskNet(**FAST).fit(X, _y())


def test_duplicate_column_names_are_refused_with_what_to_do():
    X = _X()
    twice = pd.concat([X, X[["f0", "f1"]]], axis=1)
    with pytest.raises(ValueError, match=r"X has duplicate column names \['f0', 'f1'\]; "
                       r"give each column its own name"):
        MultiTaskNet(**FAST).fit(twice, _y())
    model = MultiTaskNet(**FAST).fit(X, _y())  # and at predict, after a fit on unique names
    with pytest.raises(ValueError, match=r"duplicate column names \['f0'\]"):
        model.predict(pd.concat([X.iloc[:, :3], X[["f0"]]], axis=1))


@pytest.mark.filterwarnings("ignore:overflow encountered:RuntimeWarning")
def test_values_too_large_for_float32_are_named():
    X = _X()
    X.iloc[2, 0] = 1e40  # finite in float64, infinite once cast to float32
    with pytest.raises(ValueError) as info:  # read as given by a trunk
        MultiTaskNet(trunk=torch.nn.Identity(), **FAST).fit(X.to_numpy(), _y())
    message = str(info.value)
    assert message.startswith("Input X holds values too large for float32")
    assert "X column(s) [0] (1 row)" in message and "float32" in message
    with pytest.raises(ValueError, match=r"X column\(s\) \['f0'\] hold values too large for "
                       "float32 after the 'none' numeric transform"):
        MultiTaskNet(numeric_transform="none", **FAST).fit(X, _y())
    # the default quantile transform maps the value into range
    assert np.isfinite(MultiTaskNet(**FAST).fit(X, _y()).preprocessor_.transform(X)).all()


def test_nan_in_a_dict_input_names_the_input_and_rows():
    from skorch.helper import SliceDict

    from skmtl.architectures import MultiInput

    image = np.zeros((N, 2, 2), dtype=np.float32)
    image[6, 0, 1] = np.nan
    X = SliceDict(img=image, tab=_X().to_numpy())
    model = MultiTaskNet(trunk=MultiInput({"img": None, "tab": None}), **FAST)
    with pytest.raises(ValueError, match=r"Input X\['img'\] contains NaN in 1 row \(the first is row 6\)"):
        model.fit(X, _y())


@pytest.mark.parametrize("where", ["trunk", "multi_input"])
def test_a_trunk_with_uninitialised_lazy_layers_says_how_to_give_it(where):
    """torch cannot deep-copy an uninitialised lazy layer, and fit trains a copy of the
    trunk: the error names the layer and the three ways out; the third works."""
    from skorch.helper import SliceDict

    from skmtl.architectures import MultiInput

    def lazy():
        return torch.nn.Sequential(torch.nn.LazyBatchNorm1d(), torch.nn.Linear(3, 4))

    X = _X().to_numpy().astype(np.float32)
    trunk, data = lazy(), X
    if where == "multi_input":
        trunk, data = MultiInput({"tab": lazy()}), SliceDict(tab=X)
    with pytest.raises(ValueError, match=r"uninitialised lazy layers \(LazyBatchNorm1d\) that "
                       r"torch cannot copy.*nn.BatchNorm1d\(n_features\).*class instead.*"
                       "one batch through the instance first"):
        MultiTaskNet(trunk=trunk, **FAST).fit(data, _y())
    layers = trunk if where == "trunk" else trunk.encoders["tab"]
    layers(torch.as_tensor(X[:4]))  # one batch: the lazy layer becomes a BatchNorm1d
    model = MultiTaskNet(trunk=trunk, **FAST).fit(data, _y())
    assert model.predict(data).shape == (N, 2)


# -- partial_fit meeting a new class -------------------------------------------------------


def test_partial_fit_new_class_names_task_column_labels_and_classes_argument():
    X = _X()
    first = _y().assign(kind=["a", "b"] * (N // 2))
    later = first.assign(kind=["a", "c", "d", "b"] * (N // 4))
    model = MultiTaskNet(**FAST).partial_fit(X, first)
    with pytest.raises(ValueError) as info:
        model.partial_fit(X, later)
    message = str(info.value)
    assert "Classification task 'kind' (column 'kind')" in message
    assert "label(s) ['c', 'd']" in message
    assert "are ['a', 'b']" in message
    assert "pass every class on the first partial_fit call" in message
    assert "partial_fit(X, y, classes={'kind': ['a', 'b', 'c', 'd']})" in message

    # The call the message suggests works.
    fresh = MultiTaskNet(**FAST).partial_fit(X, first, classes={"kind": ["a", "b", "c", "d"]})
    fresh.partial_fit(X, later)
    assert fresh.tasks_[1].classes_.tolist() == ["a", "b", "c", "d"]


def test_partial_fit_new_class_of_a_series_y_uses_a_plain_column_name():
    X = _X()
    model = MultiTaskClassifier(**FAST).partial_fit(X, pd.Series([0, 1] * (N // 2)))
    with pytest.raises(ValueError) as info:
        model.partial_fit(X, pd.Series([0, 1, 2, 3] * (N // 4)))
    message = str(info.value)
    assert "(column 0) got label(s) [2, 3]" in message and "np.int64" not in message
    assert "classes={0: [0, 1, 2, 3]}" in message


def test_warm_start_fit_with_a_new_class_says_the_classes_are_fixed():
    X = _X()
    model = MultiTaskNet(warm_start=True, **FAST).fit(X, _y())
    with pytest.raises(ValueError, match=r"(?s)label\(s\) \['z'\].*fixed by the first fit"):
        model.fit(X, _y().assign(kind=["a", "z"] * (N // 2)))


def test_partial_fit_with_one_class_in_the_first_batch_suggests_classes():
    with pytest.raises(ValueError) as info:
        MultiTaskNet(**FAST).partial_fit(_X(), _y().assign(kind="a"))
    message = str(info.value)
    assert "only one class ('a')" in message
    assert "with partial_fit, pass every class on the first call: classes={'kind': [...]}" in message


def test_a_first_partial_fit_call_without_a_tasks_labels_says_how_to_declare_it():
    """The first chunk of a stream may lack a task's labels: the task's type (inferred) or
    classes cannot come from it, and the message says how to declare them; fit still
    refuses a column without labels."""
    y = _y().assign(kind=np.nan)
    with pytest.raises(ValueError) as info:
        MultiTaskNet(**FAST).partial_fit(_X(), y)
    assert str(info.value) == (
        "Column 'kind' of y has no labels in this first partial_fit call, so its task type "
        "cannot be inferred from them: declare it on this call, with its classes "
        "(partial_fit(X, y, classes={'kind': [...]})) or as tasks={'kind': 'regression'}, or "
        "start with rows that label it.")
    with pytest.raises(ValueError) as info:
        MultiTaskNet(tasks={"kind": "classification"}, **FAST).partial_fit(_X(), y)
    assert str(info.value) == (
        "Classification task 'kind' has no labels in this first partial_fit call (column "
        "'kind' is missing in every row), so its classes are unknown: declare them on this "
        "call, partial_fit(X, y, classes={'kind': [...]}), or start with rows that label it.")
    with pytest.raises(ValueError, match="'kind' has no labels at all. Drop the column"):
        MultiTaskNet(tasks={"kind": "classification"}, **FAST).fit(_X(), y)
    model = MultiTaskNet(**FAST).partial_fit(_X(), y, classes={"kind": ["a", "b"]})
    assert [t.labelled_ for t in model.tasks_] == [True, False]
    model.partial_fit(_X(), _y())
    assert [t.labelled_ for t in model.tasks_] == [True, True]


def test_declared_classes_missing_a_label_say_classes_must_list_every_label():
    with pytest.raises(ValueError, match=r"not in the classes given, \['a'\]; `classes` must list every"):
        MultiTaskNet(**FAST).partial_fit(_X(), _y(), classes={"kind": ["a"]})


# -- y columns of dicts, lists or sets -----------------------------------------------------


@pytest.mark.parametrize(
    "values, plural, fix",
    [
        ([{"w": 1.0, "k": "a"}, {"w": 2.0, "k": "b"}] * (N // 2), "dicts", "pd.DataFrame(records)"),
        ([["a", "b"], ["b"]] * (N // 2), "lists", "MultiLabelBinarizer"),
        ([{"a", "b"}, {"b"}] * (N // 2), "sets", "MultiLabelBinarizer"),
        ([("a", "b"), ("b",)] * (N // 2), "tuples", "MultiLabelBinarizer"),
    ],
    ids=["dicts", "lists", "sets", "tuples"],
)
@pytest.mark.parametrize("container", ["frame", "series", "list"])
def test_y_of_containers_says_they_are_not_labels_and_what_y_may_be(values, plural, fix, container):
    if container == "frame":
        y, column = pd.DataFrame({"target": pd.Series(values, dtype=object)}), "'target'"
    elif container == "series":
        y, column = pd.Series(values, dtype=object), "0"
    else:
        y, column = list(values), "0"
    with pytest.raises(TypeError) as info:
        MultiTaskNet(**FAST).fit(_X(), y)
    message = str(info.value)
    assert message.startswith(f"Column {column} of y holds {plural} (e.g. ")
    assert "which are not labels" in message
    assert "1-D array or Series (one task), or a 2-D array or DataFrame with one column per task" in message
    assert fix in message
    assert "mixes label types" not in message and "only one class" not in message


def test_dicts_in_one_column_among_good_ones_are_reported():
    y = _y().assign(meta=[{"source": "lab"}] * N)
    with pytest.raises(TypeError, match=r"^Column 'meta' of y holds dicts"):
        MultiTaskNet(**FAST).fit(_X(), y)


@pytest.mark.parametrize("spec", [Classification("target"), Regression("target")])
def test_dicts_in_a_declared_task_are_reported_too(spec):
    y = pd.DataFrame({"target": [{"a": 1}] * N})
    with pytest.raises(TypeError, match=r"^Column 'target' of y holds dicts"):
        MultiTaskNet(tasks=[spec], **FAST).fit(_X(), y)
    with pytest.raises(TypeError, match=r"^Column 'target' of y holds dicts"):
        spec.fit(y)


def test_infer_task_refuses_containers():
    with pytest.raises(TypeError, match=r"^Column 'tags' of y holds lists"):
        infer_task(pd.Series([["x"], ["y", "z"]], name="tags"))


def test_later_batch_of_dicts_is_reported(fitted):
    kind = _y()["kind"].astype(object).tolist()
    kind[3] = {"a": 1}
    y = _y().assign(kind=pd.Series(kind, dtype=object))
    with pytest.raises(TypeError, match=r"^Column 'kind' of y holds dicts"):
        fitted.score(_X(), y)


def test_mixed_label_types_are_still_reported_as_mixed():
    with pytest.raises(TypeError, match=r"column 0 mixes label types \['int', 'str'\]"):
        MultiTaskNet(**FAST).fit(_X(), pd.Series(["a", 1] * (N // 2)))


# -- numbers stored as text --------------------------------------------------------------


def test_numbers_stored_as_text_warn_and_say_how_to_fix():
    rng = np.random.RandomState(0)
    y = np.column_stack([rng.choice(["a", "b"], N), rng.normal(size=N)])  # all text now
    with pytest.warns(UserWarning, match=r"Column 1 of y holds numbers stored as text") as record:
        model = MultiTaskNet(**FAST).fit(_X(), y)
    message = str(record[0].message)
    assert f"classification task with {N} classes" in message
    assert "np.column_stack" in message and "skmtl.tasks.Regression(1)" in message
    assert type(model.tasks_[1]).__name__ == "Classification"  # inference is unchanged


def test_numbers_with_placeholders_in_y_warn_with_the_conversion():
    """A target read from a file whose numbers have a few "?" stays text: one class per
    value, silently, until this warning."""
    rng = np.random.RandomState(0)
    ages = rng.randint(17, 90, 300).astype(str).astype(object)
    ages[::40] = "?"
    with pytest.warns(UserWarning, match=r"Column 'age' of y holds numbers stored as text "
                      r"\(e.g. '\d+'\) but for a few values \('\?'\), so it is inferred as a "
                      r"classification task with \d+ classes\. .*y\['age'\] = "
                      r"pd.to_numeric\(y\['age'\], errors='coerce'\)"):
        task = infer_task(pd.Series(ages, name="age"))
    assert type(task).__name__ == "Classification"  # inference is unchanged


@pytest.mark.parametrize(
    "labels",
    [
        [f"{75000 + i}" for i in range(N)],  # codes: whole numbers as text
        ["0.5", "1.5"] * (N // 2),  # few distinct values
        [f"item {i}" for i in range(N)],  # plain text
    ],
    ids=["codes", "few", "words"],
)
def test_text_labels_do_not_warn(labels, recwarn):
    infer_task(pd.Series(labels, name="t"))
    assert not [w for w in recwarn if "stored as text" in str(w.message)]


# -- classes stored as floats ------------------------------------------------------------


def test_whole_numbers_stored_as_floats_with_missing_labels_warn_and_say_how_to_fix():
    """An integer column of 0 / 1 labels with NaN for the missing ones is float: it would
    silently be a regression."""
    labels = np.where(np.arange(N) % 2 == 0, 1.0, 0.0)
    labels[::7] = np.nan
    y = pd.DataFrame({"clicked": labels})
    with pytest.warns(UserWarning, match=r"Column 'clicked' of y holds whole numbers stored as "
                      r"floats \(2 distinct: 0, 1\) and missing labels") as record:
        model = MultiTaskNet(**FAST).fit(_X(), y)
    message = str(record[0].message)
    assert "tasks={'clicked': 'classification'}" in message
    assert "y['clicked'].astype('Int64')" in message
    assert record[0].filename == __file__  # points at the user's fit call
    assert type(model.tasks_[0]).__name__ == "Regression"  # inference is unchanged
    # what the message says to do
    model = MultiTaskNet(**FAST).fit(_X(), y.astype("Int64"))
    assert type(model.tasks_[0]).__name__ == "Classification"


@pytest.mark.parametrize(
    "values",
    [
        [0.0, 1.0] * (N // 2),  # no missing label: float on purpose
        [0.5, 1.0, None] * (N // 3) + [0.5] * (N % 3),  # not whole numbers
        list(np.arange(N, dtype=float)[:-1]) + [None],  # more values than classes
        [10.0, 20.0, None, 30.0] + [None] * (N - 4),  # a few values, once each
        [1.0] * (N - 1) + [None],  # one value: not a classification either
    ],
    ids=["complete", "fractions", "many", "once each", "one value"],
)
def test_float_targets_that_are_quantities_do_not_warn(values, recwarn):
    infer_task(pd.Series(values, name="t", dtype=float))
    assert not [w for w in recwarn if "stored as floats" in str(w.message)]
    with warnings.catch_warnings():
        warnings.filterwarnings("error", message=".*stored as floats")
        MultiTaskNet(tasks={"t": "regression"}, **FAST).fit(
            _X(), pd.Series([0.0, 1.0, None] * (N // 3) + [0.0] * (N % 3), name="t"))


# -- predict_proba on a model with regression tasks only -----------------------------------


def _messages(exc: BaseException) -> str:
    """Every message the user sees in the traceback (the exception and its causes)."""
    return "".join(traceback.format_exception_only(type(exc), exc)) + "".join(
        "".join(traceback.format_exception_only(type(e), e))
        for e in _chain(exc)
    )


def _chain(exc: BaseException):
    seen = exc.__cause__ or exc.__context__
    while seen is not None:
        yield seen
        seen = seen.__cause__ or seen.__context__


@pytest.mark.parametrize("Estimator", [MultiTaskNet, MultiTaskRegressor])
def test_predict_proba_on_regression_only_model_says_why_and_what_to_use(Estimator):
    X = _X()
    y = pd.DataFrame({"height": _y()["height"], "weight": np.arange(N, dtype=float)})
    model = Estimator(**FAST).fit(X, y)
    assert not hasattr(model, "predict_proba")
    with pytest.raises(AttributeError) as info:
        model.predict_proba(X)
    shown = _messages(info.value)
    assert "only regression tasks" in shown
    assert "'height'" in shown and "'weight'" in shown  # the tasks are named
    assert "no probabilities" in shown or "no class probabilities" in shown
    assert "use predict" in shown.lower()


def test_predict_proba_of_an_unfitted_regressor_says_regression_only():
    with pytest.raises(AttributeError) as info:
        MultiTaskRegressor(**FAST).predict_proba(_X())
    shown = _messages(info.value)
    assert "regression tasks only" in shown and "probabilities" in shown
    assert "use predict" in shown.lower()


def test_predict_proba_is_kept_for_models_with_a_classification_task(fitted):
    (probas,) = fitted.predict_proba(_X())  # one array per classification task
    assert probas.shape == (N, 2)


# -- y with other columns than in fit ------------------------------------------------------


def test_y_with_other_columns_names_the_new_and_missing_ones(fitted):
    with pytest.raises(ValueError) as info:
        fitted.partial_fit(_X(), _y().rename(columns={"height": "weight"}))
    message = str(info.value)
    assert "y has columns ['weight', 'kind'], but the estimator was fitted on ['height', 'kind']" in message
    assert "(new ['weight']; missing ['height'])" in message
    assert "The tasks of a fitted model are fixed" in message


# -- a fitted model shared by the tests above ----------------------------------------------


@pytest.fixture(scope="module")
def fitted():
    return MultiTaskNet(**FAST).fit(_X(), _y())


def test_pipeline_with_column_transformer_passes_nan_to_the_encoder():
    """NaN passed through a ColumnTransformer's pandas output is encoded under the new
    column names (with a missing-value indicator)."""
    X = _with_nan(_X())
    model = make_pipeline(
        make_column_transformer((StandardScaler(), ["f0", "f1", "f2"])).set_output(
            transform="pandas"
        ),
        MultiTaskNet(**FAST),
    ).fit(X, _y())
    summary = model[-1].preprocessor_.summary()
    assert summary["missing_indicator"].to_dict() == {
        "standardscaler__f0": False, "standardscaler__f1": True, "standardscaler__f2": True}
