"""Data frames of other libraries read as pandas' own."""

from __future__ import annotations

from typing import Any

import pandas as pd


def from_polars(data: Any) -> Any:
    """A polars DataFrame or Series as pandas' (names and missing values kept, through
    NumPy, so that pyarrow is not needed); anything else as it is.

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
    if not type(data).__module__.startswith("polars") or not hasattr(data, "to_numpy"):
        return data
    if hasattr(data, "columns"):  # a DataFrame
        return pd.DataFrame({name: data[name].to_numpy() for name in data.columns})
    return pd.Series(data.to_numpy(), name=getattr(data, "name", None) or None)
