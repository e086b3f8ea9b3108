"""A date column's parts (:func:`skmtl.tabular.date_columns`) as ONNX operators.

An exported model reads a date column as int64: the local date and time as nanoseconds
since 1970-01-01 00:00 (what ``Series.dt.tz_localize(None).astype("int64")`` gives; a
missing date is the smallest int64, NaT's value), which :func:`skmtl.export.onnx_inputs`
computes from a DataFrame. The graph derives what the encoder derives: the year, month,
day, day of the week and of the year, the hour (with minutes and seconds as a fraction)
as float64, NaN for a missing date, and the day's category code. The calendar is
computed with integers (the proleptic Gregorian "civil from days" conversion described
by H. Hinnant, *chrono-Compatible Low-Level Date Algorithms*), so that no rounding moves
a time across midnight.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from onnx import TensorProto

from ..tabular import DATE_PARTS

#: An int64 input's value for a missing date (``pd.NaT``'s value).
MISSING_DATE = int(np.iinfo(np.int64).min)
_NS_PER_DAY = 86_400 * 10**9
_DAYS_BEFORE_MONTH = [0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334]


class _Graph:
    """Adds nodes and constants to skl2onnx's container, with unique names."""

    def __init__(self, scope: Any, container: Any) -> None:
        self.scope, self.container = scope, container

    def const(self, values: Any, kind: int = TensorProto.INT64) -> str:
        values = np.atleast_1d(values)
        name = self.scope.get_unique_variable_name("skmtl_date_const")
        self.container.add_initializer(name, kind, list(values.shape), values.ravel().tolist())
        return name

    def op(self, op_type: str, *inputs: str, **attrs: Any) -> str:
        out = self.scope.get_unique_variable_name(f"skmtl_date_{op_type.lower()}")
        self.container.add_node(op_type, list(inputs), [out],
                                name=self.scope.get_unique_operator_name(op_type), **attrs)
        return out

    def arith(self, op_type: str, a: str, b: int | str) -> str:
        """``a <op> b`` on int64 (``b`` an int constant or a variable)."""
        return self.op(op_type, a, self.const(b) if isinstance(b, int) else b)


def date_parts(scope: Any, container: Any, name: str, with_time: bool
               ) -> tuple[dict[str, str], str, str]:
    """The parts of the date input ``name`` (int64, shape (n, 1)).

    Returns
    -------
    parts : dict
        ``DATE_PARTS`` and, with ``with_time``, ``"hour"``: float64 variables of shape
        (n, 1), NaN where the date is missing.
    days : str
        int64 days since 1970-01-01 (0 where the date is missing).
    missing : str
        bool, where the date is missing.
    """
    g = _Graph(scope, container)
    missing = g.arith("Equal", name, MISSING_DATE)
    t = g.op("Where", missing, g.const(0), name)  # no overflow below for a missing date
    within = g.op("Mod", t, g.const(_NS_PER_DAY), fmod=0)  # >= 0, also before 1970
    # floor division (integer Div truncates): one day less before 1970 when not at midnight;
    # not (t - within) / day, which leaves int64 in pandas' first minutes (1677-09-21)
    truncated_remainder = g.op("Mod", t, g.const(_NS_PER_DAY), fmod=1)
    before_midnight = g.op("Cast", g.arith("Less", truncated_remainder, 0), to=TensorProto.INT64)
    days = g.arith("Sub", g.arith("Div", t, _NS_PER_DAY), before_midnight)
    def add(a: str, b: int | str) -> str:
        return g.arith("Add", a, b)

    def sub(a: str, b: int | str) -> str:
        return g.arith("Sub", a, b)

    def mul(a: str, b: int) -> str:
        return g.arith("Mul", a, b)

    def div(a: str, b: int) -> str:  # non-negative operands below: truncation is floor
        return g.arith("Div", a, b)

    # civil from days, in 400-year eras starting on 1 March 0000 (Hinnant); z > 0 for every
    # date pandas holds (1677 - 2262)
    z = add(days, 719_468)
    era = div(z, 146_097)
    doe = sub(z, mul(era, 146_097))  # day of the era, 0 - 146,096
    # year of the era: (doe - doe/1460 + doe/36524 - doe/146096) / 365
    yoe = div(sub(add(sub(doe, div(doe, 1_460)), div(doe, 36_524)), div(doe, 146_096)), 365)
    # day of the year starting on 1 March: doe - (365 yoe + yoe/4 - yoe/100)
    doy = sub(doe, sub(add(mul(yoe, 365), div(yoe, 4)), div(yoe, 100)))
    mp = div(add(mul(doy, 5), 2), 153)  # month starting from March = 0
    day = add(sub(doy, div(add(mul(mp, 153), 2), 5)), 1)  # doy - (153 mp + 2) / 5 + 1
    month = add(mp, g.op("Where", g.arith("Less", mp, 10), g.const(3), g.const(-9)))
    january_or_february = g.op("Cast", g.arith("LessOrEqual", month, 2), to=TensorProto.INT64)
    year = add(add(yoe, mul(era, 400)), january_or_february)
    weekday = g.op("Mod", g.arith("Add", days, 3), g.const(7), fmod=0)  # 1970-01-01: Thursday

    def divisible(by: int) -> str:
        return g.arith("Equal", g.op("Mod", year, g.const(by), fmod=0), 0)

    leap = g.op("Or", g.op("And", divisible(4), g.op("Not", divisible(100))), divisible(400))
    after_february = g.op("And", leap, g.arith("Greater", month, 2))
    before = g.op("Gather", g.const(_DAYS_BEFORE_MONTH), g.arith("Sub", month, 1), axis=0)
    day_of_year = add(add(before, day), g.op("Cast", after_february, to=TensorProto.INT64))
    values = {"year": year, "month": month, "day": day, "dayofweek": weekday,
              "dayofyear": day_of_year}  # DATE_PARTS
    nan = g.const(np.nan, TensorProto.DOUBLE)

    def as_number(variable: str) -> str:
        return g.op("Where", missing, nan, g.op("Cast", variable, to=TensorProto.DOUBLE))

    parts = {part: as_number(values[part]) for part in DATE_PARTS}
    if with_time:
        # hour + minute / 60 + second / 3600 in float64, in the encoder's order of operations:
        # a value the quantile transform's knots hold must not move by a rounding
        seconds = g.arith("Div", within, 10**9)
        hour, minute = g.arith("Div", seconds, 3600), g.arith("Div", g.arith("Mod", seconds, 3600), 60)
        second = g.arith("Mod", seconds, 60)

        def fraction(variable: str, per: float) -> str:
            return g.op("Div", g.op("Cast", variable, to=TensorProto.DOUBLE),
                        g.const(per, TensorProto.DOUBLE))

        hours = g.op("Add", g.op("Add", g.op("Cast", hour, to=TensorProto.DOUBLE),
                                 fraction(minute, 60.0)), fraction(second, 3600.0))
        parts["hour"] = g.op("Where", missing, nan, hours)
    return parts, days, missing


def day_numbers(keys: np.ndarray) -> list[int]:
    """Days since 1970-01-01 of the encoder's day keys (``"YYYY-MM-DD"`` text)."""
    stamps = pd.to_datetime(pd.Series(keys, dtype=object), format="%Y-%m-%d")
    return ((stamps - pd.Timestamp("1970-01-01")) // pd.Timedelta(days=1)).astype(int).tolist()


def day_codes(scope: Any, container: Any, days: str, missing: str, keys: np.ndarray,
              infrequent: np.ndarray) -> str:
    """The codes of the day category (``<column>.date``), as ``TabularEncoder.transform``:
    0 for a missing date; with infrequent days, 1 for them and for unseen days and 2..K + 1
    for the frequent ``keys`` in order; without, 1..K, and 0 for unseen days."""
    g = _Graph(scope, container)
    shared = int(len(infrequent) > 0)
    numbers = day_numbers(keys) + day_numbers(infrequent)
    values = [*range(1 + shared, len(keys) + 1 + shared), *[1] * len(infrequent)]
    codes = g.op("LabelEncoder", days, op_domain="ai.onnx.ml", op_version=2,
                 keys_int64s=numbers or [MISSING_DATE], values_int64s=values or [0],
                 default_int64=shared)
    return g.op("Where", missing, g.const(0), codes)
