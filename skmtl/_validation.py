"""Checks of X with errors that name the offending columns."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sklearn.utils.validation import validate_data

_NUMERIC_KINDS = {"integer", "floating", "mixed-integer-float", "decimal", "boolean", "empty"}


def _is_numeric(column: pd.Series) -> bool:
    if isinstance(column.dtype, pd.CategoricalDtype):
        return False
    if pd.api.types.is_numeric_dtype(column) or pd.api.types.is_bool_dtype(column):
        return True
    return pd.api.types.infer_dtype(column, skipna=True) in _NUMERIC_KINDS


def _non_numeric_columns(X: Any) -> list:
    if isinstance(X, pd.DataFrame):
        return [c for c in X.columns if not _is_numeric(X[c])]
    array = np.asarray(X, dtype=object)
    if array.ndim != 2:
        return []
    bad = []
    for j in range(array.shape[1]):
        try:
            array[:, j].astype(np.float64)
        except (TypeError, ValueError):
            bad.append(j)
    return bad


def _non_finite_columns(X: Any) -> list:
    frame = X if isinstance(X, pd.DataFrame) else pd.DataFrame(np.asarray(X, dtype=object))
    if frame.ndim != 2:
        return []
    bad = []
    for j, (label, column) in enumerate(frame.items()):
        values = pd.to_numeric(column, errors="coerce").astype("float64")
        if not np.isfinite(values.to_numpy(dtype=np.float64, na_value=np.nan)).all():
            bad.append(label if isinstance(X, pd.DataFrame) else j)
    return bad


def check_X(estimator: Any, X: Any, reset: bool) -> np.ndarray:
    """Validate ``X`` into a float32 array, naming columns in errors.

    Wraps scikit-learn's ``validate_data`` (which records and checks
    ``n_features_in_`` and ``feature_names_in_``), adding the names of the columns
    that are not numeric or hold NaN or infinity.

    Parameters
    ----------
    estimator : BaseEstimator
    X : array-like or DataFrame
    reset : bool
        True in fit (records the features), False at predict (checks them).

    Returns
    -------
    ndarray of float32 of shape (n_samples, n_features)
    """
    if isinstance(X, pd.DataFrame):
        bad = _non_numeric_columns(X)
        if bad:
            dtypes = {c: str(X[c].dtype) for c in bad}
            raise ValueError(
                f"X has non-numeric column(s) {dtypes}. Encode them first, e.g. with a "
                "ColumnTransformer applying OneHotEncoder inside a Pipeline."
            )
    try:
        return validate_data(estimator, X, reset=reset, dtype=np.float32, ensure_all_finite=True)
    except ValueError as exc:
        message = str(exc)
        if "could not convert" in message:
            bad = _non_numeric_columns(X)
            raise ValueError(
                f"{message}. X column(s) {bad} are not numeric; encode them first, e.g. with "
                "a ColumnTransformer applying OneHotEncoder inside a Pipeline."
            ) from None
        if "NaN" in message or "infinity" in message:
            bad = _non_finite_columns(X)
            if bad:
                raise ValueError(
                    f"{message} Non-finite values are in X column(s) {bad}; impute or drop "
                    "them first, e.g. with sklearn.impute.SimpleImputer in a Pipeline."
                ) from None
        raise
