"""Property-based tests (hypothesis): any table, any options, trains or refuses clearly.

Each example draws a table of 1-5 tasks of every type (regression, binary and multiclass
classification, multi-label through :class:`skmtl.tasks.MultiLabel`), each with a label
dtype (int, float, bool, str, pandas category, nullable Int64/Float64/boolean/string), a
missing-label pattern (none, random, or a task labelled on a handful of rows so that most
batches have no label for it; optionally one row with no label at all), and random
options: architecture x weighting x schedule x freeze x fit / partial_fit / warm_start,
validation split, batch size, optimizer, weight decay, decision thresholds, temperature
scaling, and ``sample_weight`` (1-D or per (row, task)) when ``fit`` accepts it. X is an array, a numeric DataFrame or a raw one
(extra columns with missing values, all missing, object / category / string / bool, pyarrow
text and timestamps, dates, durations,
constant), predicted again with categories that fit never saw. The property: either two epochs train to finite per-task losses (frozen
parameters unchanged) and the predictions have y's shape, column names, labels (a subset of
the training labels) and dtypes, or the call raises a ValueError/TypeError that names the
offending option or column before its first training step. A second property: any model
that trained exports to ONNX (skmtl.export.to_onnx) with predict's labels (but on rows
within 1e-4 of a tie), probabilities and values, on X and on unseen categories and days.
A third: MultiTaskEnsemble (of seeds, or cross-fitted) and TaskGrouping over any table fit
or refuse clearly, and predict as the estimators do. A fourth: out-of-fold predictions
(skmtl.model_selection.cross_val_predict) of any table are shaped like predict's, and their
probabilities have the classes of a model fitted on all the rows, in its order.

Profiles: "ci" (default) is derandomized, so every run draws the same 600 examples (about
30 s on one core when they pass; shrinking a failure takes longer); "lower" (what
scripts/test_lower.sh uses) draws 200 derandomized examples; "long" draws 3000 fresh
random examples on each run (a few minutes); the other three properties draw a tenth of
those::

    SKMTL_HYPOTHESIS_PROFILE=long .venv/bin/pytest -p no:xdist tests/test_properties.py

A failure prints the example and a ``@reproduce_failure`` blob to replay it.
"""

from __future__ import annotations

import inspect
import os
import uuid
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
import torch
from hypothesis import HealthCheck, event, given, note, settings
from hypothesis import strategies as st
from recording import INITIAL, RUNNABLE_WEIGHTINGS, Recorder
from recording import call_or_refuse as _call_or_refuse
from sklearn.base import clone

from skmtl import MultiTaskClassifier, MultiTaskNet, MultiTaskRegressor
from skmtl._thresholds import is_thresholded
from skmtl.architectures import ARCHITECTURES
from skmtl.tasks import Classification, MultiLabel, Regression

_HEALTH = [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example]
settings.register_profile("ci", derandomize=True, max_examples=600, deadline=None, database=None,
                          suppress_health_check=_HEALTH, print_blob=True)
# scripts/test_lower.sh: the same derandomized draws, a third as many (the lowest versions of
# pandas/numpy meet every dtype the strategies make, in a third of the time)
settings.register_profile("lower", derandomize=True, max_examples=200, deadline=None, database=None,
                          suppress_health_check=_HEALTH, print_blob=True)
settings.register_profile("long", max_examples=3000, deadline=None, database=None,
                          suppress_health_check=_HEALTH, print_blob=True)
PROFILE = settings.get_profile(os.environ.get("SKMTL_HYPOTHESIS_PROFILE", "ci"))

#: Packages each weighting's solver needs beyond skmtl's requirements.
WEIGHTING_NAMES = RUNNABLE_WEIGHTINGS
OPTION_WORDS = ("architecture", "weighting", "schedule", "freeze", "warm_start", "partial_fit",
                "sample_weight", "classes", "validation_fraction", "batch_size", "optimizer",
                "weight_decay", "numeric_embedding", "n_bins", "min_frequency", "max_categories",
                "category_dropout", "threshold", "temperature_scaling", "groups")


# -- drawing a table -----------------------------------------------------------------------------

DTYPES = {
    "regression": ["float64", "float32", "Float64", "int64", "Int64"],
    "binary": ["int64", "float64", "bool", "str", "category", "Int64", "boolean", "string"],
    "multiclass": ["int64", "float64", "str", "category", "Int64", "string"],
    "multilabel": ["int64", "float64", "bool", "Int64", "boolean"],
}


@dataclass
class TaskCase:
    kind: str  # regression, binary, multiclass, multilabel
    dtype: str
    columns: list
    missing: str  # none, random, sparse
    declared: bool
    labels: list = field(default_factory=list)  # the training labels (classification)
    loss: str | None = None  # a regression's declared log-link loss: "poisson", "gamma"


def _classes(dtype: str, n_classes: int, rng: np.random.RandomState) -> list:
    if dtype in ("bool", "boolean"):
        return [False, True]
    if dtype in ("int64", "Int64"):
        return sorted(rng.choice(np.arange(-3, 10), n_classes, replace=False).tolist())
    if dtype == "float64":
        return sorted(rng.choice([0.0, 1.0, 2.0, 3.0, 7.0], n_classes, replace=False).tolist())
    return ["lo", "mid", "hi", "top"][:n_classes]


def _column(values: np.ndarray, labelled: np.ndarray, dtype: str, categories=None) -> pd.Series:
    """A y column of ``dtype`` holding ``values`` where labelled, missing elsewhere."""
    if dtype == "category":
        series = pd.Series(pd.Categorical(values, categories=categories))
        return series.where(labelled)
    if dtype in ("Int64", "Float64", "boolean", "string"):
        series = pd.Series(values).astype(dtype)
        return series.mask(~labelled, pd.NA)
    series = pd.Series(values).astype(dtype)
    if labelled.all():
        return series
    if dtype in ("bool", "str"):
        series = series.astype(object)
        series[~labelled] = None if dtype == "bool" else np.nan
        return series
    return series.astype("float32" if dtype == "float32" else "float64").where(labelled)


def _labelled_rows(n: int, missing: str, minimum: int, empty_row: int | None,
                   rng: np.random.RandomState) -> np.ndarray:
    candidates = np.array([i for i in range(n) if i != empty_row])
    if missing == "none":
        count = len(candidates)
    elif missing == "sparse":
        count = max(minimum, min(4, max(2, n // 30)))
    else:
        count = max(minimum, int(len(candidates) * rng.uniform(0.5, 0.9)))
    mask = np.zeros(n, dtype=bool)
    mask[rng.choice(candidates, count, replace=False)] = True
    return mask


class Table:
    """A drawn table, shown by its shape, dtypes and task cases (not its values)."""

    def __init__(self, X, y, cases: list, tasks, estimator: type):
        self.X, self.y, self.cases, self.tasks, self.estimator = X, y, cases, tasks, estimator

    def _repr_pretty_(self, printer, cycle) -> None:  # how hypothesis shows an example
        printer.text(repr(self))

    def __repr__(self) -> str:
        y = self.y.to_frame() if isinstance(self.y, pd.Series) else self.y
        dtypes = {c: str(d) for c, d in y.dtypes.items()}
        n_labelled = {c: int(y[c].notna().sum()) for c in y.columns}
        return (f"Table(X={type(self.X).__name__}{np.shape(self.X)}, "
                f"y={type(self.y).__name__} dtypes={dtypes} labelled={n_labelled}, "
                f"cases={self.cases}, tasks={self.tasks!r}, "
                f"estimator={self.estimator.__name__})")


#: Columns a raw DataFrame X may carry besides its numeric signal columns.
RAW_COLUMNS = ("numeric with NaN", "all NaN", "object with NaN", "category", "bool", "string",
               "constant", "date with NaT", "duration", "pyarrow text", "pyarrow date")


def _raw_columns(X: pd.DataFrame, kinds: set, rng: np.random.RandomState) -> pd.DataFrame:
    """X with extra columns of the given kinds (sorted, so the draw is reproducible):
    skmtl encodes them itself (categories as codes, missing values as indicators)."""
    n, X = len(X), X.copy()
    words = np.array(["red", "green", "blue", "teal"], dtype=object)
    for kind in sorted(kinds):
        name = f"raw_{kind.replace(' ', '_')}"
        if kind == "numeric with NaN":
            values = X.iloc[:, 0].to_numpy() + rng.normal(size=n)
            values[rng.uniform(size=n) < 0.3] = np.nan
        elif kind == "all NaN":
            values = np.full(n, np.nan)
        elif kind == "object with NaN":  # skewed: some categories rare (min_frequency)
            values = words[rng.choice(4, n, p=[0.6, 0.25, 0.1, 0.05])].copy()
            values[rng.uniform(size=n) < 0.2] = None
        elif kind == "category":
            values = pd.Categorical(words[rng.randint(0, 3, n)], categories=list(words))
        elif kind == "bool":
            values = X.iloc[:, 0].to_numpy() > 0
        elif kind == "string":
            values = pd.array(words[rng.randint(0, 2, n)], dtype="string")
        elif kind == "date with NaT":  # numbers and the day as a category (hours vary)
            values = (pd.Timestamp("2024-03-01") + pd.to_timedelta(rng.randint(0, 40 * 24, n),
                                                                   unit="h")).to_series()
            values[rng.uniform(size=n) < 0.2] = pd.NaT
            values = values.reset_index(drop=True).set_axis(X.index)
        elif kind == "pyarrow text":  # pd.ArrowDtype, as read_csv(dtype_backend="pyarrow")
            values = words[rng.randint(0, 3, n)].copy()
            values[rng.uniform(size=n) < 0.2] = None
            values = pd.Series(values, index=X.index, dtype="object").astype(
                pd.ArrowDtype(pa.string()))
        elif kind == "pyarrow date":  # pyarrow timestamps with missing values
            values = (pd.Timestamp("2024-03-01") + pd.to_timedelta(rng.randint(0, 60, n),
                                                                   unit="D")).to_series()
            values[rng.uniform(size=n) < 0.2] = pd.NaT
            values = values.reset_index(drop=True).set_axis(X.index).astype(
                pd.ArrowDtype(pa.timestamp("us")))
        elif kind == "duration":  # read as seconds
            values = pd.to_timedelta(rng.randint(0, 3600, n), unit="s").to_series()
            values = values.reset_index(drop=True).set_axis(X.index)
        else:
            values = np.ones(n)
        X[name] = pd.Series(values, index=X.index) if not isinstance(values, pd.Series) else values
    return X


def unseen_categories(X):
    """X with every categorical (non-numeric) column's values replaced, on half of the
    rows, by a category that fit never saw."""
    if not isinstance(X, pd.DataFrame):
        return X
    X = X.copy()
    for name in X.columns:
        column = X[name]
        arrow = column.dtype.pyarrow_dtype if isinstance(column.dtype, pd.ArrowDtype) else None
        if arrow is not None and pa.types.is_timestamp(arrow):
            continue  # pyarrow timestamps (pandas 2.0 cannot shift them); days unseen in fit
            # are drawn for the "date with NaT" columns
        if pd.api.types.is_bool_dtype(column) or pd.api.types.is_numeric_dtype(column) \
                or pd.api.types.is_timedelta64_dtype(column):
            continue
        if pd.api.types.is_datetime64_any_dtype(column):  # days fit never saw
            X[name] = column.where(np.arange(len(column)) % 2 == 1,
                                   column + pd.Timedelta(days=3650))
            continue
        if isinstance(column.dtype, pd.CategoricalDtype):
            column = column.cat.add_categories(["never seen"])
        column = column.copy()
        column.iloc[::2] = "never seen"
        X[name] = column
    return X


@st.composite
def tables(draw):
    """A :class:`Table`: X, y, its task cases, the ``tasks`` parameter and the estimator."""
    n = draw(st.integers(24, 72), label="n_rows")
    n_features = draw(st.integers(1, 4), label="n_features")
    n_tasks = draw(st.integers(1, 5), label="n_tasks")
    rng = np.random.RandomState(draw(st.integers(0, 2**16), label="seed"))
    empty_row = draw(st.sampled_from([None, int(rng.randint(n))]), label="row with no label")
    X = rng.normal(size=(n, n_features))
    columns: dict = {}
    cases: list[TaskCase] = []
    for t in range(n_tasks):
        kind = draw(st.sampled_from(sorted(DTYPES)), label=f"task {t} kind")
        dtype = draw(st.sampled_from(DTYPES[kind]), label=f"task {t} dtype")
        missing = draw(st.sampled_from(["none", "random", "sparse"]), label=f"task {t} missing")
        signal = X[:, t % n_features] + 0.3 * rng.normal(size=n)
        if kind == "multilabel":
            width = draw(st.integers(1, 3), label=f"task {t} labels")
            names = [f"t{t}_{j}" for j in range(width)]
            labelled = _labelled_rows(n, missing, 1, empty_row, rng)
            for j, name in enumerate(names):
                entries = labelled.copy()
                if missing == "random":  # each (row, label) entry independently
                    entries &= rng.uniform(size=n) < 0.8
                    entries[np.flatnonzero(labelled)[0]] = True
                values = (signal + 0.5 * j > 0) if dtype in ("bool", "boolean") else (
                    (signal + 0.5 * j > 0).astype(int))
                columns[name] = _column(np.asarray(values), entries, dtype)
            cases.append(TaskCase(kind, dtype, names, missing, True))
            continue
        name = f"t{t}"
        if kind == "regression":
            scale = draw(st.sampled_from([1.0, 1000.0]), label=f"task {t} scale")
            loss = draw(st.sampled_from([None, None, "poisson", "gamma"]), label=f"task {t} loss")
            # a count or an amount (log-link loss): positive values; else any sign
            values = np.exp(signal) * scale if loss else signal * scale + 5.0
            if dtype in ("int64", "Int64"):
                values = np.round(values * 10).astype(np.int64) + (loss == "gamma")
            labelled = _labelled_rows(n, missing, 2, empty_row, rng)
            columns[name] = _column(values, labelled, dtype)
            # an int-valued regression column would be inferred a classification, and a
            # loss needs a spec: declare it
            auto_ok = dtype in ("float64", "float32", "Float64") and loss is None
            cases.append(TaskCase(kind, dtype, [name], missing,
                                  draw(st.booleans(), label=f"task {t} declared") or not auto_ok,
                                  loss=loss))
            continue
        n_classes = 2 if kind == "binary" else draw(st.integers(3, 4), label=f"task {t} classes")
        classes = _classes(dtype, n_classes, rng)
        labelled = _labelled_rows(n, missing, n_classes, empty_row, rng)
        order = np.argsort(signal + 0.5 * rng.normal(size=n))
        values = np.empty(n, dtype=object)
        values[order] = [classes[i * n_classes // n] for i in range(n)]
        # every class among the labelled rows
        rows = np.flatnonzero(labelled)
        values[rng.choice(rows, n_classes, replace=False)] = classes
        categories = None
        if dtype == "category":
            categories = classes + (["unused"] if rng.uniform() < 0.3 else [])
        columns[name] = _column(values, labelled, dtype, categories)
        # whole-number floats (and an int column turned float by NaN) would be inferred a
        # regression: declare them
        auto_ok = dtype in ("bool", "str", "category", "boolean", "string", "Int64") or (
            dtype == "int64" and labelled.all())
        seen = pd.unique(columns[name].dropna()).tolist()
        cases.append(TaskCase(kind, dtype, [name], missing,
                              draw(st.booleans(), label=f"task {t} declared") or not auto_ok,
                              labels=seen))
    y = pd.DataFrame(columns)
    kinds = {case.kind for case in cases}
    options = [MultiTaskNet]
    if kinds == {"regression"}:
        options.append(MultiTaskRegressor)
    if "regression" not in kinds:
        options.append(MultiTaskClassifier)
    estimator = draw(st.sampled_from(options), label="estimator")
    specs = []
    if estimator is not MultiTaskNet:  # no specs: each regression trains on squared error
        cases = [replace(case, loss=None) for case in cases]
    for case in cases:
        if case.kind == "multilabel":
            specs.append(MultiLabel(case.columns))
        elif case.declared and estimator is MultiTaskNet:
            specs.append(Regression(case.columns[0], loss=case.loss)
                         if case.kind == "regression" else Classification(case.columns[0]))
    tasks = specs if specs else "auto"
    x_kind = draw(st.sampled_from(["array", "numeric frame", "raw frame"]), label="X")
    if x_kind != "array":
        index = pd.Index(rng.permutation(n) * 3 + 100)
        X = pd.DataFrame(X, columns=[f"x{j}" for j in range(n_features)], index=index)
        y.index = index
    if x_kind == "raw frame":
        X = _raw_columns(X, draw(st.sets(st.sampled_from(RAW_COLUMNS), min_size=1),
                                 label="raw columns"), rng)
    if len(y.columns) == 1 and draw(st.booleans(), label="y as Series"):
        y = y.iloc[:, 0]
    return Table(X, y, cases, tasks, estimator)


@st.composite
def options(draw):
    return {
        "architecture": draw(st.sampled_from(sorted(ARCHITECTURES)), label="architecture"),
        "weighting": draw(st.sampled_from(WEIGHTING_NAMES), label="weighting"),
        "schedule": draw(st.sampled_from(["joint", "joint", "alternating"]), label="schedule"),
        "freeze": draw(st.sampled_from([None, None, "trunk", "all_but_heads"]), label="freeze"),
        "validation_fraction": draw(st.sampled_from([None, None, 0.2]), label="validation"),
        "batch_size": draw(st.sampled_from([8, 16, 32]), label="batch_size"),
        "optimizer": draw(st.sampled_from(["adamw", "adam", "adamw", "sgd"]), label="optimizer"),
        "weight_decay": draw(st.sampled_from(["auto", "auto", 0.0, 1e-3]), label="weight_decay"),
        "numeric_embedding": draw(st.sampled_from(["piecewise_linear", "piecewise_linear",
                                                   "periodic", None]), label="embedding"),
        "n_bins": draw(st.sampled_from(["auto", "auto", 2, 5]), label="n_bins"),
        "min_frequency": draw(st.sampled_from([None, None, 3, 0.2]), label="min_frequency"),
        "max_categories": draw(st.sampled_from([None, None, 2, 3]), label="max_categories"),
        "category_dropout": draw(st.sampled_from([0.0, 0.0, 0.3]), label="category_dropout"),
        "threshold": draw(st.sampled_from([None, None, "accuracy", "f1"]), label="threshold"),
        "temperature_scaling": draw(st.sampled_from([False, False, True]),
                                    label="temperature_scaling"),
    }


# -- checks ------------------------------------------------------------------------------------------


def _rows(data, index):
    return data.iloc[index] if isinstance(data, (pd.DataFrame, pd.Series)) else data[index]


def call_or_refuse(call, key: str, words) -> Exception | None:
    """:func:`recording.call_or_refuse`, noting a refusal in hypothesis' report."""
    refused = _call_or_refuse(call, key, words)
    if refused is not None:
        note(f"refused: {refused!r}")
    return refused


def refused_clearly(call, words, label: str) -> tuple[bool, object]:
    """``(False, call())``, or ``(True, None)`` when the call raised a ValueError or a
    TypeError, which must name one of ``words`` (an option or a column); the refusal is
    noted in hypothesis' report and counted under ``label``."""
    try:
        return False, call()
    except (ValueError, TypeError) as exc:
        assert any(str(word) in str(exc) for word in words), (
            f"the error names none of {list(words)}: {exc!r}")
        note(f"refused: {exc!r}")
        event(f"{label}: refused: {str(exc)[:90]}")
        return True, None


def check_predictions(est, X, y, cases: list[TaskCase]) -> None:
    pred = est.predict(X)
    index = X.index if isinstance(X, pd.DataFrame) else None
    if isinstance(y, pd.Series):
        assert isinstance(pred, pd.Series), type(pred)
        assert pred.name == y.name
        pred_frame, y_frame = pred.to_frame(), y.to_frame()
    else:
        assert isinstance(pred, pd.DataFrame), type(pred)
        assert list(pred.columns) == list(y.columns)
        pred_frame, y_frame = pred, y
    assert pred_frame.shape == y_frame.shape
    if index is not None:
        assert pred.index.equals(index)
    for case in cases:
        for column in case.columns:
            got, truth = pred_frame[column], y_frame[column]
            if case.kind == "regression":
                dtype = truth.dtype
                expected = dtype if (pd.api.types.is_float_dtype(dtype)
                                     and not isinstance(dtype, pd.CategoricalDtype)) else np.float64
                assert got.dtype == expected, (column, got.dtype, expected)
                values = got.to_numpy(dtype=np.float64)
                assert np.isfinite(values).all(), column
                if case.loss:  # a log link: exp of the output, never negative
                    assert (values >= 0).all(), (column, case.loss, values.min())
                continue
            assert got.dtype == truth.dtype, (column, got.dtype, truth.dtype)
            assert not got.isna().any(), column
            allowed = {0, 1} if case.kind == "multilabel" else set(case.labels)
            assert set(got.tolist()) <= allowed, (column, set(got.tolist()), allowed)
    if hasattr(est, "predict_proba_frame"):
        frame = est.predict_proba_frame(X)
        classifiers = [task for task in est.tasks_ if task.is_classification]
        assert frame.columns.tolist() == [(t.name_, c) for t in classifiers for c in t.classes_]
        assert frame.index.equals(index if index is not None else pd.RangeIndex(len(y)))
        assert np.isfinite(frame.to_numpy(dtype=np.float64)).all()


def check_trained(est, key: str, n_epochs: int) -> None:
    history = est.history_
    assert len(history) == n_epochs, f"{len(history)} epochs, expected {n_epochs}"
    for task in est.tasks_:
        losses = np.asarray(history[:, f"train_loss_{task.name_}"], dtype=float)
        assert np.isfinite(losses).all(), (task.name_, losses)
    assert np.isfinite(np.asarray(history[:, "train_loss"], dtype=float)).all()
    frozen = set(getattr(est, "frozen_parameters_", []))
    now = dict(est.net_.module_.named_parameters())
    moved = {n for n, p in now.items() if not torch.equal(p.detach(), INITIAL[key][n])}
    assert not frozen & moved, f"frozen parameters changed: {sorted(frozen & moved)}"


def _sample_weight(kind: str, n: int, n_tasks: int, rng: np.random.RandomState):
    if kind == "none":
        return None
    shape = (n,) if kind == "1d" else (n, n_tasks)
    weights = rng.uniform(0.2, 3.0, size=shape)
    weights[rng.uniform(size=shape) < 0.15] = 0.0  # rows (or entries) without influence
    return weights


# -- the property -------------------------------------------------------------------------------------


@PROFILE
@given(table=tables(), opts=options(), mode=st.sampled_from(["fit", "partial_fit", "warm_start"]),
       weight_kind=st.sampled_from(["none", "none", "1d", "2d"]), seed=st.integers(0, 3),
       grouped=st.sampled_from([False, False, True]))
def test_any_table_and_options_train_or_refuse_before_training(table, opts, mode, weight_kind,
                                                               seed, grouped):
    X, y, cases, tasks, estimator = table.X, table.y, table.cases, table.tasks, table.estimator
    key = uuid.uuid4().hex
    est = estimator(tasks=tasks, hidden_layer_sizes=(8,), lr=1e-2, device="cpu",
                    random_state=seed, callbacks=[Recorder(key)], **opts,
                    max_epochs=1 if mode == "warm_start" else 2, warm_start=mode == "warm_start")
    n = len(y)
    columns = [c for case in cases for c in case.columns]
    words = OPTION_WORDS + tuple(columns)
    weighted = "sample_weight" in inspect.signature(est.fit).parameters
    sample_weight = _sample_weight(weight_kind if weighted else "none", n, len(cases),
                                   np.random.RandomState(seed))
    extra = {} if sample_weight is None else {"sample_weight": sample_weight}
    note(f"sample_weight={weight_kind if weighted else 'not accepted by fit'}")
    # rows in groups (neighbours differ, so any two consecutive rows hold two groups)
    groups = np.arange(n) % max(2, n // 4) if grouped else None
    if grouped:
        extra["groups"] = groups

    if mode == "partial_fit":
        halves = [np.arange(n // 2), np.arange(n // 2, n)]
        classes = {case.columns[0]: np.asarray(case.labels, dtype=object)
                   for case in cases if case.kind in ("binary", "multiclass")}
        if isinstance(y, pd.Series) and classes:
            classes = next(iter(classes.values()))

        def part(rows):
            kw = {} if sample_weight is None else {"sample_weight": sample_weight[rows]}
            return kw | ({} if groups is None else {"groups": groups[rows]})

        calls = [lambda: est.partial_fit(_rows(X, halves[0]), _rows(y, halves[0]),
                                         classes=classes if len(classes) else None,
                                         **part(halves[0])),
                 lambda: est.partial_fit(_rows(X, halves[1]), _rows(y, halves[1]),
                                         **part(halves[1]))]
    elif mode == "warm_start":
        calls = [lambda: est.fit(X, y, **extra)] * 2
    else:
        calls = [lambda: est.fit(X, y, **extra)]

    must_refuse = opts["schedule"] == "alternating" and opts["weighting"] != "equal"
    for i, call in enumerate(calls):
        state = None if i == 0 else {k: v.clone() for k, v in est.net_.module_.state_dict().items()}
        refused = call_or_refuse(call, key, words)
        if must_refuse:
            assert refused is not None, "schedule='alternating' with a weighting but 'equal' trained"
        if refused is not None:
            if state is not None:
                after = est.net_.module_.state_dict()
                assert all(torch.equal(state[k], after[k]) for k in state), (
                    "a refused call changed the weights")
            return
    check_trained(est, key, n_epochs=2)
    check_predictions(est, X, y, cases)
    check_predictions(est, unseen_categories(X), y, cases)  # predict never fails on them
    check_calibration(est, opts)
    if grouped and est.net_.train_split is not None:  # validated on whole groups
        last = halves[1] if mode == "partial_fit" else np.arange(n)
        train, valid = est.net_.train_split.split(len(last))
        held, kept = set(groups[last][valid.numpy()]), set(groups[last][train.numpy()])
        assert held and kept and not held & kept, "validation rows split a group"


def check_calibration(est, opts: dict) -> None:
    """Thresholds and temperatures exist exactly for the tasks they apply to, in range."""
    thresholded = {t.name_ for t in est.tasks_ if is_thresholded(t)}
    assert set(est.thresholds_) == (thresholded if opts["threshold"] else set())
    for name, cut in est.thresholds_.items():
        cut = np.asarray(cut, dtype=np.float64)
        assert ((cut >= 0) & (cut <= 1)).all(), (name, cut)
    classifiers = {t.name_ for t in est.tasks_ if t.is_classification}
    assert set(est.temperatures_) == (classifiers if opts["temperature_scaling"] else set())
    for name, temperature in est.temperatures_.items():
        assert 0.05 <= temperature <= 20.0, (name, temperature)


# -- ONNX export of any trained model ------------------------------------------------------------------


def _margin(kind: str, proba: np.ndarray, cut) -> np.ndarray:
    """Per row, how near a classification decision is to a tie: for a multi-label task the
    smallest ``|p - cut|`` over its labels (cut 0.5 by default); for a binary task with a
    threshold, ``|p(positive) - cut|``; otherwise the gap between the two largest
    probabilities."""
    if kind == "multilabel":
        cut = 0.5 if cut is None else np.asarray(cut, dtype=np.float64)
        return np.abs(proba - cut).min(axis=1)
    if cut is not None:
        return np.abs(proba[:, 1] - float(cut))
    top = np.sort(proba, axis=1)
    return top[:, -1] - top[:, -2]


@settings(PROFILE, max_examples=max(PROFILE.max_examples // 10, 20))
@given(table=tables(), opts=options(), seed=st.integers(0, 3),
       ensemble=st.sampled_from([None, None, None, "seeds", "cross-fitted"]))
def test_any_trained_model_exports_to_onnx_with_predicts_outputs(table, opts, seed, ensemble):
    """Whatever the table and options, a fitted model's ONNX export (or that of an ensemble
    of two such models) gives predict's labels (except on rows within 1e-4 of a tie, where
    float32 rounding may decide), predict_proba's probabilities and the regression values,
    on X and on X with unseen categories / days. A cross-fitted ensemble's members may have
    declared classes their fold lacked."""
    from skmtl import MultiTaskEnsemble

    ort = pytest.importorskip("onnxruntime")
    pytest.importorskip("skl2onnx")
    from skmtl.export import onnx_inputs, to_onnx

    X, y, cases, tasks, estimator = table.X, table.y, table.cases, table.tasks, table.estimator
    key = uuid.uuid4().hex
    est = estimator(tasks=tasks, hidden_layer_sizes=(8,), lr=1e-2, device="cpu",
                    random_state=seed, callbacks=[Recorder(key)], **opts, max_epochs=2)
    words = OPTION_WORDS + tuple(c for case in cases for c in case.columns)
    if call_or_refuse(lambda: est.fit(X, y), key, words) is not None:
        event("fit refused")
        return
    if ensemble == "seeds":  # fitted again, as two members of other seeds
        est = MultiTaskEnsemble([est], n_seeds=2, random_state=seed).fit(X, y)
    elif ensemble == "cross-fitted":  # members of folds that may lack a class
        try:
            est = MultiTaskEnsemble([est], cv=2, random_state=seed).fit(X, y)
        except ValueError as exc:
            assert "cv=2: the training rows of fold" in str(exc), exc
            event("cross-fitted ensemble refused: a fold without labels of a task")
            return
    event(f"exported: X as {type(X).__name__}{f', an ensemble ({ensemble})' if ensemble else ''}")
    onx = to_onnx(est, X[:5] if not isinstance(X, pd.DataFrame) else X.head(5))
    session = ort.InferenceSession(onx.SerializeToString(), providers=["CPUExecutionProvider"])
    names = [o.name for o in session.get_outputs()]
    for rows in (X, unseen_categories(X)):
        got = dict(zip(names, session.run(None, onnx_inputs(session, rows))))
        predicted = est.predict(rows)
        frame = predicted.to_frame() if isinstance(predicted, pd.Series) else predicted
        probas = est.predict_proba(rows) if hasattr(est, "predict_proba") else []
        probas = [probas] if isinstance(probas, np.ndarray) else list(probas)
        for task in est.tasks_:
            expected = frame[task.columns_]
            if task.kind == "regression":
                values = expected.iloc[:, 0].to_numpy(dtype=np.float64)
                np.testing.assert_allclose(got[task.name_], values, rtol=1e-4,
                                           atol=1e-4 * max(1.0, np.abs(values).max()))
                continue
            proba = probas.pop(0)
            np.testing.assert_allclose(got[f"{task.name_}_proba"], proba, rtol=1e-4, atol=1e-5)
            labels = got[task.name_].reshape(len(rows), -1)
            if task.kind == "multilabel":  # int64 0 / 1, whatever the label columns' dtype
                same = labels == expected.to_numpy(dtype=np.float64)
            else:  # labels in their classes' type
                same = np.array([[str(a) == str(b) for a, b in zip(g, e)] for g, e in
                                 zip(labels.tolist(), expected.to_numpy(dtype=object).tolist())])
            near = _margin(task.kind, proba, est.thresholds_.get(task.name_)) < 1e-4
            assert (same.all(axis=1) | near).all(), (
                task.name_, labels[~same.all(axis=1)][:3], expected[~same.all(axis=1)][:3])


# -- the meta-estimators over any table -----------------------------------------------------------

META_WORDS = ("cv", "n_seeds", "estimators", "n_groups", "max_groups", "affinity")


@settings(PROFILE, max_examples=max(PROFILE.max_examples // 10, 20))
@given(table=tables(), opts=options(), seed=st.integers(0, 3),
       meta=st.sampled_from(["seeds", "cross-fitted", "grouping"]),
       meta_threshold=st.sampled_from([None, None, "accuracy", "f1"]),
       n_groups=st.sampled_from(["auto", 1, 2]))
def test_any_table_trains_through_an_ensemble_or_a_task_grouping_or_is_refused(
        table, opts, seed, meta, meta_threshold, n_groups):
    """Whatever the table (missing and sparse labels, any dtypes, X's kind) and the
    members' options, MultiTaskEnsemble (of seeds, or cross-fitted with thresholds chosen
    on out-of-fold rows) and TaskGrouping either fit or raise a ValueError/TypeError that
    names an option or a column; once fitted, they predict every row (X's index, y's
    columns and dtypes, labels among the training ones), with finite probabilities, on X
    and on X with unseen categories, and cross-fitted thresholds lie in [0, 1]."""
    from skmtl import MultiTaskEnsemble, TaskGrouping

    X, y, cases, tasks, estimator = table.X, table.y, table.cases, table.tasks, table.estimator
    if meta != "grouping":  # TaskGrouping chooses by affinity: its members take no threshold
        opts = {**opts, "threshold": None if meta == "cross-fitted" else opts["threshold"]}
    member = estimator(tasks=tasks, hidden_layer_sizes=(8,), lr=1e-2, device="cpu",
                       random_state=seed, **opts, max_epochs=2)
    if meta == "grouping":
        est = TaskGrouping(member, n_groups=n_groups, affinity_epochs=1, random_state=seed)
    elif meta == "cross-fitted":
        est = MultiTaskEnsemble(member, cv=2, threshold=meta_threshold, random_state=seed)
    else:
        est = MultiTaskEnsemble(member, n_seeds=2, random_state=seed)
    words = OPTION_WORDS + META_WORDS + tuple(c for case in cases for c in case.columns)
    refused, _ = refused_clearly(lambda: est.fit(X, y), words, meta)
    if refused:
        return
    event(f"{meta}: fitted")
    check_predictions(est, X, y, cases)
    check_predictions(est, unseen_categories(X), y, cases)
    if meta == "cross-fitted":
        thresholded = {t.name_ for t in est.tasks_ if is_thresholded(t)}
        assert set(est.thresholds_) == (thresholded if meta_threshold else set())
        for name, cut in est.thresholds_.items():
            cut = np.asarray(cut, dtype=np.float64)
            assert ((cut >= 0) & (cut <= 1)).all(), (name, cut)


# -- out-of-fold predictions of any table --------------------------------------------------------


@settings(PROFILE, max_examples=max(PROFILE.max_examples // 10, 20))
@given(table=tables(), opts=options(), seed=st.integers(0, 3), cv=st.sampled_from([2, 3]),
       method=st.sampled_from(["predict", "predict_proba_frame", "predict_proba"]),
       weight_kind=st.sampled_from(["none", "none", "1d", "2d"]),
       grouped=st.sampled_from([False, False, True]),
       meta=st.sampled_from([None, None, None, "seeds", "cross-fitted", "grouping"]))
def test_any_table_gives_out_of_fold_predictions_or_is_refused(table, opts, seed, cv, method,
                                                               weight_kind, grouped, meta):
    """Whatever the table, the options, the sample weights, the groups of rows and the
    model (an estimator, an ensemble, a task grouping),
    skmtl.model_selection.cross_val_predict either refuses with a ValueError/TypeError
    naming an option or a column, or predicts every row once: predict shaped like y (X's
    index, y's columns and dtypes, training labels); probabilities finite, summing to 1 per
    classification task, their classes those of a model fitted on all the rows, in its
    order (a class a fold lacked included); predict_proba the same numbers as
    predict_proba_frame, task by task."""
    from skmtl.model_selection import cross_val_predict

    X, y, cases, tasks, estimator = table.X, table.y, table.cases, table.tasks, table.estimator
    opts = {**opts, "threshold": None}  # thresholds: the cross-fitted ensemble's property
    if opts["schedule"] == "alternating":  # refused with a weighting (the first property)
        opts["weighting"] = "equal"
    est = estimator(tasks=tasks, hidden_layer_sizes=(8,), lr=1e-2, device="cpu",
                    random_state=seed, **opts, max_epochs=2)
    if meta is not None:
        from skmtl import MultiTaskEnsemble, TaskGrouping

        est = {"seeds": lambda: MultiTaskEnsemble(est, n_seeds=2, random_state=seed),
               "cross-fitted": lambda: MultiTaskEnsemble(est, cv=2, random_state=seed),
               "grouping": lambda: TaskGrouping(est, n_groups=min(2, len(cases)),
                                                affinity_epochs=1, random_state=seed)}[meta]()
    note(f"model: {type(est).__name__} ({meta})")
    words = OPTION_WORDS + META_WORDS + tuple(c for case in cases for c in case.columns)
    n = len(y)
    weighted = "sample_weight" in inspect.signature(est.fit).parameters
    kw = {"sample_weight": _sample_weight(weight_kind if weighted else "none", n, len(cases),
                                          np.random.RandomState(seed)),
          "groups": np.arange(n) % max(2, n // 4) if grouped else None}  # GroupKFold(cv)
    note(f"sample_weight={weight_kind if weighted else 'not accepted by fit'}")
    fit_kw = {} if kw["sample_weight"] is None else {"sample_weight": kw["sample_weight"]}
    classifiers = [case for case in cases if case.kind != "regression"]
    if method != "predict" and not classifiers:  # no probabilities, or a refused fold
        with pytest.raises((AttributeError, ValueError)) as info:
            cross_val_predict(est, X, y, cv=cv, method=method, **kw)
        assert info.type is AttributeError or any(str(w) in str(info.value) for w in words)
        event("regression only: no probabilities")
        return
    refused, out = refused_clearly(
        lambda: cross_val_predict(est, X, y, cv=cv, method=method, **kw), words, method)
    if refused:
        return
    event(f"{method}: predicted" + (f" through {meta}" if meta else ""))
    index = X.index if isinstance(X, pd.DataFrame) else pd.RangeIndex(len(y))
    if method == "predict":
        fitted = type("Fitted", (), {"predict": lambda self, rows: out,
                                     "tasks_": []})()  # check_predictions' view of `out`
        check_predictions(fitted, X, y, cases)
        return
    try:  # the classes' order of a model fitted on all the rows
        whole = clone(est).fit(X, y, **fit_kw)
    except (ValueError, TypeError):
        whole = None
    if method == "predict_proba_frame":
        frame = out
    else:
        frame = cross_val_predict(est, X, y, cv=cv, method="predict_proba_frame", **kw)
        probas = [out] if isinstance(out, np.ndarray) else out
        names = frame.columns.get_level_values("task").unique()
        assert len(probas) == len(names)
        for proba, name in zip(probas, names):
            np.testing.assert_array_equal(proba, frame[name].to_numpy())
    assert frame.index.equals(index)
    values = frame.to_numpy(dtype=np.float64)
    assert np.isfinite(values).all() and (values >= 0).all() and (values <= 1 + 1e-6).all()
    if whole is not None:
        expected = [(t.name_, c) for t in whole.tasks_ if t.is_classification for c in t.classes_]
        assert frame.columns.tolist() == expected, (frame.columns.tolist(), expected)
    for task in frame.columns.get_level_values("task").unique():
        block = frame[task].to_numpy(dtype=np.float64)
        if whole is None or next(t for t in whole.tasks_ if t.name_ == task).kind != "multilabel":
            np.testing.assert_allclose(block.sum(axis=1), 1.0, rtol=1e-4, atol=1e-4)
