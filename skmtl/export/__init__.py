"""Export of fitted skmtl estimators, their ensembles and task groupings, and Pipelines
ending in one, to ONNX.

:func:`to_onnx` converts a fitted estimator, ``MultiTaskEnsemble`` or ``TaskGrouping`` (or
a scikit-learn Pipeline whose last step is one) into an ONNX model that ONNX Runtime runs without Python, torch or skmtl: the
preprocessing skmtl does inside ``fit`` (``preprocessor_``), the network and each
task's decoding are part of the graph, which has one output per task named after it
(plus ``<task>_proba`` for classification and multi-label tasks). skmtl's estimators
are registered with skl2onnx's converter registry, so that the steps before them in a
Pipeline are converted by skl2onnx's own converters. :func:`onnx_inputs` turns rows of
X into the inputs the model expects. Needs the ``onnx`` extra (onnx, skl2onnx; onnxruntime
to run the result).
"""

from __future__ import annotations

import json
import os
import re
import warnings
from typing import Any

import numpy as np
import pandas as pd
from scipy import sparse
from sklearn.pipeline import Pipeline
from sklearn.utils.validation import check_is_fitted

try:
    import onnx
    from skl2onnx import convert_sklearn
    from skl2onnx.common.data_types import (
        BooleanTensorType,
        DoubleTensorType,
        FloatTensorType,
        Int64TensorType,
        StringTensorType,
    )
except ImportError as exc:  # pragma: no cover - depends on the environment
    raise ImportError(
        "skmtl.export needs onnx and skl2onnx (and onnxruntime to run the exported "
        "models): pip install 'skmtl[onnx]'."
    ) from exc

from .._base import BaseMultiTask
from .._ensemble import MultiTaskEnsemble
from .._frames import from_polars
from .._grouping import TaskGrouping
from ..tabular._encoder import _as_dates, _from_arrow, _from_arrow_frame, _is_date, in_zone
from ._converter import output_specs, register

__all__ = ["onnx_inputs", "to_onnx"]

#: The metadata entry in which ``to_onnx`` records each input's column of X (JSON).
INPUT_COLUMNS = "skmtl.input_columns"
#: Metadata key of the time zone that ``fit`` saw in each date column (JSON: column's
#: ``str`` to the zone's ``str``, or null for dates without a zone).
DATE_ZONES = "skmtl.date_zones"

register()

_ONNX_NUMPY = {
    onnx.TensorProto.FLOAT: np.float32,
    onnx.TensorProto.DOUBLE: np.float64,
    onnx.TensorProto.INT64: np.int64,
    onnx.TensorProto.BOOL: np.bool_,
    onnx.TensorProto.STRING: object,
}


def _final_estimator(model: Any) -> Any:
    """The skmtl model that ends ``model`` (itself, or a Pipeline's last step): an
    estimator, or a ``MultiTaskEnsemble`` / ``TaskGrouping`` of estimators; fitted."""
    last = model.steps[-1][1] if isinstance(model, Pipeline) else model
    combined = isinstance(last, (MultiTaskEnsemble, TaskGrouping))
    if not (isinstance(last, BaseMultiTask) or combined):
        what = "a Pipeline whose last step is " if isinstance(model, Pipeline) else ""
        raise TypeError(
            f"to_onnx exports skmtl estimators (MultiTaskNet, MultiTaskClassifier, "
            f"MultiTaskRegressor), their MultiTaskEnsemble and TaskGrouping, or Pipelines "
            f"ending in one; got {what}{type(last).__name__}. For other scikit-learn models "
            "use skl2onnx.to_onnx.")
    check_is_fitted(last)
    if combined:
        others = [type(m).__name__ for m in last.estimators_ if not isinstance(m, BaseMultiTask)]
        if others:
            raise TypeError(
                f"to_onnx exports a {type(last).__name__} whose estimators are skmtl "
                f"estimators (MultiTaskNet, MultiTaskClassifier, MultiTaskRegressor); this one "
                f"holds {sorted(set(others))}.")
    return last


def _members(final: Any) -> list[BaseMultiTask]:
    """The estimators whose networks make ``final``'s outputs."""
    return [final] if isinstance(final, BaseMultiTask) else list(final.estimators_)


def _encoders(final: Any) -> list:
    """The encodings of X (``preprocessor_``) of ``final``'s estimators that have one."""
    encoders = [getattr(m, "preprocessor_", None) for m in _members(final)]
    return [e for e in encoders if e is not None]


def _encoding(final: Any) -> tuple[bool, set, set]:
    """Whether ``final``'s estimators encode X themselves (``preprocessor_``), and the
    columns they read as categories and as dates (every estimator reads a column alike)."""
    encoders = _encoders(final)
    categorical, dates, numeric = set(), set(), set()
    for encoder in encoders:
        read = {encoder.columns_[j] for j in encoder.categorical_}
        categorical |= read & set(encoder.input_columns_)
        dates |= set(encoder.dates_)
        numeric |= set(encoder.input_columns_) - read - set(encoder.dates_)
    mixed = sorted(map(str, (categorical | dates) & numeric | (categorical & dates)))
    if mixed:
        raise TypeError(
            f"The estimators of this {type(final).__name__} read X columns {mixed} in different "
            "ways (as numbers, categories or dates); one ONNX input cannot serve them all. "
            "Fit them with the same categorical_features.")
    return bool(encoders), categorical, dates


def _date_zones(final: Any) -> dict[str, str | None]:
    """The time zone that fit saw in each date column that ``final``'s estimators encode,
    by the column's ``str`` (None: dates without a zone); columns of encoders fitted
    before zones were recorded are left out."""
    zones: dict[str, str | None] = {}
    for encoder in _encoders(final):  # unpickled from before zones: {} (__setstate__)
        zones.update({str(c): None if z is None else str(z)
                      for c, z in encoder.date_zones_.items()})
    return zones


def _column_type(column: pd.Series, categorical: bool | None) -> Any:
    """The input type of a DataFrame column: ``categorical`` says whether skmtl's encoder
    reads it as categories (None in a Pipeline: then the column's dtype decides)."""
    if categorical or (categorical is None and isinstance(column.dtype, pd.CategoricalDtype)):
        return StringTensorType([None, 1])
    numpy_dtype = isinstance(column.dtype, np.dtype)  # not nullable (no pd.NA)
    if numpy_dtype and column.dtype.kind == "b":
        return BooleanTensorType([None, 1])
    if numpy_dtype and column.dtype.kind in "iu":
        return Int64TensorType([None, 1])
    if (categorical is not None or pd.api.types.is_numeric_dtype(column)
            or _is_durations(column)):
        return DoubleTensorType([None, 1])  # skmtl's encoder reads it as numbers (seconds)
    return StringTensorType([None, 1])


def _is_durations(column: pd.Series) -> bool:
    return pd.api.types.is_timedelta64_dtype(column)


def _array_type(array: np.ndarray, name: str) -> Any:
    shape = [None, *array.shape[1:]]
    kinds = {"f": DoubleTensorType if array.dtype == np.float64 else FloatTensorType,
             "i": Int64TensorType, "u": Int64TensorType, "b": BooleanTensorType}
    if array.dtype.kind not in kinds:
        raise TypeError(
            f"X{'' if name == 'X' else f'[{name!r}]'} holds {array.dtype} values; to_onnx "
            "exports numeric arrays: give a DataFrame sample for text or categorical columns.")
    return kinds[array.dtype.kind](shape)


def _initial_types(model: Any, estimator: Any, X: Any) -> list[tuple[str, Any]]:
    """The ONNX inputs for sample rows X: one per DataFrame column or dict key, else "X"."""
    if sparse.issparse(X):
        raise TypeError(
            "to_onnx needs dense sample rows X: ONNX models read dense tensors. Pass "
            "X.toarray() (the exported model then takes dense rows).")
    encodes, categorical, dated = _encoding(estimator)
    if isinstance(X, pd.DataFrame):
        X = _from_arrow_frame(X)  # pyarrow's times and durations as pandas' own
        if model is not estimator or not encodes:
            timed = [c for c in X.columns if _is_date(X[c]) or _is_durations(X[c])]
            if timed:
                raise TypeError(
                    f"X columns {timed} hold dates or durations, which the Pipeline's steps "
                    "before the skmtl estimator give to skl2onnx's converters, and those "
                    "cannot read them. Let the skmtl estimator read them (it encodes dates and "
                    "durations, in ONNX too), or give numbers: "
                    "skmtl.tabular.date_columns(X[c], c) for a date column c, "
                    "X[c].dt.total_seconds() for a duration.")
            return [(str(c), _column_type(X[c], None)) for c in X.columns]
        return [(str(c), Int64TensorType([None, 1]) if c in dated
                 else _column_type(X[c], c in categorical)) for c in X.columns]
    if dated:
        raise TypeError(f"The model encodes X columns {sorted(map(str, dated))} as dates: export "
                        "it with a DataFrame sample X, so that each date column gets an input "
                        "of its own.")
    if isinstance(X, dict) or hasattr(X, "keys"):
        return [(str(k), _array_type(np.asarray(X[k]), str(k))) for k in X.keys()]
    array = np.asarray(X)
    if array.ndim < 2:
        raise ValueError(f"X must be 2-D (or more, for a trunk); got shape {array.shape}.")
    return [("X", _array_type(array, "X"))]


def to_onnx(model: Any, X: Any, *, path: str | os.PathLike | None = None,
            target_opset: int | None = None) -> onnx.ModelProto:
    """Export a fitted skmtl estimator, or a Pipeline ending in one, to ONNX.

    The graph includes the preprocessing skmtl fits (``preprocessor_``: numeric
    transforms, missing-value indicators, category codes, with 0 for missing or unseen
    categories), the network (TabM members averaged as ``predict`` does) and each
    task's decoding. Its outputs, one per task and named after it, are: for a
    classification task ``<task>``, the predicted labels in their original classes
    (int64 for integer classes, bool for booleans, float64 for other numbers, else
    strings: ``str`` of each class), after the fitted decision threshold if any, and
    ``<task>_proba``, float32 probabilities of shape (n, n_classes) in ``classes_``
    order, temperature-scaled if fitted; for a multi-label task ``<task>``, int64 0/1
    labels of shape (n, n_labels), and ``<task>_proba``; for a regression task
    ``<task>``, float32 values of shape (n,) in the target's scale.

    Parameters
    ----------
    model : MultiTaskNet, MultiTaskClassifier, MultiTaskRegressor, MultiTaskEnsemble, TaskGrouping or Pipeline
        Fitted; a Pipeline's steps before the skmtl model are converted by skl2onnx's
        converters (e.g. StandardScaler, ColumnTransformer, OneHotEncoder). An ensemble's
        members (each with its own encoding of X) are combined in the graph as
        ``predict`` combines them (mean values, mean probabilities or votes, then the
        ensemble's thresholds); a task grouping gives each task from its group's model.
    X : DataFrame, array-like or dict of arrays
        A few rows shaped like the model's input; they define the ONNX inputs: one
        (n, 1) input per column of a DataFrame, named after it (skl2onnx's convention:
        categorical and text columns as strings, integer columns as int64, booleans as
        bool, other numbers as float64; a date column the estimator encodes as int64,
        the local date and time in nanoseconds since 1970-01-01 00:00 with the smallest
        int64 for a missing date, from which the graph computes the date's parts as
        ``fit`` did; a duration as float64 seconds), one input ``"X"`` for an array (float64 for
        float64 arrays, else its type), one input per key for a dict (``SliceDict``).
    path : str or path-like, default=None
        When given, the model is also saved there.
    target_opset : int, default=None
        Opset of the default ONNX domain; None uses skl2onnx's default. The network is
        exported at ``min(target_opset, 18)``.

    Returns
    -------
    onnx.ModelProto
        The exported model (run it with ``onnxruntime.InferenceSession``).

    Raises
    ------
    TypeError
        For a model that is not (or does not end in) a skmtl estimator, sparse X, a
        model that encodes dates with a sample X that is not a DataFrame, dates or
        durations read by a Pipeline's steps before the skmtl estimator, or a
        network (e.g. a user trunk) that torch's ONNX exporter cannot export, naming its
        class and torch's message.
    """
    estimator = _final_estimator(model)
    X = from_polars(X)
    initial_types = _initial_types(model, estimator, X)
    clashes = sorted({name for name, _ in output_specs(estimator)}
                     & {name for name, _ in initial_types})
    if clashes:
        raise ValueError(
            f"The ONNX outputs are named after the tasks, but {clashes} also name(s) an input "
            "(a column or key of X); ONNX names must differ. Rename the task (e.g. "
            "Regression(column, name='...')) or the column.")
    precisions = {getattr(m.net_, "precision", "32") for m in _members(estimator)}
    precision = sorted(precisions - {"32"})[0] if precisions - {"32"} else "32"
    if precision != "32":  # what predict runs under
        warnings.warn(
            f"{type(estimator).__name__} predicts with precision={precision!r} (autocast), but "
            "the ONNX model computes in float32: its outputs differ from predict's by the "
            "rounding of that precision (labels near a decision boundary may differ).",
            UserWarning, stacklevel=2)
    onx = convert_sklearn(model, initial_types=initial_types, target_opset=target_opset)
    if isinstance(X, pd.DataFrame):  # the column of each input, whatever skl2onnx named it
        names = {i.name: str(c) for i, c in zip(onx.graph.input, X.columns)}
        onx.metadata_props.add(key=INPUT_COLUMNS, value=json.dumps(names))
        if zones := _date_zones(estimator):
            onx.metadata_props.add(key=DATE_ZONES, value=json.dumps(zones))
    if path is not None:
        onnx.save(onx, os.fspath(path))
    return onx


def _input_names(columns: pd.Index) -> dict[str, Any]:
    """Each ONNX input name to X's column: the column's name, or the name skl2onnx gave
    its input (characters other than letters, digits, ``_`` and ``+`` become ``_``, a
    leading digit gets a ``_`` before it, and a name already taken gets a number after it,
    in the order of the columns)."""
    names: dict[str, Any] = {}
    taken: set[str] = set()
    for column in columns:
        seed = re.sub(r"[^\w+]", "_", str(column))
        seed = "_" + seed if re.match("^[0-9]", seed) else seed
        name, i = seed, 0
        while name in taken:
            i += 1
            name = f"{seed}{i}"
        taken.add(name)
        names.setdefault(name, column)
    for column in columns:  # as given (an input named by hand)
        names.setdefault(str(column), column)
    return names


def _local_nanoseconds(dates: pd.Series) -> np.ndarray:
    """A date column as a date input reads it: the local date and time in nanoseconds since
    1970-01-01 00:00, the smallest int64 for a missing date (see ``skmtl.export._dates``)."""
    if dates.dt.tz is not None:
        dates = dates.dt.tz_localize(None)  # the local times, as the encoder reads them
    return dates.astype("datetime64[ns]").to_numpy().view(np.int64)


def onnx_inputs(onnx_model: Any, X: Any) -> dict[str, np.ndarray]:
    """The input dict of an exported model for rows X (for ``InferenceSession.run``).

    Parameters
    ----------
    onnx_model : onnx.ModelProto or onnxruntime.InferenceSession
        A model made by :func:`to_onnx`.
    X : DataFrame, array-like or dict of arrays
        Rows shaped like the sample given to :func:`to_onnx`. String inputs get each
        value's ``str`` (a missing value becomes ``"nan"``, ``"None"`` or ``"<NA>"``,
        which the graph reads as missing unless it is one of the column's categories;
        an unseen category gets the code it gets in ``predict``). A date input gets the
        column's local date and time in nanoseconds (NaT: the smallest int64), a
        duration its seconds; dates in another time zone than in ``fit`` are converted to
        fit's (recorded in the metadata, ``"skmtl.date_zones"``), as ``predict`` does,
        and dates with a zone where fit had none (or none where it had one) are refused.
        Each input reads the column that ``to_onnx`` recorded for
        it in the model's metadata (``"skmtl.input_columns"``): skl2onnx renames columns
        whose names ONNX does not allow (``"price ($)"`` becomes ``"price____"``).

    Returns
    -------
    dict
        Input name to an array of the input's type.
    """
    if hasattr(onnx_model, "get_inputs"):
        metadata = onnx_model.get_modelmeta().custom_metadata_map
        inputs = [(i.name, {"tensor(float)": onnx.TensorProto.FLOAT,
                            "tensor(double)": onnx.TensorProto.DOUBLE,
                            "tensor(int64)": onnx.TensorProto.INT64,
                            "tensor(bool)": onnx.TensorProto.BOOL,
                            "tensor(string)": onnx.TensorProto.STRING}[i.type])
                  for i in onnx_model.get_inputs()]
    else:
        metadata = {p.key: p.value for p in onnx_model.metadata_props}
        inputs = [(i.name, i.type.tensor_type.elem_type) for i in onnx_model.graph.input]
    feed = {}
    X = from_polars(X)
    if isinstance(X, pd.DataFrame):
        columns = _input_names(X.columns)  # models without the record: skl2onnx's rule
        by_text = {str(c): c for c in X.columns}
        recorded = json.loads(metadata.get(INPUT_COLUMNS, "{}"))
        zones = json.loads(metadata.get(DATE_ZONES, "{}"))
        columns.update({name: by_text[c] for name, c in recorded.items() if c in by_text})
        for name, elem in inputs:
            if name not in columns:
                raise ValueError(f"The model has an input {name!r}, but X has no column that "
                                 f"skl2onnx names so; X's columns: {list(X.columns)}.")
            column = _from_arrow(X[columns[name]])
            if elem == onnx.TensorProto.STRING:
                values = column.astype(object).astype(str).to_numpy(dtype=object)
            elif elem == onnx.TensorProto.INT64 and (dates := _as_dates(column)) is not None:
                if str(columns[name]) in zones:  # the local times of fit's zone
                    dates = in_zone(dates, zones[str(columns[name])], columns[name])
                values = _local_nanoseconds(dates)
            elif elem == onnx.TensorProto.INT64 and not (
                    pd.api.types.is_numeric_dtype(column) or pd.api.types.is_bool_dtype(column)):
                raise ValueError(
                    f"X column {name!r} holds {column.dtype} values, but the model's input for "
                    f"it is int64 (dates, for a date column: pd.to_datetime(X[{name!r}])).")
            elif elem in (onnx.TensorProto.DOUBLE, onnx.TensorProto.FLOAT):
                if _is_durations(column):
                    column = column.dt.total_seconds()
                values = column.to_numpy(dtype=np.float64, na_value=np.nan)
            else:
                if column.isna().any():
                    raise ValueError(
                        f"X column {name!r} has missing values, but the model's input for it "
                        "is int64 / bool (the sample given to to_onnx had none): export with a "
                        "sample where the column is float or a nullable dtype (Int64, boolean).")
                values = column.to_numpy()
            feed[name] = values.astype(_ONNX_NUMPY[elem]).reshape(-1, 1)
        return feed
    if isinstance(X, dict) or hasattr(X, "keys"):
        return {name: np.asarray(X[name]).astype(_ONNX_NUMPY[elem]) for name, elem in inputs}
    ((name, elem),) = inputs
    return {name: np.asarray(X).astype(_ONNX_NUMPY[elem])}
