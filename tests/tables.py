"""Tables shared by several test modules."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest


def pandas_and_arrow(n: int = 80, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The same table with pandas' dtypes and with pyarrow's (``pd.ArrowDtype``: what
    ``read_csv(dtype_backend="pyarrow")`` or a parquet file gives): numbers, booleans, text,
    numeric text, times, a time zone, dates, durations and a dictionary, with missing values."""
    pa = pytest.importorskip("pyarrow")
    rng = np.random.default_rng(seed)
    text = rng.choice(["a", "b", "c"], n).astype(object)
    text[::7] = None
    when = pd.Series(pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 2400, n), unit="h"))
    when[::9] = pd.NaT
    day = pd.Series(pd.Timestamp("2023-06-01") + pd.to_timedelta(rng.integers(0, 90, n), unit="D"))
    flag = (rng.random(n) > 0.5).astype(object)
    flag[::5] = None
    numbers = rng.normal(size=n)
    numbers[::6] = np.nan
    pandas = pd.DataFrame({
        "num": numbers, "count": rng.integers(0, 9, n), "flag": pd.array(flag, dtype="boolean"),
        "text": text, "numtext": rng.integers(0, 5, n).astype(str).astype(object),
        "when": when, "zoned": when.dt.tz_localize("Europe/Lisbon", ambiguous="NaT",
                                                   nonexistent="NaT"),
        "day": day, "took": pd.to_timedelta(rng.integers(0, 100, n), unit="s"),
        "kind": pd.Categorical(text)})
    arrow = pd.DataFrame({
        "num": pandas["num"].astype("double[pyarrow]"),
        "count": pandas["count"].astype("int64[pyarrow]"),
        "flag": pandas["flag"].astype("bool[pyarrow]"),
        "text": pd.Series(pa.array(text.tolist(), type=pa.string()), dtype=pd.ArrowDtype(pa.string())),
        "numtext": pandas["numtext"].astype(pd.ArrowDtype(pa.large_string())),
        "when": pandas["when"].astype(pd.ArrowDtype(pa.timestamp("us"))),
        "zoned": pandas["zoned"].astype(pd.ArrowDtype(pa.timestamp("us", tz="Europe/Lisbon"))),
        "day": pd.Series(pa.array(pandas["day"].dt.date.tolist(), type=pa.date32()),
                         dtype=pd.ArrowDtype(pa.date32())),
        "took": pandas["took"].astype(pd.ArrowDtype(pa.duration("us"))),
        "kind": pd.Series(pa.array(text.tolist(), type=pa.string()).dictionary_encode(),
                          dtype=pd.ArrowDtype(pa.dictionary(pa.int32(), pa.string())))})
    return pandas, arrow
