"""Data frames of other libraries read as pandas' own."""

from __future__ import annotations

from typing import Any

import pandas as pd


def _is_polars(data: Any) -> bool:
    return type(data).__module__.startswith("polars") and hasattr(data, "to_numpy")


def from_polars(data: Any) -> Any:
    """A polars DataFrame or Series as pandas' (names and missing values kept, through
    NumPy, so that pyarrow is not needed; integers and booleans with missing values as
    pandas' nullable dtypes); anything else as it is.

    Parameters
    ----------
    data : object
        X or y as given.

    Returns
    -------
    object
        A pandas DataFrame (default index) for a polars DataFrame, a Series for a polars
        Series, else ``data``.
    """
    if not _is_polars(data):
        return data
    if hasattr(data, "columns"):  # a DataFrame
        return pd.DataFrame({name: _column(data[name]) for name in data.columns})
    return pd.Series(_column(data), name=getattr(data, "name", None) or None)


def _column(series: Any) -> Any:
    """A polars Series' values for pandas: NumPy's, except integers and booleans with
    missing values, which keep their kind as pandas' nullable ``Int64`` / ``boolean``
    (NumPy would make them floats and objects), and times with a time zone, which keep
    it (NumPy gives their instants in UTC, so the local hours would change)."""
    values = series.to_numpy()
    zone = getattr(series.dtype, "time_zone", None)
    if zone is not None:  # NumPy's times are the instants in UTC, without the zone
        return pd.DatetimeIndex(values).tz_localize("UTC").tz_convert(zone).array
    if series.null_count() == 0:
        return values
    if series.dtype.is_integer():
        return pd.array(values, dtype="Int64")
    if str(series.dtype) == "Boolean":
        return pd.array(values, dtype="boolean")
    return values


def polars_schema(data: Any) -> dict | None:
    """Column name to polars dtype of a polars DataFrame or Series (a Series: its name, or
    None when it has none), else None."""
    if not _is_polars(data):
        return None
    if hasattr(data, "columns"):
        return dict(data.schema)
    return {getattr(data, "name", None) or None: data.dtype}


def to_polars(result: pd.DataFrame | pd.Series, schema: dict) -> Any:
    """Predictions made as pandas' (a DataFrame with ``schema``'s columns, or a Series) as
    polars', each column cast back to its dtype in ``schema`` where that loses nothing:
    the labels of an integer column are integers again, a regression's predictions of it
    stay floats."""
    import polars as pl

    def column(name: Any, values: pd.Series, dtype: Any) -> Any:
        array = values.to_numpy()
        if array.dtype == object:  # e.g. pandas 2.0's Int64: polars infers Python values
            array = values.tolist()
        series = pl.Series("" if name is None else str(name), array)
        try:
            cast = series.cast(dtype)
            lossless = cast.cast(series.dtype).equals(series)
        except Exception:  # noqa: BLE001 - values the dtype cannot hold: kept as they are
            return series
        return cast if lossless else series

    if isinstance(result, pd.Series):
        ((name, dtype),) = schema.items()
        return column(name, result, dtype)
    return pl.DataFrame([column(name, result[name], schema[name]) for name in result.columns])
