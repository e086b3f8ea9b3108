"""Encoding a raw DataFrame (numbers, categories, strings, missing values) into the
float matrix skmtl's networks read, fitted on the training rows."""

from __future__ import annotations

import re
import warnings
from numbers import Integral, Real
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator
from sklearn.preprocessing import QuantileTransformer, RobustScaler, StandardScaler
from sklearn.utils.validation import check_is_fitted

from .._text import numbers_in_text
from .._validation import _NUMERIC_KINDS

#: Numeric transforms by name: a scikit-learn transformer factory (None: values as given).
NUMERIC_TRANSFORMS: dict[str, Any] = {
    "quantile": lambda n: QuantileTransformer(
        output_distribution="normal", n_quantiles=max(2, min(1000, n)), subsample=100_000,
        random_state=0),
    "robust": lambda n: RobustScaler(),
    "standard": lambda n: StandardScaler(),
    "none": None,
}


#: ``min_frequency="auto"``: the fraction of the rows a category needs ...
AUTO_MIN_FREQUENCY = 0.002
#: ... in a column with more than this many categories (the others keep every category).
AUTO_MIN_CATEGORIES = 64


def _arrow_type(column: pd.Series) -> Any:
    """The pyarrow type of a column held by pyarrow (``pd.ArrowDtype``: from
    ``dtype_backend="pyarrow"`` or a parquet file), else None."""
    dtype = column.dtype
    return dtype.pyarrow_dtype if isinstance(dtype, getattr(pd, "ArrowDtype", ())) else None


def _from_arrow(column: pd.Series) -> pd.Series:
    """A column held by pyarrow whose kind pandas' checks do not recognise, as pandas' own
    dtype: timestamps (with their time zone) and dates as ``datetime64``, durations as
    ``timedelta64``, dictionaries as ``category``; any other column as it is."""
    arrow = _arrow_type(column)
    if arrow is None:
        return column
    import pyarrow as pa  # present: the column is held by it

    if not (pa.types.is_timestamp(arrow) or pa.types.is_date(arrow)
            or pa.types.is_duration(arrow) or pa.types.is_dictionary(arrow)):
        return column
    # pyarrow's own conversion (pandas 2.0 cannot cast durations to timedelta64 itself)
    values = pa.array(column.array).to_pandas(date_as_object=False)
    return pd.Series(pd.Series(values).array, index=column.index, name=column.name)


def _from_arrow_frame(X: pd.DataFrame) -> pd.DataFrame:
    """X with :func:`_from_arrow` applied to its columns (X itself when none changes)."""
    arrow = getattr(pd, "ArrowDtype", ())
    changed = {}
    for j, dtype in enumerate(X.dtypes):
        if isinstance(dtype, arrow):  # only these columns are looked at
            column = X.iloc[:, j]
            converted = _from_arrow(column)
            if converted is not column:
                changed[j] = converted
    if not changed:
        return X
    X = X.copy(deep=False)
    for j, column in changed.items():
        X.isetitem(j, column)
    return X


def is_categorical_dtype(column: pd.Series) -> bool:
    """Whether a column is categorical by its dtype: category, or object / string values
    (pandas' or pyarrow's) that are not all numbers or numeric text (an object column of
    numbers is numeric). Columns held by pyarrow are read as :func:`_from_arrow` leaves
    them (the encoder converts them first: a dictionary is then a category)."""
    if isinstance(column.dtype, pd.CategoricalDtype):
        return True
    arrow = _arrow_type(column)  # text held by pyarrow is read as pandas' strings are
    if pd.api.types.is_numeric_dtype(column) or pd.api.types.is_bool_dtype(column):
        return False
    if pd.api.types.infer_dtype(column, skipna=True) in _NUMERIC_KINDS:
        return False
    if _as_dates(column) is not None:  # dates in an object column: encoded as dates
        return False
    # text that all parses as numbers (an array of mixed types) is numeric; in a text
    # column each distinct value is parsed once, not each row
    present = column.dropna()
    if present.dtype == object or isinstance(present.dtype, pd.StringDtype) or arrow is not None:
        try:
            present = pd.Series(pd.unique(present.to_numpy(dtype=object)), dtype=object)
        except TypeError:  # unhashable values (lists): parse every row
            pass
    return bool(pd.to_numeric(present, errors="coerce").isna().any()) or len(present) == 0


#: A text column is checked for numbers or dates stored as text when it has more than this
#: many distinct values (fewer are as likely to be codes as quantities).
HINT_MIN_DISTINCT = 20
#: Text that reads as a date: ISO (2024-01-31, 2024-01-31 08:00, 2024-01-31T08:00:00Z) or
#: day / month / year with slashes or dots (31/01/2024, 1.31.24).
_DATE_TEXT = re.compile(r"^\s*(\d{4}-\d{1,2}-\d{1,2}([ T]\d{1,2}:\d{2}.*)?"
                        r"|\d{1,2}[/.]\d{1,2}[/.]\d{2,4}( \d{1,2}:\d{2}.*)?)\s*$")


def text_hint(keys: np.ndarray, name: Any) -> str | None:
    """What a text column read as categories seems to hold instead, as a warning's text.

    Looks at up to 200 of the column's distinct values (``keys``, as text), spread over
    them: a column of more than ``HINT_MIN_DISTINCT`` values of which at least 90 % read
    as dates, or as numbers with some that do not (placeholders such as ``"?"`` or
    ``"n/a"``, which keep a column of numbers as text), is most likely a date or a
    quantity, which categories encode poorly (each distinct value is a category of its
    own, unseen values share one code). Columns entirely of numbers are numeric already.

    Parameters
    ----------
    keys : ndarray of str
        The column's distinct values, as text.
    name : object
        The column's name, for the message.

    Returns
    -------
    str or None
        The warning's text, or None when the column looks like categories.
    """
    if len(keys) <= HINT_MIN_DISTINCT:
        return None
    sample = keys[np.unique(np.linspace(0, len(keys) - 1, min(len(keys), 200)).astype(int))]
    dated = np.mean([bool(_DATE_TEXT.match(k)) for k in sample])
    if dated >= 0.9:
        example = next(str(k) for k in sample if _DATE_TEXT.match(k))
        return (f"X column {name!r} holds text that reads as dates (e.g. {example!r}), so it "
                f"is read as categories ({len(keys)} distinct values). To "
                f"encode it as a date (year, month, day, weekday, ...), convert it first: "
                f"X[{name!r}] = pd.to_datetime(X[{name!r}]); to keep it as categories and "
                "silence this, give it the category dtype.")
    numbers = numbers_in_text(sample)
    if 0.9 <= numbers.share < 1.0:
        return (f"X column {name!r} holds text that reads as numbers (e.g. "
                f"{numbers.example!r}) but for a few values "
                f"({', '.join(map(repr, numbers.others))}), so it is read as "
                f"categories ({len(keys)} distinct values). If it is a quantity, "
                f"convert it first: X[{name!r}] = pd.to_numeric(X[{name!r}], errors='coerce') "
                "(the other values become missing, which skmtl encodes as such); to keep it "
                "as categories and silence this, give it the category dtype.")
    return None


def _categorical_mask(X: pd.DataFrame, categorical_features: Any) -> np.ndarray:
    """Boolean mask of the categorical columns (``"from_dtype"``, names, indices or a mask)."""
    n = X.shape[1]
    if categorical_features is None:
        return np.zeros(n, dtype=bool)
    if isinstance(categorical_features, str) and categorical_features == "from_dtype":
        return np.array([is_categorical_dtype(X.iloc[:, j]) for j in range(n)], dtype=bool)
    given = np.asarray(categorical_features)
    if given.dtype == bool:
        if given.shape != (n,):
            raise ValueError(f"categorical_features is a boolean mask of length {len(given)}, "
                             f"but X has {n} columns.")
        return given
    mask = np.zeros(n, dtype=bool)
    columns = list(X.columns)
    for item in given.tolist():
        if isinstance(item, (int, np.integer)) and not isinstance(item, bool) and item not in columns:
            if not -n <= item < n:
                raise ValueError(f"categorical_features has index {item}, but X has {n} columns.")
            mask[item] = True
        elif item in columns:
            mask[columns.index(item)] = True
        else:
            raise ValueError(f"categorical_features names column {item!r}, which X does not "
                             f"have; X's columns are {columns}.")
    return mask


def _as_float(column: pd.Series, name: Any) -> np.ndarray:
    """A numeric column as float64 with NaN for missing values; infinity is refused."""
    if pd.api.types.is_timedelta64_dtype(column):  # a duration: its seconds
        return column.dt.total_seconds().to_numpy(dtype=np.float64, na_value=np.nan)
    if pd.api.types.is_complex_dtype(column):
        raise ValueError(
            f"X column {name!r} ({column.dtype}) holds complex numbers, which skmtl does not "
            f"encode; give their parts as two columns (X[{name!r}].to_numpy().real and "
            ".imag) or their magnitude (np.abs).")
    try:
        values = np.asarray(pd.Series(column).astype("float64").to_numpy(na_value=np.nan))
    except (TypeError, ValueError):
        parsed = pd.to_numeric(pd.Series(column, dtype=object), errors="coerce")
        bad = pd.unique(pd.Series(column, dtype=object)[parsed.isna() & column.notna()])
        shown = ", ".join(repr(v) for v in bad[:3]) + (", ..." if len(bad) > 3 else "")
        raise ValueError(
            f"X column {name!r} ({column.dtype}) is treated as numeric but holds values that "
            f"are not numbers ({shown}). If they mark missing values, convert the column with "
            f"pd.to_numeric(X[{name!r}], errors='coerce'), which makes them NaN; if the column "
            "is categorical, list it in categorical_features (or leave "
            "categorical_features='from_dtype' to take category, object and string columns "
            "as categorical) and fit again.") from None
    if np.isinf(values).any():
        count = int(np.isinf(values).sum())
        raise ValueError(
            f"Input X contains infinity in X column(s) [{name!r}] ({count} "
            f"row{'s' if count > 1 else ''}). Replace it with NaN "
            "(X.replace([np.inf, -np.inf], np.nan)), which skmtl encodes as a missing value, "
            "or with finite values; or impute or drop those rows.")
    return values


def _plain_number(dtype: Any) -> bool:
    """Whether a column's dtype is a NumPy number or bool (not a pandas extension dtype)."""
    return isinstance(dtype, np.dtype) and dtype.kind in "fiub"


def _keys(column: pd.Series) -> pd.Series:
    """Each value's category key: its text (so category dtype and strings agree)."""
    return column.astype(object).astype(str)


#: The numbers a date column gives (``<column>.<part>``); ``hour`` (hours, minutes and
#: seconds as hours) only when some time in fit is not midnight; then ``<column>.date``,
#: the day as text, a categorical column (unless ``categorical_features=None``).
DATE_PARTS: tuple[str, ...] = ("year", "month", "day", "dayofweek", "dayofyear")
# The ``Series.dt`` attribute of each part: pandas 3 deprecates ``dayofweek`` and
# ``dayofyear`` (the names the columns keep) for these spellings, present since pandas 1.1.
_DATE_ACCESSORS = {"dayofweek": "day_of_week", "dayofyear": "day_of_year"}


def _is_date(column: pd.Series) -> bool:
    return pd.api.types.is_datetime64_any_dtype(column)


def _as_dates(column: pd.Series) -> pd.Series | None:
    """A column of dates as ``datetime64`` values: as it is, or converted from an object
    column of ``datetime.date`` / ``datetime.datetime`` / Timestamp values (as a database
    or an array gives them); None for any other column, or timestamps of several time
    zones, which no one ``datetime64`` dtype holds. A column of periods (``period[M]``,
    ...) gives each period's start."""
    if isinstance(column.dtype, pd.PeriodDtype):
        return column.dt.to_timestamp()
    if _is_date(column):
        return column
    if column.dtype != object or pd.api.types.infer_dtype(column, skipna=True) not in (
            "date", "datetime", "datetime64"):
        return None
    try:
        return pd.to_datetime(column)
    except (TypeError, ValueError):
        return None


def in_zone(dates: pd.Series, zone: Any, name: Any) -> pd.Series:
    """Dates in the time zone ``zone`` that fit saw (a tzinfo, or None for dates without
    one): dates in another zone are converted (the same instant, the local time of
    ``zone``); dates with a zone when fit had none, or without one when fit had one,
    raise a ValueError, as pandas refuses to compare them."""
    own = dates.dt.tz
    if str(own) == str(zone):
        return dates
    if zone is not None and own is not None:
        return dates.dt.tz_convert(zone)
    if zone is None:
        raise ValueError(
            f"X column {name!r} held dates without a time zone in fit, but has time zone "
            f"{str(own)!r} now; give its local times as in fit (X[{name!r}].dt.tz_convert(...)"
            ".dt.tz_localize(None)).")
    raise ValueError(
        f"X column {name!r} held dates in time zone {str(zone)!r} in fit, but has no time "
        f"zone now; say which zone its times are in (X[{name!r}].dt.tz_localize("
        f"{str(zone)!r}) if they are that zone's local times).")


def _has_time(column: pd.Series) -> bool:
    """Whether a date column holds a time of day other than midnight."""
    present = column.dropna()
    return bool(len(present) and (present != present.dt.normalize()).any())


def date_columns(column: pd.Series, name: Any, with_time: bool | None = None,
                 with_day: bool = True) -> dict[str, pd.Series]:
    """A date column's numbers and day, as :class:`TabularEncoder` encodes it.

    Parameters
    ----------
    column : Series of datetime64
        The dates (with or without a time zone: its local fields are used).
    name : object
        The column's name: the outputs are named ``<name>.<part>``.
    with_time : bool or None, default=None
        Whether to give ``<name>.hour`` (hours, with minutes and seconds as a fraction);
        None: when some time in ``column`` is not midnight.
    with_day : bool, default=True
        Whether to give ``<name>.date``, the day as text (None where the date is missing).

    Returns
    -------
    dict of str to Series
        ``<name>.<part>`` for each of ``DATE_PARTS`` (floats, NaN where the date is
        missing), then ``hour`` and ``date`` as asked.
    """
    if with_time is None:
        with_time = _has_time(column)
    dates = column.dt
    out = {f"{name}.{part}": getattr(dates, _DATE_ACCESSORS.get(part, part)).astype("float64")
           for part in DATE_PARTS}
    if with_time:
        out[f"{name}.hour"] = (dates.hour + dates.minute / 60 + dates.second / 3600
                               ).astype("float64")
    if with_day:
        out[f"{name}.date"] = (dates.strftime("%Y-%m-%d").astype(object)
                               .where(column.notna(), None))
    return out


def binary_scale(distinct: np.ndarray) -> tuple[float, float]:
    """``(low, 1 / (high - low))`` of a column with two fitted values, mapping them to 0 and
    1; ``(0, 0)`` (always 0) for a column with fewer."""
    if len(distinct) < 2:
        return 0.0, 0.0
    return float(distinct[0]), 1.0 / float(distinct[-1] - distinct[0])


class TabularEncoder(BaseEstimator):
    """Encode a DataFrame of mixed columns into one float32 matrix.

    The output holds, in order: the numeric columns (transformed, missing values set to
    0 after the transform, the centre of every transform), one missing-value indicator
    per numeric column that had missing values in fit, and one integer code per
    categorical column, stored as a float: 0 is reserved for a missing value; when
    ``min_frequency`` made some categories of the column infrequent, code 1 is shared by
    them and by the categories unseen in fit, and the frequent categories are 2..K + 1
    in sorted order; otherwise an unseen category gets code 0 too and the categories
    are 1..K. Numeric
    columns with at most two distinct values (binary flags, booleans) are mapped to
    0 / 1 instead of being transformed (unless ``numeric_transform="none"``): the lower
    value to 0, the higher to 1, values outside that pair to the nearer end (in between,
    linearly), and a column with one value (or none) to 0.

    A date column (``datetime64``, with or without a time zone, or an object column of
    ``datetime.date`` / ``datetime.datetime`` values) not listed in
    ``categorical_features`` is first replaced by columns named ``<column>.<part>``: its
    numbers (``DATE_PARTS``: year, month, day, day of the week, day of the year; and
    ``hour``, with minutes and seconds as a fraction, when some time in fit is not
    midnight), then encoded as numeric columns, and the day as text (``<column>.date``), a
    categorical column (none with ``categorical_features=None``). A duration
    (``timedelta64``) is read as its seconds.

    It always returns a NumPy array (scikit-learn's ``set_output`` does not apply).
    Categorical codes are not meant to be read as numbers: skmtl's networks embed them
    (:class:`~skmtl.tabular.FeatureEmbedding`).

    Parameters
    ----------
    categorical_features : "from_dtype", array-like of str / int / bool, or None, default="from_dtype"
        Which columns are categorical: by dtype (category, object, string), by name,
        position or boolean mask, or none.
    numeric_transform : {"quantile", "robust", "standard", "none"}, default="quantile"
        Transform of the numeric columns: a quantile transform to a normal distribution
        (scikit-learn's ``QuantileTransformer``), robust scaling (median and
        inter-quartile range), standardisation, or none.
    min_frequency : "auto", int, float or None, default=None
        Categories with fewer rows in fit than this (an int: a number of rows; a float in
        (0, 1): a fraction of the rows of fit, rounded up) are *infrequent*: they share
        one code with the categories unseen in fit (as scikit-learn's
        ``OneHotEncoder(min_frequency=)`` groups them), so the network learns one
        embedding from all the rare ones, and a new category at predict reads that
        embedding, not the missing value's. ``"auto"``: ``AUTO_MIN_FREQUENCY`` (0.002)
        of the rows, in the columns with more than ``AUTO_MIN_CATEGORIES`` (64) categories
        only (every category of the other columns keeps its code). None: every category
        seen in fit has its own code.
    max_categories : int >= 2 or None, default=None
        At most this many codes per categorical column besides the missing value's: a
        column with more categories keeps its ``max_categories - 1`` most frequent ones
        (ties: in sorted order) and makes the others infrequent, as scikit-learn's
        ``OneHotEncoder(max_categories=)`` does. Applied after ``min_frequency``; None:
        no limit.
    declared_categories : bool, default=False
        Whether a ``category`` column's dtype declares categories to come: those its
        rows in fit lack get codes of their own too, as if they had just enough rows
        not to be infrequent (``max_categories`` ranks them after the categories with
        more rows). skmtl's estimators set it in the first ``partial_fit`` call, whose
        encoding later calls keep; otherwise (False) a category is known only from
        the rows, and one that fit did not see reads the unseen categories' code.

    Attributes
    ----------
    input_columns_ : list
        X's columns, in order.
    dates_ : dict
        Each date column's name: ``(hour, day)``, whether it gives the ``hour`` column and
        the day column.
    date_zones_ : dict
        Each date column's name: its time zone in fit (a ``tzinfo``), or None for dates
        without one. At transform, dates in another zone are converted to it
        (the same instant gives the same parts), and dates with a zone where fit had
        none, or none where it had one, are refused: their local times cannot be
        compared.
    columns_ : list
        The columns encoded, in order: X's, each date column replaced by its parts; the
        positions below are positions in this list.
    numeric_ : list of int
        Positions of the numeric columns (transformed).
    binary_ : list of int
        Positions of the numeric columns with at most two values (mapped to 0 / 1).
    indicators_ : list of int
        Positions of the numeric columns that get a missing-value indicator.
    categorical_ : list of int
        Positions of the categorical columns.
    categories_ : list of ndarray
        The frequent categories of each categorical column (code ``i + 1 + o`` is
        ``categories_[j][i]``, where ``o`` is 1 when the column has infrequent
        categories, else 0).
    infrequent_categories_ : list of ndarray
        The infrequent categories of each categorical column (code 1; empty when none).
    cardinalities_ : list of int
        Number of codes of each categorical column (its frequent categories, the
        reserved 0, and the shared code 1 when it has infrequent categories).
    """

    def __init__(self, categorical_features="from_dtype", numeric_transform="quantile",
                 min_frequency=None, max_categories=None, declared_categories=False):
        self.categorical_features = categorical_features
        self.numeric_transform = numeric_transform
        self.min_frequency = min_frequency
        self.max_categories = max_categories
        self.declared_categories = declared_categories

    def _declared_absent(self, column: pd.Series, keys: np.ndarray) -> pd.Series:
        """With ``declared_categories``, the categories that a ``category`` column's dtype
        declares but its rows lack, indexed by their keys (an empty Series otherwise)."""
        if not (self.declared_categories and isinstance(column.dtype, pd.CategoricalDtype)):
            return pd.Series([], dtype=object)
        declared = pd.Series(column.dtype.categories.to_numpy(dtype=object), dtype=object)
        declared.index = _keys(declared).to_numpy()
        return declared[~declared.index.isin(keys) & ~declared.index.duplicated()]

    def _frequent(self, counts: np.ndarray, min_count: int) -> np.ndarray:
        """Which categories (of ``counts``, in sorted key order) keep a code of their own."""
        frequent = counts >= min_count
        limit = self.max_categories
        # codes besides the missing value's: one per frequent category, one shared
        if limit is not None and frequent.sum() + (~frequent).any() > limit:
            order = np.argsort(-counts, kind="stable")  # most rows first, ties in key order
            kept = order[frequent[order]][:limit - 1]
            frequent = np.zeros_like(frequent)
            frequent[kept] = True
        return frequent

    def _min_count(self, n_rows: int, n_categories: int) -> int:
        """The number of rows in fit a category of a column with ``n_categories`` needs to
        be frequent (1: every one is)."""
        m = self.min_frequency
        if isinstance(m, str) and m == "auto":
            m = AUTO_MIN_FREQUENCY if n_categories > AUTO_MIN_CATEGORIES else None
        if m is None:
            return 1
        if isinstance(m, (bool, np.bool_)) or not isinstance(m, (Integral, Real)):
            raise TypeError(f"min_frequency={m!r}; give \"auto\", an int >= 1, a float in "
                            "(0, 1) or None.")
        if isinstance(m, Integral):
            if m < 1:
                raise ValueError(f"min_frequency={m!r}; an int must be >= 1.")
            return int(m)
        if not 0 < m < 1:
            raise ValueError(f"min_frequency={m!r}; a float must lie in (0, 1) (a fraction "
                             "of the rows).")
        return int(np.ceil(m * n_rows))

    def fit(self, X: pd.DataFrame, y: Any = None) -> TabularEncoder:
        """Fit the encoding of every column on the rows of X.

        Parameters
        ----------
        X : DataFrame of shape (n_samples, n_features)
        y : ignored

        Returns
        -------
        self : TabularEncoder
        """
        if not isinstance(X, pd.DataFrame):
            raise TypeError(f"TabularEncoder needs a DataFrame, got {type(X).__name__}.")
        if self.numeric_transform not in NUMERIC_TRANSFORMS:
            raise ValueError(f"numeric_transform={self.numeric_transform!r}; use one of "
                             f"{sorted(NUMERIC_TRANSFORMS)}.")
        self._min_count(len(X), 0)  # validated before anything is fitted
        limit = self.max_categories
        if limit is not None and (isinstance(limit, (bool, np.bool_))
                                  or not isinstance(limit, Integral) or limit < 2):
            raise ValueError(f"max_categories={limit!r}; give an int >= 2 or None.")
        self.input_columns_ = [c.item() if isinstance(c, np.generic) else c for c in X.columns]
        X = _from_arrow_frame(X)  # pyarrow's times, durations and dictionaries
        mask = _categorical_mask(X, self.categorical_features)
        # date columns (not listed as categorical) become numbers and the day as text
        with_day = self.categorical_features is not None
        dates = {name: _as_dates(X.iloc[:, j]) for j, name in enumerate(self.input_columns_)
                 if not mask[j]}
        dates = {name: column for name, column in dates.items() if column is not None}
        self.dates_ = {name: (_has_time(column), with_day) for name, column in dates.items()}
        self.date_zones_ = {name: column.dt.tz for name, column in dates.items()}
        if self.dates_:
            X, mask = self._expand(X, dates), self._expanded_mask(mask)
        self.columns_ = [c.item() if isinstance(c, np.generic) else c for c in X.columns]
        self.categorical_ = [int(j) for j in np.flatnonzero(mask)]
        self.numeric_, self.binary_, self.indicators_ = [], [], []
        self.categories_, self.keys_, self.binary_values_ = [], [], []
        self.infrequent_categories_, self.infrequent_keys_ = [], []
        # text columns categorical by their dtype (not asked for by name, not a date's day)
        by_dtype = (isinstance(self.categorical_features, str)
                    and self.categorical_features == "from_dtype")
        hinted = set() if not by_dtype else {
            j for j in self.categorical_ if self.columns_[j] in self.input_columns_
            and not isinstance(X.iloc[:, j].dtype, pd.CategoricalDtype)}
        numeric = []
        for j in np.flatnonzero(~mask):
            values = self._numeric(X, j)
            missing = np.isnan(values)
            if missing.any():
                self.indicators_.append(int(j))
            distinct = np.unique(values[~missing])
            if len(distinct) <= 2 and self.numeric_transform != "none":
                self.binary_.append(int(j))
                self.binary_values_.append(distinct)
            else:
                self.numeric_.append(int(j))
                numeric.append(values)
        for j in self.categorical_:
            column = X.iloc[:, j].dropna()
            keyed = _keys(column)  # each value's text key, computed once
            tally = keyed.value_counts(sort=False)  # hashing, not sorting every row
            keys = tally.index.to_numpy(dtype=str)
            order = np.argsort(keys, kind="stable")  # the distinct keys in sorted order
            keys, counts = keys[order], tally.to_numpy(dtype=np.int64)[order]
            if j in hinted and (hint := text_hint(keys, self.columns_[j])) is not None:
                warnings.warn(hint, UserWarning, stacklevel=2)
            first = pd.Series(column.to_numpy(dtype=object), index=keyed.to_numpy())
            first = first[~first.index.duplicated()]
            absent = self._declared_absent(X.iloc[:, j], keys)
            min_count = self._min_count(len(X), len(keys) + len(absent))
            if len(absent):  # rows to come: counted as just frequent enough
                first = pd.concat([first, absent])
                keys = np.concatenate([keys, absent.index.to_numpy(dtype=str)])
                counts = np.concatenate([counts, np.full(len(absent), max(min_count, 1))])
                order = np.argsort(keys, kind="stable")
                keys, counts = keys[order], counts[order]
            frequent = self._frequent(counts, min_count)  # keys stay sorted in each group
            self.categories_.append(np.array([first[k] for k in keys[frequent]], dtype=object))
            self.keys_.append(keys[frequent])
            self.infrequent_categories_.append(
                np.array([first[k] for k in keys[~frequent]], dtype=object))
            self.infrequent_keys_.append(keys[~frequent])
        self.cardinalities_ = [len(c) + 1 + self._shared(k)
                               for k, c in enumerate(self.categories_)]
        factory = NUMERIC_TRANSFORMS[self.numeric_transform]
        self.transformer_ = None
        if numeric and factory is not None:  # arrays out, whatever the global output config
            self.transformer_ = factory(len(X)).set_output(transform="default")
            self.transformer_.fit(np.column_stack(numeric))
        self.n_features_out_ = (len(self.numeric_) + len(self.binary_) + len(self.indicators_)
                                + len(self.categorical_))
        return self

    def _expand(self, X: pd.DataFrame, dates: dict | None = None) -> pd.DataFrame:
        """X with each date column replaced by its numbers and day (:func:`date_columns`);
        ``dates``: the date columns already read as dates (fit), by name."""
        parts: dict[Any, pd.Series] = {}
        for j, name in enumerate(self.input_columns_):
            column = X.iloc[:, j]
            if name not in self.dates_:
                parts[name] = column
                continue
            # an object column of dates (an array) is converted
            converted = dates[name] if dates is not None else _as_dates(column)
            if converted is None:
                raise ValueError(f"X column {name!r} held dates in fit but is {column.dtype} "
                                 f"now; give it as dates (pd.to_datetime(X[{name!r}])).")
            if dates is None and name in self.date_zones_:
                converted = in_zone(converted, self.date_zones_[name], name)
            for new, values in date_columns(converted, name, *self.dates_[name]).items():
                if new in parts or new in self.input_columns_:
                    raise ValueError(
                        f"X column {name!r} holds dates, which skmtl encodes as columns named "
                        f"'{name}.<part>', but X already has a column {new!r}; rename it.")
                parts[new] = values
        return pd.DataFrame(parts, index=X.index)

    def _sources(self) -> list[tuple[int, str | None]]:
        """For each encoded column (``columns_``, :meth:`_expand`'s order): the position of
        X's column it comes from, and the date part it is (one of ``DATE_PARTS``, then
        ``"hour"`` and ``"date"``, as :func:`date_columns` gives them; None for a column
        as it is)."""
        out: list[tuple[int, str | None]] = []
        for i, name in enumerate(self.input_columns_):
            if name in self.dates_:
                with_time, with_day = self.dates_[name]
                out += [(i, part) for part in [*DATE_PARTS, *["hour"] * with_time,
                                               *["date"] * with_day]]
            else:
                out.append((i, None))
        return out

    def _expanded_mask(self, mask: np.ndarray) -> np.ndarray:
        """The categorical mask of :meth:`_expand`'s columns: each date column's day is
        categorical, its numbers are not."""
        return np.array([bool(mask[i]) if part is None else part == "date"
                         for i, part in self._sources()], dtype=bool)

    def __setstate__(self, state: dict) -> None:
        """Unpickle; an encoder fitted before dates, infrequent and declared categories
        existed gets what it did then: X's columns as they are, no date, no infrequent
        category, the rows' categories only."""
        super().__setstate__(state)
        self.__dict__.setdefault("declared_categories", False)
        if "columns_" in self.__dict__:
            self.__dict__.setdefault("input_columns_", list(self.columns_))
            self.__dict__.setdefault("dates_", {})
            # fitted before zones were recorded: dates read in their own zone, as then
            self.__dict__.setdefault("date_zones_", {})
            none = [np.array([], dtype=object) for _ in self.keys_]
            self.__dict__.setdefault("infrequent_keys_", none)
            self.__dict__.setdefault("infrequent_categories_", none)

    def unseen_codes(self) -> list[int]:
        """The code that each categorical column's categories unseen in fit read.

        The shared code 1 of a column with infrequent categories, else the missing
        value's code 0 (see :meth:`transform`).

        Returns
        -------
        list of int
            One per categorical column, in the order of ``categorical_``.
        """
        check_is_fitted(self)
        return [self._shared(k) for k in range(len(self.categories_))]

    def unseen_categories(self, X: pd.DataFrame) -> dict[Any, list]:
        """The categories of X that fit did not see, per categorical column of X.

        Values that are neither a frequent nor an infrequent category of fit (they read
        :meth:`unseen_codes`); missing values are not counted, nor the days of date
        columns (new days are expected).

        Parameters
        ----------
        X : DataFrame of shape (n_samples, n_features)
            With the columns of fit.

        Returns
        -------
        dict
            Column name -> its unseen values in order of first appearance, for the
            columns that have some.
        """
        check_is_fitted(self)
        sources = self._sources()  # each encoded column's input and date part
        found = {}
        for k, j in enumerate(self.categorical_):
            source, part = sources[j]
            if part is not None:  # a date column's day
                continue
            column = X.iloc[:, source].dropna()
            keyed = _keys(column)
            known = np.concatenate([self.keys_[k], self.infrequent_keys_[k]])
            new = ~keyed.isin(known).to_numpy()
            if new.any():
                first = ~keyed[new].duplicated().to_numpy()
                found[self.columns_[j]] = column[new][first].tolist()
        return found

    def out_of_range(self, X: pd.DataFrame) -> dict[Any, tuple[float, float, float]]:
        """The numeric columns whose values in X the encoding reads at the ends of fit's range.

        The quantile transform maps a value outside the range of the rows it was fitted
        on to that range's end, and a column with at most two values in fit reads other
        values as the nearer of them (a column with one value, or none, reads everything
        as 0): such values cannot be told apart. Robust and standard scaling keep them
        apart, and are not listed. Date columns count by their numbers (``<name>.year``,
        ``<name>.dayofyear``, ...); missing values are not counted.

        Parameters
        ----------
        X : DataFrame of shape (n_samples, n_features)
            With the columns of fit.

        Returns
        -------
        dict
            Encoded column name -> (share of its non-missing values outside the range,
            the range's low end, its high end; NaN ends for a column that had no value in
            fit), for the columns with some value outside.
        """
        check_is_fitted(self)
        X = _from_arrow_frame(X)
        if self.dates_:
            X = self._expand(X)
        ranges = []
        if isinstance(self.transformer_, QuantileTransformer):
            ends = self.transformer_.quantiles_[[0, -1]]
            ranges += [(j, ends[0, k], ends[1, k]) for k, j in enumerate(self.numeric_)]
        ranges += [(j, *((distinct[0], distinct[-1]) if len(distinct) else (np.nan, np.nan)))
                   for j, distinct in zip(self.binary_, self.binary_values_)]
        found = {}
        for j, low, high in ranges:
            values = self._numeric(X, j)
            values = values[~np.isnan(values)]
            outside = ~((values >= low) & (values <= high))  # all, when fit saw no value
            if outside.any():
                found[self.columns_[j]] = (float(outside.mean()), float(low), float(high))
        return found

    def _shared(self, k: int) -> int:
        """1 when the ``k``-th categorical column has the shared infrequent / unseen code 1."""
        return int(len(self.infrequent_keys_[k]) > 0)

    def _numeric(self, X: pd.DataFrame, j: int) -> np.ndarray:
        return _as_float(X.iloc[:, j], self.columns_[j])

    def transform(self, X: pd.DataFrame) -> np.ndarray:
        """Encode X with the fitted encoding.

        Missing values get code 0, unseen categories the code of the column's infrequent
        categories (code 0 when it has none; see ``min_frequency``); a numeric column that had no
        missing value in fit but has some now gets the centre value 0 (no indicator).

        Parameters
        ----------
        X : DataFrame of shape (n_samples, n_features)

        Returns
        -------
        ndarray of float32, shape (n_samples, n_features_out_)
        """
        check_is_fitted(self)
        if list(X.columns) != self.input_columns_:
            raise ValueError(f"X has columns {list(X.columns)}, but the encoder was fitted on "
                             f"{self.input_columns_}.")
        X = _from_arrow_frame(X)
        if self.dates_:
            X = self._expand(X)
        if self._is_identity(X):  # numbers as given: one float32 conversion, NaN -> 0
            with np.errstate(over="ignore"):  # float32 overflow: refused below
                values = X.to_numpy(dtype=np.float32)  # X's own float32 block: no copy
            # one reading pass: without NaN or infinity the values are returned as they
            # are (read-only use); np.isfinite(...).all() measured about 4x as fast as a
            # float64 sum over a chunk of 32,768 x 64 values
            if np.isfinite(values).all():
                return values
            values = np.array(values, dtype=np.float32)  # never write into X
            if not np.isinf(values).any():  # else (infinity, float32 overflow): the
                return np.nan_to_num(values, nan=0.0, copy=False)  # reading below says which
        n = len(X)
        out = np.zeros((n, self.n_features_out_), dtype=np.float32)
        col = 0
        # each numeric column read once (the indicators reuse it); columns of plain numpy
        # dtypes in one conversion (per column, pandas' overhead dominates on 64 columns)
        positions = self.numeric_ + self.binary_
        plain = [j for j in positions if _plain_number(X.dtypes.iloc[j])]
        numbers = {}
        if plain:
            block = X.iloc[:, plain].to_numpy(dtype=np.float64)
            if np.isinf(block).any():  # the per-column reading names the column
                for j in plain:
                    self._numeric(X, j)
            numbers = {j: block[:, k] for k, j in enumerate(plain)}
        numbers.update({j: self._numeric(X, j) for j in positions if j not in numbers})
        if self.numeric_:
            values = np.column_stack([numbers[j] for j in self.numeric_])
            if self.transformer_ is not None:
                values = self.transformer_.transform(values)
            values = np.nan_to_num(values, nan=0.0).astype(np.float32)
            if not np.isfinite(values).all():
                bad = [self.columns_[j] for j, ok in zip(self.numeric_, np.isfinite(values).all(0))
                       if not ok]
                raise ValueError(
                    f"X column(s) {bad} hold values too large for float32 after the "
                    f"{self.numeric_transform!r} numeric transform; rescale them (e.g. a log "
                    "transform) or use numeric_transform='quantile'.")
            out[:, :len(self.numeric_)] = values
            col = len(self.numeric_)
        for j, distinct in zip(self.binary_, self.binary_values_):
            low, inverse_span = binary_scale(distinct)
            # low -> 0, high -> 1; values outside the pair clip to the nearer end (a count
            # that was only 0 or 1 in fit reads 2 as 1, not 0); missing -> 0
            values = np.clip((numbers[j] - low) * inverse_span, 0.0, 1.0)
            out[:, col] = np.where(np.isnan(values), 0.0, values)
            col += 1
        for j in self.indicators_:
            out[:, col] = np.isnan(numbers[j])
            col += 1
        for k, (j, keys) in enumerate(zip(self.categorical_, self.keys_)):
            column = X.iloc[:, j]
            shared = self._shared(k)
            # position among the frequent keys, -1 for an infrequent or unseen one, which
            # becomes the shared code 1 (code 0 when the column has no infrequent category)
            codes = pd.Index(keys).get_indexer(_keys(column)).astype(np.float32)
            codes = np.where(codes < 0, float(shared), codes + 1 + shared).astype(np.float32)
            codes[column.isna().to_numpy()] = 0
            out[:, col] = codes
            col += 1
        return out

    def _is_identity(self, X: pd.DataFrame) -> bool:
        """Whether the encoding of X is its values as float32 (NaN as 0): no transform, no
        categorical, binary or indicator column, and only plain numpy number columns."""
        return (self.transformer_ is None and not self.binary_ and not self.indicators_
                and not self.categorical_
                and all(_plain_number(t) for t in X.dtypes))

    def fit_transform(self, X: pd.DataFrame, y: Any = None) -> np.ndarray:
        """Fit on X, then encode it (see :meth:`fit` and :meth:`transform`).

        Parameters
        ----------
        X : DataFrame of shape (n_samples, n_features)
        y : ignored

        Returns
        -------
        ndarray of float32, shape (n_samples, n_features_out_)
        """
        return self.fit(X).transform(X)

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        """Names of the output columns (``<column>``, ``<column>__missing``)."""
        check_is_fitted(self)
        names = [str(self.columns_[j]) for j in self.numeric_ + self.binary_]
        names += [f"{self.columns_[j]}__missing" for j in self.indicators_]
        names += [str(self.columns_[j]) for j in self.categorical_]
        return np.array(names, dtype=object)

    def summary(self) -> pd.DataFrame:
        """What was done to each column of X: one row per column encoded (a date column
        gives one per part, ``<column>.<part>``).

        Returns
        -------
        DataFrame
            Columns ``kind`` (numeric, binary or categorical), ``encoding``,
            ``missing_indicator``, ``n_categories`` (a categorical column's frequent
            categories) and ``n_infrequent`` (its infrequent ones, sharing one code),
            indexed by the columns encoded (``columns_``).
        """
        check_is_fitted(self)
        rows = {}
        for j, name in enumerate(self.columns_):
            if j in self.categorical_:
                k = self.categorical_.index(j)
                encoding = ("integer code (0 = missing, 1 = infrequent or unseen), embedded"
                            if self._shared(k) else
                            "integer code (0 = missing or unseen), embedded")
                rows[name] = ("categorical", encoding, False, len(self.categories_[k]),
                              len(self.infrequent_categories_[k]))
            elif j in self.binary_:
                rows[name] = ("binary", "0 / 1", j in self.indicators_, None, None)
            else:
                rows[name] = ("numeric", f"{self.numeric_transform} transform, missing -> 0",
                              j in self.indicators_, None, None)
        return pd.DataFrame.from_dict(
            rows, orient="index",
            columns=["kind", "encoding", "missing_indicator", "n_categories", "n_infrequent"],
        ).astype({"n_categories": "Int64", "n_infrequent": "Int64"})  # counts, <NA> if none
