"""The rule that turns a column of ``y`` into a task when ``tasks="auto"``."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from .._stack import caller_level
from .._text import numbers_in_text
from ._base import Task, check_label_values, plain
from ._classification import Classification
from ._regression import Regression

#: An integer column with at most this many distinct labels is a classification task.
MAX_AUTO_CLASSES = 20

#: A float column warns as codes stored as floats only with this many labelled rows per
#: distinct value on average (see ``_warn_classes_as_floats``).
_REPEATS = 5

#: Kinds of values (pandas' ``infer_dtype``) that are times: no task is inferred for them.
_TIME_KINDS = {"datetime64": "dates", "datetime": "dates", "date": "dates",
               "timedelta64": "durations", "timedelta": "durations", "time": "times of day",
               "period": "periods"}

_CLASSIFICATION_KINDS = {"boolean", "string", "bytes", "categorical", "mixed", "mixed-integer"}


def infer_task(series: pd.Series) -> Task:
    """Infer the task type of one column of ``y``.

    The rule, applied to the column's labelled (non-missing) values:

    1. bool, categorical, string/object (str, bytes, mixed) columns are
       :class:`Classification`;
    2. float columns (including whole numbers stored as floats, e.g. an integer column
       with NaN for missing labels) are :class:`Regression`;
    3. integer columns with at most :data:`MAX_AUTO_CLASSES` (20) distinct labels are
       :class:`Classification`, other integer columns are :class:`Regression`;
    4. anything else is :class:`Classification`, except dates, durations, times of day
       and periods, which are refused (convert them to numbers, or declare the task).

    Object columns are judged by the types of their values (pandas' ``infer_dtype``),
    so an object column of floats is a regression task. Declare a spec to override.

    Parameters
    ----------
    series : pandas.Series
        One column of ``y``.

    Returns
    -------
    Task
        An unfitted spec reading that column.

    Raises
    ------
    TypeError
        When the column holds dicts, lists, sets or other containers, which are not
        labels of any task, or dates, durations, times of day or periods.
    """
    if isinstance(series.dtype, pd.CategoricalDtype):
        return Classification(series.name)
    check_label_values(series)  # dicts, lists or sets are not labels of any task
    kind = pd.api.types.infer_dtype(series, skipna=True)
    if kind in _TIME_KINDS:
        name = plain(series.name)
        raise TypeError(
            f"Column {name!r} of y holds {_TIME_KINDS[kind]}, which is neither a quantity nor "
            "a set of classes as it stands. To predict it as a number, give it as one (e.g. "
            f"days since a reference date: (y[{name!r}] - pd.Timestamp('2000-01-01')) / "
            "pd.Timedelta(days=1); a duration's .dt.total_seconds()); to predict each value as "
            f"a class, declare tasks={{{name!r}: 'classification'}}.")
    if kind in ("floating", "mixed-integer-float", "decimal"):
        _warn_classes_as_floats(series)
        return Regression(series.name)
    if kind == "integer":
        if series.nunique(dropna=True) <= MAX_AUTO_CLASSES:
            return Classification(series.name)
        return Regression(series.name)
    if kind == "empty":
        # No labels at all: Regression reports that clearly in fit.
        return Regression(series.name)
    if kind == "string":
        _warn_numbers_as_text(series)
    return Classification(series.name)


def _warn_classes_as_floats(series: pd.Series) -> None:
    """Warn when a float column with missing labels holds few whole numbers only.

    An integer column with NaN for its missing labels becomes float (NumPy, pandas'
    default dtypes), so a column of 0 / 1 labels with missing ones would silently be a
    regression, predicting values between the classes, where as integers it would be a
    classification (rule 3). Without missing labels a float column was made float on
    purpose, and a few whole numbers seen about once each look like no codes: no
    warning. It warns for 2 to 20 distinct whole numbers on at least 5 labelled rows each
    on average.
    """
    if not series.isna().any():
        return
    labels = pd.to_numeric(series.dropna(), errors="coerce").to_numpy(dtype=float)
    distinct = pd.unique(labels)
    if not 2 <= len(distinct) <= MAX_AUTO_CLASSES or not (distinct == np.round(distinct)).all():
        return
    if len(labels) < _REPEATS * len(distinct):  # a few values once each: nothing like codes
        return
    name = plain(series.name)
    shown = ", ".join(f"{v:g}" for v in np.sort(distinct)[:5]) + (
        ", ..." if len(distinct) > 5 else "")
    warnings.warn(
        f"Column {name!r} of y holds whole numbers stored as floats ({len(distinct)} distinct: "
        f"{shown}) and missing labels, as an integer column with NaN becomes, so it is "
        "inferred as a regression task (as integers it would be a classification). If its "
        f"values are classes, declare tasks={{{name!r}: 'classification'}} or give it as "
        f"pandas' nullable integers (y[{name!r}].astype('Int64')); declare "
        f"tasks={{{name!r}: 'regression'}} to keep the regression without this warning.",
        UserWarning, stacklevel=caller_level())


def _warn_numbers_as_text(series: pd.Series) -> None:
    """Warn when a text column holds many decimal numbers (a quantity stored as str).

    The usual causes: ``np.column_stack`` (or ``np.array``) of a string column and a
    numeric one, which turns every number into text; or a file whose numbers have a few
    placeholders (``"?"``, ``"-"``), which keep the whole column as text. The column then
    becomes a classification task with one class per distinct value, without an error.
    Whole numbers only (with nothing else) are as likely codes as quantities: no warning.
    """
    labels = series.dropna()
    distinct = pd.unique(labels.to_numpy(dtype=object))
    if len(distinct) <= MAX_AUTO_CLASSES:
        return
    numbers = numbers_in_text(distinct)
    name = plain(series.name)
    if numbers.share == 1.0 and not numbers.whole:
        message = (f"Column {name!r} of y holds numbers stored as text (e.g. "
                   f"{labels.iloc[0]!r}), so it is inferred as a classification task with "
                   f"{len(distinct)} classes. If it is a quantity, give it as numbers "
                   "(.astype(float); np.column_stack of text and numbers turns the numbers "
                   "into text, a DataFrame keeps each column's dtype) or declare "
                   f"skmtl.tasks.Regression({name!r}).")
    elif 0.9 <= numbers.share < 1.0:
        message = (f"Column {name!r} of y holds numbers stored as text (e.g. "
                   f"{numbers.example!r}) but for a few values "
                   f"({', '.join(map(repr, numbers.others))}), so it is inferred as a "
                   f"classification task with {len(distinct)} classes. If it is a quantity, "
                   f"convert it first: y[{name!r}] = pd.to_numeric(y[{name!r}], "
                   "errors='coerce') (the other values become missing labels, which skmtl "
                   "masks).")
    else:  # text, or whole numbers only (as likely codes as quantities)
        return
    warnings.warn(message, UserWarning, stacklevel=caller_level())
