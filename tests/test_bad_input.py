"""Bad inputs raise errors of the right type whose message names the culprit and the fix."""

import re

import numpy as np
import pandas as pd
import pytest
from sklearn.exceptions import NotFittedError
from sklearn.utils._param_validation import InvalidParameterError

from skmtl import MultiTaskClassifier, MultiTaskNet, MultiTaskRegressor
from skmtl.callbacks import NonFiniteLossError
from skmtl.losses import TaskLoss
from skmtl.tasks import Classification, MultiLabel, Regression

FAST = dict(hidden_layer_sizes=(16,), max_epochs=2, device="cpu", random_state=0)
N = 40


def _data():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(N, 3))
    X_df = pd.DataFrame(X, columns=["f0", "f1", "f2"])
    y = pd.DataFrame({
        "height": X[:, 0] * 2.0 + 1.0,
        "species": np.where(X[:, 1] > 0, "cat", "dog"),
    })
    return X, X_df, y


X, X_DF, Y = _data()



@pytest.fixture(scope="module")
def fitted_on_frame():
    """A MultiTaskNet fitted on a DataFrame X (feature names f0, f1, f2)."""
    return MultiTaskNet(**FAST).fit(X_DF, Y)


@pytest.fixture(scope="module")
def fitted_on_array():
    """A MultiTaskNet fitted on an array X (3 features, no names)."""
    return MultiTaskNet(**FAST).fit(X, Y)


# -- X and y lengths ----------------------------------------------------------------


@pytest.mark.parametrize(
    "n_X, n_y", [(N, N - 10), (N - 10, N)], ids=["y_shorter", "X_shorter"]
)
def test_fit_length_mismatch(n_X, n_y):
    with pytest.raises(ValueError, match=rf"X has {n_X} rows but y has {n_y}.*same number of rows"):
        MultiTaskNet(**FAST).fit(X[:n_X], Y.iloc[:n_y])


def test_score_length_mismatch(fitted_on_array):
    # Scoring on a y with fewer rows than X must be a clear ValueError, not an IndexError.
    with pytest.raises(ValueError, match=r"rows"):
        fitted_on_array.score(X, Y.iloc[:10])


# -- non-finite X -------------------------------------------------------------------


def _with_nan_frame():
    X_bad = X_DF.copy()
    X_bad.iloc[3, 1] = np.nan
    return X_bad, r"\['f1'\]"


def _with_inf_frame():
    X_bad = X_DF.copy()
    X_bad.iloc[5, 2] = np.inf
    return X_bad, r"\['f2'\]"


def _with_pd_na_frame():
    X_bad = X_DF.assign(count=pd.array([1, None] + [2] * (N - 2), dtype="Int64"))
    return X_bad, r"\['count'\]"


def _with_nan_array():
    X_bad = X.copy()
    X_bad[3, 1] = np.nan
    return X_bad, r"\[1\]"


def _with_inf_array():
    X_bad = X.copy()
    X_bad[5, 2] = -np.inf
    return X_bad, r"\[2\]"


NON_FINITE_X = {
    "frame_inf": _with_inf_frame,
    "array_inf": _with_inf_array,
}


@pytest.mark.parametrize("make", [_with_nan_frame, _with_pd_na_frame, _with_nan_array])
def test_missing_values_in_a_frame_are_encoded_with_an_indicator(make):
    """A DataFrame's missing values (NaN, pd.NA) are encoded, not refused: the column gets a
    missing-value indicator, and prediction with them works."""
    X_missing, column = make()
    name = column.strip(r"\[]'")
    name = int(name) if name.isdigit() else name
    model = MultiTaskNet(**FAST).fit(X_missing, Y)
    assert model.preprocessor_.summary().loc[name, "missing_indicator"]
    assert f"{name}__missing" in model.preprocessor_.get_feature_names_out()
    assert model.predict(X_missing).notna().all().all()


@pytest.mark.parametrize("case", list(NON_FINITE_X))
def test_non_finite_X_at_fit_names_column(case):
    X_bad, column = NON_FINITE_X[case]()
    with pytest.raises(ValueError, match=rf"(?s)X column\(s\) {column}.*impute or drop"):
        MultiTaskNet(**FAST).fit(X_bad, Y)


@pytest.mark.parametrize("case", ["frame_inf", "array_inf"])
def test_non_finite_X_at_predict_names_column(case, fitted_on_frame, fitted_on_array):
    X_bad, column = NON_FINITE_X[case]()
    model = fitted_on_frame if case.startswith("frame") else fitted_on_array
    with pytest.raises(ValueError, match=rf"(?s)X column\(s\) {column}.*impute or drop"):
        model.predict(X_bad)


# -- non-numeric X -----------------------------------------------------------------


@pytest.mark.parametrize(
    "column, values",
    [
        ("city", ["paris", "rome", "oslo", "kyiv"] * (N // 4)),
        ("grade", pd.Categorical([1, 2, 3, 4] * (N // 4))),
    ],
    ids=["str", "categorical"],
)
def test_non_numeric_frame_X_columns_are_encoded_as_categories(column, values):
    X_cat = X_DF.assign(**{column: values})
    model = MultiTaskNet(**FAST).fit(X_cat, Y)
    summary = model.preprocessor_.summary()
    assert summary.loc[column, "kind"] == "categorical"
    assert summary.loc[column, "n_categories"] == 4
    assert model.predict(X_cat).shape == Y.shape


def test_strings_in_an_array_are_a_categorical_column():
    X_str = np.column_stack([X, np.array(["a", "b"] * (N // 2))]).astype(object)
    model = MultiTaskNet(**FAST).fit(X_str, Y)
    assert model.preprocessor_.categorical_ == [3]
    assert model.preprocessor_.numeric_ == [0, 1, 2]


# -- y columns without usable labels ---------------------------------------------


@pytest.mark.parametrize("missing", [np.nan, None, pd.NA], ids=["nan", "None", "pd_NA"])
def test_y_column_without_labels_names_column(missing):
    y = Y.assign(empty=pd.Series([missing] * N, dtype=object))
    with pytest.raises(
        ValueError, match=r"(?s)column 'empty'.*no labels at all.*Drop the column or provide labels"
    ):
        MultiTaskNet(**FAST).fit(X, y)


def test_array_y_column_without_labels_names_column_index():
    y = np.column_stack([X[:, 0], np.full(N, np.nan)])
    with pytest.raises(ValueError, match=r"(?s)column 1\b.*no labels at all.*Drop the column"):
        MultiTaskNet(**FAST).fit(X, y)


def test_single_class_task_names_task():
    y = Y.assign(species="cat")
    with pytest.raises(
        ValueError,
        match=r"(?s)Classification task 'species'.*only one class \('cat'\).*at least two classes"
        r".*Drop the task or add labelled rows",
    ):
        MultiTaskNet(**FAST).fit(X, y)


def test_single_labelled_class_with_missing_labels_names_task():
    # Two distinct values, but the second one only on rows whose label is missing.
    species = pd.Series(["cat"] * (N - 5) + [None] * 5, dtype=object)
    with pytest.raises(ValueError, match=r"(?s)task 'species'.*only one class"):
        MultiTaskNet(**FAST).fit(X, Y.assign(species=species))


def test_single_class_1d_array_y_names_column_by_position():
    # A 1-D y is column 0: the message should say so plainly (not np.int64(0)).
    with pytest.raises(ValueError, match=r"(?s)task '0': column 0 has only one class \('a'\)"):
        MultiTaskClassifier(**FAST).fit(X, np.array(["a"] * N))


# -- regression columns holding strings ----------------------------------------------


def test_explicit_regression_spec_on_string_column_names_column():
    with pytest.raises(
        ValueError,
        match=r"(?s)Regression task 'species': column 'species' holds non-numeric values such "
        r"as '(cat|dog)'.*Classification\('species'\)",
    ):
        MultiTaskNet(tasks=[Regression("species")], **FAST).fit(X, Y)


def test_regressor_on_column_with_some_strings_names_column():
    height = Y["height"].astype(object)
    height.iloc[7] = "tall"
    with pytest.raises(
        ValueError,
        match=r"(?s)Regression task 'height': column 'height' holds non-numeric values such as "
        r"'tall'.*Convert the column to numbers",
    ):
        MultiTaskRegressor(**FAST).fit(X, Y[["height"]].assign(height=height))


def test_regressor_on_array_column_with_some_strings_names_column_index():
    y = np.column_stack([X[:, 0], X[:, 1]]).astype(object)
    y[3, 1] = "bad"
    with pytest.raises(ValueError, match=r"(?s)Regression task '1': column 1 holds non-numeric"):
        MultiTaskRegressor(**FAST).fit(X, y)


def test_infinite_regression_target_names_column():
    height = Y["height"].to_numpy().copy()
    height[0] = np.inf
    with pytest.raises(ValueError, match=r"(?s)infinity in column 'height'.*Replace infinite"):
        MultiTaskNet(**FAST).fit(X, Y.assign(height=height))


# -- task specs that do not fit y ----------------------------------------------------


@pytest.mark.parametrize(
    "spec",
    [Classification("weight"), Regression("weight"), MultiLabel(["species", "weight"])],
    ids=["Classification", "Regression", "MultiLabel"],
)
def test_spec_naming_absent_column(spec):
    with pytest.raises(
        ValueError,
        match=r"names column 'weight', which y does not have; y's columns are "
        r"\['height', 'species'\]",
    ):
        MultiTaskNet(tasks=[spec], **FAST).fit(X, Y)


def test_column_read_by_two_specs():
    tasks = [Regression("height"), Classification("height")]
    with pytest.raises(ValueError, match=r"Column 'height' is read by two task specs.*one task"):
        MultiTaskNet(tasks=tasks, **FAST).fit(X, Y)


def test_unknown_task_type_in_dict_names_column():
    with pytest.raises(ValueError, match=r"Unknown task type 'ranking' for column 'height'.*use"):
        MultiTaskNet(tasks={"height": "ranking"}, **FAST).fit(X, Y)


def test_multilabel_non_binary_column_names_column():
    y = pd.DataFrame({"red": [0, 1] * (N // 2), "blue": [0, 2] * (N // 2)})
    with pytest.raises(ValueError, match=r"(?s)column 'blue' must hold 0/1 or bool labels.*Classification"):
        MultiTaskNet(tasks=[MultiLabel(["red", "blue"])], **FAST).fit(X, y)


@pytest.mark.parametrize(
    "y",
    [pd.DataFrame(index=range(N)), np.empty((N, 0))],
    ids=["frame_without_columns", "array_n_by_0"],
)
def test_y_without_columns(y):
    with pytest.raises(ValueError, match=r"y has no columns: pass at least one target column"):
        MultiTaskNet(**FAST).fit(X, y)


def test_y_with_duplicated_columns():
    y = pd.DataFrame(np.column_stack([X[:, 0], X[:, 1]]), columns=["height", "height"])
    with pytest.raises(ValueError, match=r"duplicated column names \['height'\]; rename them"):
        MultiTaskNet(**FAST).fit(X, y)


def test_score_with_other_y_columns(fitted_on_array):
    with pytest.raises(ValueError, match=r"y has columns \['HEIGHT', 'species'\].*fitted on"):
        fitted_on_array.score(X, Y.rename(columns={"height": "HEIGHT"}))


@pytest.mark.parametrize("Estimator", [MultiTaskNet, MultiTaskClassifier, MultiTaskRegressor])
def test_y_none(Estimator):
    with pytest.raises(ValueError, match=rf"{Estimator.__name__} requires y to be passed"):
        Estimator(**FAST).fit(X, None)


# -- features at predict -------------------------------------------------------------


def test_different_number_of_features_at_predict(fitted_on_array):
    with pytest.raises(ValueError, match=r"X has 2 features, but MultiTaskNet is expecting 3"):
        fitted_on_array.predict(X[:, :2])


def test_renamed_feature_at_predict(fitted_on_frame):
    X_renamed = X_DF.rename(columns={"f1": "g1"})
    with pytest.raises(
        ValueError,
        match=r"(?s)feature names should match.*unseen at fit time:\n- g1.*missing:\n- f1",
    ):
        fitted_on_frame.predict(X_renamed)


def test_missing_feature_at_predict(fitted_on_frame):
    with pytest.raises(ValueError, match=r"(?s)feature names should match.*missing:\n- f2"):
        fitted_on_frame.predict(X_DF[["f0", "f1"]])


# -- not fitted ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "Estimator, method",
    [
        (Estimator, method)
        for Estimator in (MultiTaskNet, MultiTaskClassifier, MultiTaskRegressor)
        for method in ("predict", "predict_proba", "score", "score_tasks")
        if not (Estimator is MultiTaskRegressor and method == "predict_proba")
    ],
)
def test_not_fitted(Estimator, method):
    model = Estimator(**FAST)
    args = (X,) if method.startswith("predict") else (X, Y)
    with pytest.raises(NotFittedError, match=rf"This {Estimator.__name__} instance is not fitted"):
        getattr(model, method)(*args)


def test_regressor_has_no_predict_proba():
    assert not hasattr(MultiTaskRegressor(**FAST), "predict_proba")


# -- non-finite loss ---------------------------------------------------------------


class NaNLoss(TaskLoss):
    """A loss that is NaN on every batch, with gradients that are NaN too."""

    def __call__(self, output, target, masked):
        return output.sum() * float("nan"), target.shape[0]


@pytest.mark.parametrize("batch_size", [256, 8], ids=["one_batch", "several_batches"])
@pytest.mark.parametrize(
    "spec, bad, good",
    [
        (Classification("species", loss=NaNLoss()), "species", "height"),
        (Regression("height", loss=NaNLoss()), "height", "species"),
    ],
    ids=["classification", "regression"],
)
def test_non_finite_loss_names_the_task(spec, bad, good, batch_size):
    model = MultiTaskNet(tasks=[spec], **{**FAST, "batch_size": batch_size})
    with pytest.raises(NonFiniteLossError, match=rf"(?s)train loss of task\(s\) '{bad}' is not finite.*Lower `lr`") as info:
        model.fit(X, Y)
    assert isinstance(info.value, ValueError)
    # The task whose own loss is fine must not be blamed, even after the NaN gradients
    # of the bad task have reached the shared trunk.
    assert re.search(rf"\b{good}\b", str(info.value)) is None, str(info.value)


# -- invalid hyperparameters ---------------------------------------------------------


@pytest.mark.parametrize(
    "params",
    [
        dict(lr=-1),
        dict(lr=0),
        dict(hidden_layer_sizes=0),
        dict(hidden_layer_sizes=(0,)),
        dict(hidden_layer_sizes=(16, -4)),
        dict(head_layer_sizes=(0,)),
        dict(optimizer="nope"),
        dict(activation="swish"),
        dict(dropout=1.0),
        dict(max_epochs=0),
        dict(batch_size=0),
        dict(validation_fraction=1.0),
        dict(tasks="manual"),
    ],
    ids=lambda p: "-".join(f"{k}={v!r}" for k, v in p.items()),
)
def test_invalid_hyperparameter(params):
    (name,) = params
    model = MultiTaskNet(**{**FAST, **params})  # no validation in __init__
    with pytest.raises(InvalidParameterError, match=rf"\b{name}\b"):
        model.fit(X, Y)


def test_invalid_device_names_parameter():
    with pytest.raises(ValueError, match=r"(?s)\bdevice\b.*'bogus'"):
        MultiTaskNet(**{**FAST, "device": "bogus"}).fit(X, Y)


def test_invalid_task_weight():
    with pytest.raises(InvalidParameterError, match=r"'weight' parameter of Regression"):
        MultiTaskNet(tasks=[Regression("height", weight=-1)], **FAST).fit(X, Y)


def test_unknown_loss_names_task():
    with pytest.raises(ValueError, match=r"Unknown loss 'hinge' for task 'height'; use one of"):
        MultiTaskNet(tasks=[Regression("height", loss="hinge")], **FAST).fit(X, Y)


def test_loss_of_another_task_type_names_task():
    with pytest.raises(ValueError, match=r"Loss 'dice' does not apply to regression task 'height'"):
        MultiTaskNet(tasks=[Regression("height", loss="dice")], **FAST).fit(X, Y)


# -- estimators restricted to one task type --------------------------------------------


def test_classifier_on_continuous_frame_column():
    with pytest.raises(
        ValueError,
        match=r"(?s)Unknown label type.*task 'height'.*Declare the task as "
        r"skmtl\.tasks\.Regression\('height'\)",
    ):
        MultiTaskClassifier(**FAST).fit(X, Y[["height"]])


def test_classifier_on_continuous_1d_array():
    with pytest.raises(
        ValueError,
        match=r"(?s)Unknown label type.*task '0' \(column 0\).*skmtl\.tasks\.Regression\(0\)",
    ):
        MultiTaskClassifier(**FAST).fit(X, X[:, 0])


def test_classifier_rejects_regression_spec():
    with pytest.raises(
        ValueError,
        match=r"Regression\(column='height'\) is not a classification task.*use skmtl\.MultiTaskNet",
    ):
        MultiTaskClassifier(tasks=[Regression("height")], **FAST).fit(X, Y)


@pytest.mark.parametrize(
    "spec", [Classification("species"), MultiLabel(["species"])], ids=["Classification", "MultiLabel"]
)
def test_regressor_rejects_classification_spec(spec):
    with pytest.raises(ValueError, match=r"is not a regression task.*use skmtl\.MultiTaskNet"):
        MultiTaskRegressor(tasks=[spec], **FAST).fit(X, Y)


# -- accepted inputs -------------------------------------------------------------------


@pytest.mark.parametrize("missing", [np.nan, None, pd.NA], ids=["nan", "None", "pd_NA"])
def test_row_with_every_label_missing_is_accepted(missing):
    y = Y.astype(object)
    y.iloc[4, :] = missing
    y.iloc[9, :] = missing
    model = MultiTaskNet(**FAST).fit(X, y)
    predicted = model.predict(X)
    assert predicted.shape == Y.shape
    assert not predicted.isna().any().any()
    scores = model.score_tasks(X, y)
    assert set(scores) == {"height", "species"}
    assert all(np.isfinite(s) for s in scores.values())


@pytest.mark.parametrize(("available", "cuda_version", "count", "device", "message"), [
    (False, None, 0, "cuda", r"MultiTaskNet\(device='cuda'\): this torch build has no CUDA "
                              r"\(a CPU build\)\. Use device='auto'"),
    (False, "12.4", 0, "cuda:0", r"MultiTaskNet\(device='cuda:0'\): no CUDA GPU is visible"),
    (True, "12.4", 2, "cuda:2", r"MultiTaskNet\(device='cuda:2'\): this machine has 2 CUDA "
                                r"device\(s\), numbered 0 to 1\."),
])
def test_an_unavailable_cuda_device_is_refused_before_training(monkeypatch, available,
                                                               cuda_version, count, device,
                                                               message):
    """torch's own failure is an AssertionError deep in the first transfer ("Torch not
    compiled with CUDA enabled"), after the data were checked and encoded."""
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: available)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: count)
    monkeypatch.setattr(torch.version, "cuda", cuda_version)
    with pytest.raises(ValueError, match=message):
        MultiTaskNet(**{**FAST, "device": device}).fit(X, Y)


def test_mps_without_mps_is_refused(monkeypatch):
    import torch

    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: False)
    with pytest.raises(ValueError, match=r"MultiTaskNet\(device='mps'\): MPS is not available"):
        MultiTaskNet(**{**FAST, "device": "mps"}).fit(X, Y)
