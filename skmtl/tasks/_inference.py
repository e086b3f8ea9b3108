"""The rule that turns a column of ``y`` into a task when ``tasks="auto"``."""

from __future__ import annotations

import pandas as pd

from ._base import Task
from ._classification import Classification
from ._regression import Regression

#: An integer column with at most this many distinct labels is a classification task.
MAX_AUTO_CLASSES = 20

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
    4. anything else is :class:`Classification`.

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
    """
    if isinstance(series.dtype, pd.CategoricalDtype):
        return Classification(series.name)
    kind = pd.api.types.infer_dtype(series, skipna=True)
    if kind in ("floating", "mixed-integer-float", "decimal"):
        return Regression(series.name)
    if kind == "integer":
        if series.nunique(dropna=True) <= MAX_AUTO_CLASSES:
            return Classification(series.name)
        return Regression(series.name)
    if kind == "empty":
        # No labels at all: Regression reports that clearly in fit.
        return Regression(series.name)
    return Classification(series.name)
