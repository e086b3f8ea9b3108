"""Task inference, encoding and decoding."""

import datetime

import numpy as np
import pandas as pd
import pytest

from skmtl.tasks import (
    MAX_AUTO_CLASSES,
    Classification,
    MultiLabel,
    Regression,
    TaskSet,
    infer_task,
)


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        (pd.Series([1.5, 2.0, np.nan]), Regression),
        (pd.Series([1.0, 2.0, 3.0]), Regression),  # floats are regression, even whole ones
        (pd.Series([0, 1, 1, 2]), Classification),
        (pd.Series(np.arange(MAX_AUTO_CLASSES)), Classification),
        (pd.Series(np.arange(MAX_AUTO_CLASSES + 1)), Regression),
        (pd.Series(["a", "b", None]), Classification),
        (pd.Series([True, False, True]), Classification),
        (pd.Series(pd.Categorical(["x", "y", "x"])), Classification),
        (pd.Series(pd.array([1, 2, None], dtype="Int64")), Classification),
        (pd.Series([0.5, 1.5], dtype=object), Regression),
    ],
)
def test_inference_rule(values, expected):
    assert type(infer_task(values.rename("c"))) is expected


@pytest.mark.parametrize(("values", "kind"), [
    (pd.Series(pd.date_range("2024-01-01", periods=30)), "dates"),
    (pd.Series(pd.date_range("2024-01-01", periods=30, tz="UTC")), "dates"),
    (pd.Series([datetime.date(2024, 1, 1 + i) for i in range(30)]), "dates"),
    (pd.Series(pd.to_timedelta(np.arange(30), unit="h")), "durations"),
    (pd.Series([datetime.time(i % 24) for i in range(30)]), "times of day"),
    (pd.Series(pd.period_range("2024-01", periods=30, freq="M")), "periods"),
])
def test_times_in_y_are_refused_by_inference_and_can_be_declared(values, kind):
    """A date column of y is neither a quantity nor a set of classes: inference would make
    each date a class of its own, without a word; the message says how to give it."""
    y = pd.DataFrame({"r": np.arange(30.0), "when": values})
    with pytest.raises(TypeError, match=rf"Column 'when' of y holds {kind}, which is neither "
                       r"a quantity nor a set of classes .* declare tasks=\{'when': "
                       r"'classification'\}"):
        TaskSet().fit(y)
    with pytest.raises(TypeError, match=r"days since a reference date: \(y\['when'\] - "):
        TaskSet().fit(y)  # the column's name, not the code that names it
    declared = TaskSet({"when": "classification"}).fit(y).tasks_
    assert [type(t) for t in declared] == [Regression, Classification]


def test_explicit_specs_override_inference_and_rest_is_inferred():
    y = pd.DataFrame({"a": [1.0, 2.0, 1.0, 2.0], "b": [0, 1, 0, 1], "c": ["x", "y", "x", "y"]})
    tasks = TaskSet([Classification("a")]).fit(y).tasks_
    assert [type(t) for t in tasks] == [Classification, Classification, Classification]
    tasks = TaskSet({"b": "regression"}).fit(y).tasks_
    assert [type(t) for t in tasks] == [Regression, Regression, Classification]


def test_spec_is_not_modified_by_fit():
    spec = Classification("c", weight=2.0)
    y = pd.DataFrame({"c": ["x", "y", "x"]})
    fitted = TaskSet([spec]).fit(y).tasks_[0]
    assert fitted is not spec
    assert not hasattr(spec, "classes_")
    assert fitted.weight == 2.0
    np.testing.assert_array_equal(fitted.classes_, ["x", "y"])


def test_regression_standardises_and_round_trips():
    y = pd.DataFrame({"r": np.array([10.0, 20.0, np.nan, 30.0], dtype=np.float32)})
    ts = TaskSet().fit(y)
    task = ts.tasks_[0]
    assert task.mean_ == pytest.approx(20.0)
    assert task.scale_ == pytest.approx(np.std([10.0, 20.0, 30.0]))
    encoded = ts.encode(y)
    assert encoded.dtype == np.float32
    assert np.isnan(encoded[2, 0])
    np.testing.assert_allclose(encoded[[0, 1, 3], 0], [-1.2247449, 0.0, 1.2247449], rtol=1e-6)
    decoded = ts.decode([encoded[[0, 1, 3]]])
    assert decoded["r"].dtype == np.float32  # original float dtype kept
    np.testing.assert_allclose(decoded["r"], [10.0, 20.0, 30.0], rtol=1e-6)


@pytest.mark.parametrize(
    "column",
    [
        pd.Series(["cat", "dog", None, "cat"], dtype="object"),
        pd.Series(["cat", "dog", None, "cat"], dtype="string"),
        pd.Series(pd.Categorical(["cat", "dog", None, "cat"], categories=["dog", "cat", "owl"])),
        pd.Series([True, False, None, True], dtype="boolean"),
        pd.Series([3, 7, None, 3], dtype="Int64"),
        pd.Series([3.0, 7.0, np.nan, 3.0]),
    ],
)
def test_classification_labels_of_any_dtype_round_trip(column):
    y = pd.DataFrame({"c": column})
    ts = TaskSet([Classification("c")]).fit(y)
    task = ts.tasks_[0]
    assert len(task.classes_) == 2
    encoded = ts.encode(y)[:, 0]
    assert np.isnan(encoded[2])
    assert encoded[0] == encoded[3] != encoded[1]
    # one-hot "logits" of the true classes decode back to the labels, with the dtype
    codes = np.nan_to_num(encoded).astype(int)
    decoded = ts.decode([np.eye(2)[codes]])
    assert decoded["c"].dtype == column.dtype
    labelled = [0, 1, 3]
    assert decoded["c"].iloc[labelled].tolist() == column.iloc[labelled].tolist()


def test_categorical_classes_keep_category_order_and_drop_unseen():
    y = pd.Series(pd.Categorical(["lo", "hi", "mid"], categories=["lo", "mid", "hi", "unused"]))
    task = TaskSet().fit(y).tasks_[0]
    assert task.classes_.tolist() == ["lo", "mid", "hi"]


def test_multilabel_reads_several_columns_with_one_head():
    y = pd.DataFrame({"a": [1, 0, 1, np.nan], "b": [True, False, True, True], "z": [0.1, 0.2, 0.3, 0.4]})
    ts = TaskSet([MultiLabel(["a", "b"], name="ab")]).fit(y)
    ml, reg = ts.tasks_
    assert ml.name_ == "ab" and ml.n_outputs_ == 2 and isinstance(reg, Regression)
    assert ts.target_slices_ == [slice(0, 2), slice(2, 3)]
    encoded = ts.encode(y)
    np.testing.assert_array_equal(encoded[:3, :2], [[1, 1], [0, 0], [1, 1]])
    assert np.isnan(encoded[3, 0])
    out = ts.decode([np.array([[2.0, -2.0]] * 4), np.zeros((4, 1))])
    assert out["b"].dtype == bool and out["b"].tolist() == [False] * 4
    assert out["a"].tolist() == [1.0] * 4


def test_array_targets_decode_to_arrays():
    y = np.array([[0.5, 1], [1.5, 0], [2.5, 1]])
    ts = TaskSet({1: "classification"}).fit(y)
    out = ts.decode([np.array([[0.0]] * 3), np.array([[0.0, 1.0]] * 3)])
    assert isinstance(out, np.ndarray) and out.shape == (3, 2) and out.dtype == np.float64
    ts1 = TaskSet().fit(np.array(["a", "b", "a"]))
    out1 = ts1.decode([np.array([[1.0, 0.0]] * 3)])
    assert out1.shape == (3,) and out1.tolist() == ["a", "a", "a"]


def test_mixed_array_targets_decode_to_object():
    y = np.array([[0.5, "x"], [1.5, "y"]], dtype=object)
    ts = TaskSet().fit(y)
    assert [type(t) for t in ts.tasks_] == [Regression, Classification]
    out = ts.decode([np.zeros((2, 1)), np.array([[0.0, 1.0]] * 2)])
    assert out.dtype == object and out[:, 1].tolist() == ["y", "y"]


def test_score_ignores_missing_labels():
    y = pd.DataFrame({"c": ["a", "b", None, "b"], "r": [1.0, np.nan, 3.0, 5.0]})
    ts = TaskSet().fit(y)
    # predict "b" everywhere and r perfectly where labelled
    cls_out = np.array([[0.0, 1.0]] * 4)
    r = ts.tasks_[1]
    reg_out = ((np.array([1.0, 0.0, 3.0, 5.0]) - r.mean_) / r.scale_)[:, None]
    assert [t.name_ for t in ts.tasks_] == ["c", "r"]
    scores = ts.score_tasks(y, [cls_out, reg_out])
    assert scores["c"] == pytest.approx(2 / 3)
    assert scores["r"] == pytest.approx(1.0)


def test_declared_classes_of_a_categorical_column_keep_the_category_order():
    """``classes`` given (partial_fit, cross-fitted ensemble members) order a categorical
    column's classes as its categories, as when they are inferred; others are sorted."""
    y = pd.DataFrame({"c": pd.Categorical(["lo", "hi", "lo"], categories=["lo", "mid", "hi"]),
                      "s": ["lo", "hi", "lo"]})
    inferred = TaskSet().fit(y)
    declared = TaskSet().fit(y, classes={"c": ["hi", "mid", "lo"], "s": ["lo", "mid", "hi"]})
    assert inferred.tasks_[0].classes_.tolist() == ["lo", "hi"]
    assert declared.tasks_[0].classes_.tolist() == ["lo", "mid", "hi"]
    assert declared.tasks_[1].classes_.tolist() == ["hi", "lo", "mid"]


def test_declared_classes_make_an_inferred_column_a_classification():
    """``classes`` names every class of a column: a float column of codes with missing
    labels (inferred a regression, with a warning) is then a classification, silently."""
    y = pd.DataFrame({"code": [0.0, 1.0, np.nan, 1.0, 0.0] * 4, "r": np.linspace(0, 1, 20)})
    with pytest.warns(UserWarning, match="inferred as a regression"):
        assert [t.kind for t in TaskSet().fit(y).tasks_] == ["regression", "regression"]
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        tasks = TaskSet().fit(y, classes={"code": [0, 1]}).tasks_
    assert [t.kind for t in tasks] == ["classification", "regression"]
    assert tasks[0].classes_.tolist() == [0, 1]
    with pytest.raises(ValueError, match="classes were given for regression task 'code'"):
        TaskSet({"code": "regression"}).fit(y, classes={"code": [0, 1]})


def test_a_spec_in_a_tasks_dict_keeps_its_loss_instance():
    """``tasks={column: spec}`` binds the spec to the column with its own parameters only
    (a loss instance's parameters are not passed as the spec's own)."""
    from skmtl.losses import BCELoss, CrossEntropyLoss

    y = pd.DataFrame({"c": ["x", "x", "x", "y"], "m1": [0, 1, 0, 0], "m2": [1, 1, 0, 1]})
    spec = Classification(loss=CrossEntropyLoss(class_weight="balanced"), weight=2.0)
    tasks = TaskSet({"c": spec, "m": MultiLabel(["m1", "m2"],
                                               loss=BCELoss(pos_weight="balanced"))}).fit(y).tasks_
    assert tasks[0].weight == 2.0
    np.testing.assert_allclose(tasks[0].loss_.weight_.numpy(), [4 / 6, 4 / 2])
    np.testing.assert_allclose(tasks[1].loss_.pos_weight_.numpy(), [3 / 1, 1 / 3])


@pytest.mark.parametrize("spec", [Regression("t"), Classification("t"), MultiLabel(["t", "u"])])
def test_a_task_without_labels_in_its_first_rows_learns_its_statistics_from_the_first_labels(
        spec):
    """``allow_unlabelled`` (the first partial_fit call): a task fits without labels (a
    classification with its declared classes), and ``fit_first_labels`` takes the label
    statistics from the first rows that label it, once; without it, no label is an error."""
    from skmtl.losses import BCELoss, CrossEntropyLoss

    empty = pd.DataFrame({"t": [np.nan] * 4, "u": [np.nan] * 4})
    labelled = pd.DataFrame({"t": [1.0, 1.0, 1.0, 0.0, 3.0], "u": [0.0, 0.0, 0.0, 1.0, 1.0]})
    labelled = labelled.iloc[:4] if spec.kind != "regression" else labelled
    loss = {"classification": CrossEntropyLoss(class_weight="balanced"),
            "multilabel": BCELoss(pos_weight="balanced")}.get(spec.kind)
    spec = spec.set_params(loss=loss)
    columns = spec._declared_columns()
    classes = [0.0, 1.0] if spec.kind == "classification" else None
    with pytest.raises(ValueError, match="has no labels at all"):
        spec.fit(empty[columns], classes=classes)
    task = spec.fit(empty[columns], classes=classes, allow_unlabelled=True)
    assert not task.labelled_
    assert not task.fit_first_labels(empty[columns])  # still none: nothing learnt
    assert task.fit_first_labels(labelled[columns])
    assert task.labelled_
    if spec.kind == "regression":
        assert (task.mean_, task.scale_) == pytest.approx((1.2, np.std([1, 1, 1, 0, 3.0])))
    elif spec.kind == "classification":
        np.testing.assert_allclose(task.loss_.weight_.numpy(), [4 / 2, 4 / 6])
    else:
        np.testing.assert_allclose(task.loss_.pos_weight_.numpy(), [1 / 3, 3 / 1])
    before = task.loss_
    assert not task.fit_first_labels(labelled.iloc[:2][columns])  # once
    assert task.loss_ is before
