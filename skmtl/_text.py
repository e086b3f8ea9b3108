"""Numbers stored as text: how much of a column's text reads as numbers."""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np
import pandas as pd


class NumbersInText(NamedTuple):
    """What :func:`numbers_in_text` found in a column's distinct values."""

    share: float  #: the share of the values that read as numbers
    whole: bool  #: whether those numbers are all whole numbers
    example: str | None  #: one value that reads as a number
    others: list[str]  #: up to 3 values that do not, in sorted order


def numbers_in_text(values: Any) -> NumbersInText:
    """How many of ``values`` (a column's distinct values) read as numbers.

    A column of numbers with a few placeholders (``"?"``, ``"-"``) stays text when read
    from a file, and ``np.column_stack`` of text and numbers turns the numbers into text;
    both then look like categories (or classes) with one value per number.

    Parameters
    ----------
    values : array-like
        Distinct values of a column (text, or objects).

    Returns
    -------
    NumbersInText
    """
    values = pd.Series(np.asarray(values, dtype=object), dtype=object)
    numbers = pd.to_numeric(values, errors="coerce")
    parsed = numbers.notna().to_numpy()
    found = numbers[parsed].to_numpy(dtype=float)
    return NumbersInText(
        share=float(parsed.mean()) if len(values) else 0.0,
        whole=bool(np.all(np.mod(found, 1) == 0)),
        example=str(values[parsed].iloc[0]) if parsed.any() else None,
        others=sorted(map(str, set(values[~parsed])))[:3],
    )
