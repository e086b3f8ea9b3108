"""Checks of X with errors that name the offending columns."""

from __future__ import annotations

import copy
import warnings
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
from scipy import sparse
from sklearn.utils.validation import check_array, validate_data

from ._frames import from_polars
from ._stack import caller_level

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


_FLOAT32_MAX = float(np.finfo(np.float32).max)


def _rows(count: int) -> str:
    return f"{count} row" if count == 1 else f"{count} rows"


def _non_finite_report(X: Any) -> dict[str, dict[Any, int]]:
    """Where ``X`` holds NaN, infinity or values too large for float32.

    Returns, for each problem (``"nan"``, ``"inf"``, ``"large"``), a dict from the
    column (a name for DataFrames, a position for arrays) to its number of rows. An
    array with more than 2 dimensions is reported by sample (``"sample"``) instead.
    """
    report: dict[str, dict[Any, int]] = {"nan": {}, "inf": {}, "large": {}}
    if not isinstance(X, pd.DataFrame):
        try:
            array = np.asarray(X, dtype=np.float64)
        except (TypeError, ValueError):
            array = None
        if array is not None and array.ndim > 2:
            flat = array.reshape(len(array), -1)
            for key, bad in (("nan", np.isnan(flat)), ("inf", np.isinf(flat))):
                rows = np.flatnonzero(bad.any(axis=1))
                if len(rows):
                    report[key] = {"sample": len(rows)}
            return report
    frame = X if isinstance(X, pd.DataFrame) else pd.DataFrame(np.asarray(X, dtype=object))
    for j, (label, column) in enumerate(frame.items()):
        values = pd.to_numeric(column, errors="coerce").astype("float64")
        values = values.to_numpy(dtype=np.float64, na_value=np.nan)
        name = label if isinstance(X, pd.DataFrame) else j
        finite = np.isfinite(values)
        for key, bad in (
            ("nan", np.isnan(values)),
            ("inf", np.isinf(values)),
            ("large", finite & (np.abs(np.where(finite, values, 0.0)) > _FLOAT32_MAX)),
        ):
            if bad.any():
                report[key][name] = int(bad.sum())
    return report


def _non_finite_message(estimator: Any, X: Any) -> str | None:
    """skmtl's message for NaN or infinity in ``X``, naming the columns and the fix.

    None when no column can be blamed (the caller then re-raises scikit-learn's error).
    """
    report = _non_finite_report(X)
    name = type(estimator).__name__
    sentences = []

    def where(columns: dict[Any, int]) -> str:
        if list(columns) == ["sample"]:
            return f"in {columns['sample']} sample(s) of X"
        counts = [_rows(n) for n in columns.values()]
        if len(counts) > 1:
            return f"in X column(s) {list(columns)} ({', '.join(counts)} respectively)"
        return f"in X column(s) {list(columns)} ({counts[0]})"

    if report["nan"]:
        sentences.append(
            f"Input X contains NaN (missing values) {where(report['nan'])}. {name} needs a "
            "value for every feature: impute or drop them first, e.g. with "
            f"sklearn.impute.SimpleImputer in a Pipeline, make_pipeline(SimpleImputer(), "
            f"{name}(...)), or a SimpleImputer for those columns inside your "
            "ColumnTransformer. (Missing labels in y need no such step: they are masked.)"
        )
    if report["inf"]:
        sentences.append(
            f"Input X contains infinity {where(report['inf'])}. Replace it with finite values, "
            "or with NaN (X.replace([np.inf, -np.inf], np.nan)) and impute or drop them, e.g. "
            "with sklearn.impute.SimpleImputer in a Pipeline."
        )
    if report["large"]:
        sentences.append(
            f"Input X holds values too large for float32 (above {_FLOAT32_MAX:.3g} in absolute "
            f"value) {where(report['large'])}; {name} trains in float32: rescale or clip them "
            "(e.g. a log transform or StandardScaler in a Pipeline), or impute or drop them."
        )
    return " ".join(sentences) if sentences else None


def check_aligned(X: Any, **others: Any) -> None:
    """Refuse a pandas X and any of ``others`` (``y``, ``sample_weight``, ``groups``: the
    keyword names it) whose indexes hold the same labels in another order.

    skmtl pairs the rows of X and y by position, as scikit-learn does. Indexes with the
    same labels in different orders (one of them sorted, or taken from a shuffled copy)
    pair each row with another row's labels, without any error. Any other pair of
    indexes is taken by position, as always; so is a pair where one index is the default
    ``RangeIndex`` (0, 1, ..., n - 1), which a frame built from an array, or
    ``reset_index(drop=True)``, has whatever the order of the other's rows: there the
    labels do not say which row is which.

    Raises
    ------
    ValueError
        Naming the first position where the two indexes differ and how to align them.
    """
    pandas = (pd.DataFrame, pd.Series)
    if not isinstance(X, pandas):
        return
    rows = X.index
    for name, other in others.items():
        if not isinstance(other, pandas):
            continue
        labels = other.index
        if len(rows) != len(labels) or rows.equals(labels):
            continue
        if _default_index(rows) or _default_index(labels):
            continue
        try:
            same = rows.sort_values().equals(labels.sort_values())
        except TypeError:  # labels of types that do not sort together: not the same labels
            continue
        if same:
            first = int(np.flatnonzero(rows.to_numpy() != labels.to_numpy())[0])
            x_label, label = (v.item() if isinstance(v, np.generic) else v
                              for v in (rows[first], labels[first]))
            what = "labels" if name == "y" else name
            raise ValueError(
                f"X and {name} hold the same row labels (index) in different orders: row "
                f"{first} is {x_label!r} in X but {label!r} in {name}. skmtl pairs X's and "
                f"{name}'s rows by position, as scikit-learn does, so rows would be trained or "
                f"scored with another row's {what}. Align them first, e.g. {name} = "
                f"{name}.loc[X.index].")


def _default_index(index: pd.Index) -> bool:
    """Whether ``index`` is the default ``RangeIndex`` 0, 1, ..., n - 1."""
    return isinstance(index, pd.RangeIndex) and index.start == 0 and index.step == 1


def check_groups(groups: Any, n: int) -> np.ndarray | None:
    """``groups`` of ``fit`` as a 1-D array of ``n`` values (None stays None)."""
    if groups is None:
        return None
    values = np.asarray(from_polars(groups), dtype=object)
    if values.ndim != 1 or len(values) != n:
        raise ValueError(f"groups must give one group per row of X, shape ({n},); got shape "
                         f"{values.shape}.")
    return values


#: Share of the validation rows that may repeat a training row (same index value, same
#: features) before ``fit`` warns (see :func:`warn_repeated_rows`).
REPEATED_ROWS = 0.1


def warn_repeated_rows(X: Any, split: Any, owner: str) -> None:
    """Warn when many random validation rows repeat a training row of a DataFrame ``X``.

    Rows with the same index value and the same features are one entity seen twice:
    tables of the same customers, patients or pupils stacked (each bringing its own
    targets), or rows oversampled. A random validation split then validates on entities
    the network trains on, the validation loss rewards memorising them, and early
    stopping stops late. Only a DataFrame whose index repeats values is hashed (nothing
    else can be told from distinct entities that happen to share features).

    Parameters
    ----------
    X : any
        ``fit``'s X, as given.
    split : HoldoutSplit
        The network's random validation split (drawn only when ``X`` is such a
        DataFrame).
    owner : str
        The estimator's class name, for the message.
    """
    if not isinstance(X, pd.DataFrame) or not X.index.has_duplicates:
        return
    train, valid = (part.numpy() for part in split.split(len(X)))
    if not len(valid):
        return
    try:
        rows = pd.util.hash_pandas_object(X, index=True).to_numpy()
    except TypeError:  # unhashable cells: X is refused elsewhere
        return
    repeated = int(np.isin(rows[valid], rows[train]).sum())
    if repeated < REPEATED_ROWS * len(valid):
        return
    warnings.warn(
        f"{owner}: {repeated} of the {len(valid)} validation rows ({repeated / len(valid):.0%}) "
        "repeat a training row, with the same index value and the same features (tables of "
        "the same entities stacked, or rows oversampled). The validation loss then rewards "
        "memorising those entities, so early stopping stops late and the network overfits. "
        "Pass fit(..., groups=X.index) (or another entity id) to validate on whole "
        "entities, or merge such tables into one row per entity, NaN where a table lacks "
        "a target.", UserWarning, stacklevel=caller_level())


def is_input_dict(X: Any) -> bool:
    """Whether ``X`` is a dict of inputs (not a sparse DOK matrix, which is a dict too)."""
    return isinstance(X, Mapping) and not sparse.issparse(X)


def n_rows(X: Any) -> int:
    """Number of samples of a checked ``X`` (an array or a dict of arrays)."""
    return len(next(iter(X.values()))) if is_input_dict(X) else X.shape[0]


def _check_inputs(estimator: Any, X: Mapping, reset: bool) -> dict[str, np.ndarray]:
    """Validate a dict of inputs (one array per modality) into float32 arrays."""
    if len(X) == 0:
        raise ValueError("X is an empty dict; pass one array per input.")
    arrays = {}
    for key, value in X.items():
        if sparse.issparse(value):
            raise ValueError(
                f"X[{key!r}] is a sparse matrix; a dict of inputs takes dense arrays only "
                "(sparse X is supported as a plain 2-D X without a `trunk`)."
            )
        array = value.to_numpy() if isinstance(value, (pd.DataFrame, pd.Series)) else value
        try:
            array = np.asarray(array, dtype=np.float32)
        except (TypeError, ValueError):
            raise ValueError(
                f"X[{key!r}] is not numeric; encode it into numbers before fitting."
            ) from None
        if array.ndim == 1:
            array = array.reshape(-1, 1)
        if not np.isfinite(array).all():
            flat = array.reshape(len(array), -1)
            what = "NaN" if np.isnan(flat).any() else "infinity"
            rows = np.flatnonzero(~np.isfinite(flat).all(axis=1))
            raise ValueError(
                f"Input X[{key!r}] contains {what} in {_rows(len(rows))} (the first is row "
                f"{rows[0]}); every input needs finite values: impute or drop those rows first."
            )
        arrays[str(key) if not isinstance(key, str) else key] = array
    lengths = {key: len(a) for key, a in arrays.items()}
    if len(set(lengths.values())) > 1:
        raise ValueError(f"The inputs of X have different numbers of rows: {lengths}.")
    shapes = {key: a.shape[1:] for key, a in arrays.items()}
    if reset:
        estimator.input_shapes_ = shapes
        estimator.n_features_in_ = int(sum(np.prod(s) for s in shapes.values()))
    elif shapes != getattr(estimator, "input_shapes_", shapes):
        raise ValueError(
            f"X has inputs of shapes {shapes}, but {type(estimator).__name__} was fitted "
            f"on {estimator.input_shapes_} (shapes without the sample axis)."
        )
    return arrays


def check_X(estimator: Any, X: Any, reset: bool, allow_nd: bool = False) -> Any:
    """Validate ``X`` into a float32 array (or a dict of them), naming columns in errors.

    Wraps scikit-learn's ``validate_data`` (which records and checks
    ``n_features_in_`` and ``feature_names_in_``), adding the names of the columns
    that are not numeric or hold NaN or infinity. A dict of arrays (for example a
    ``skorch.helper.SliceDict``) is checked input by input.

    Parameters
    ----------
    estimator : BaseEstimator
    X : array-like, DataFrame or dict of array-like
    reset : bool
        True in fit (records the features), False at predict (checks them).
    allow_nd : bool, default=False
        Accept arrays with more than 2 dimensions (images for a user trunk).

    Returns
    -------
    ndarray of float32, or dict of them
    """
    if is_input_dict(X):
        return _check_inputs(estimator, X, reset)
    if sparse.issparse(X) and allow_nd:
        raise ValueError(
            f"X is a sparse matrix, which {type(estimator).__name__} takes only without a "
            "`trunk` (a plain 2-D X); convert it to a dense array for a trunk."
        )
    if isinstance(X, pd.DataFrame):
        bad = _non_numeric_columns(X)
        if bad:
            dtypes = {c: str(X[c].dtype) for c in bad}
            raise ValueError(
                f"X has non-numeric column(s) {dtypes}. Encode them first, e.g. with a "
                "ColumnTransformer applying OneHotEncoder inside a Pipeline."
            )
    try:
        array = validate_data(
            estimator, X, reset=reset, dtype=np.float32, ensure_all_finite=True,
            allow_nd=allow_nd, accept_sparse="csr",
        )
    except ValueError as exc:
        message = str(exc)
        if "could not convert" in message:
            bad = _non_numeric_columns(X)
            raise ValueError(
                f"X column(s) {bad} are not numeric ({message.rstrip('.')}); encode them first, "
                "e.g. with a ColumnTransformer applying OneHotEncoder inside a Pipeline."
            ) from None
        if "NaN" in message or "infinity" in message:
            explained = None if sparse.issparse(X) else _non_finite_message(estimator, X)
            if explained:
                raise ValueError(explained) from None
        raise
    if reset:
        estimator.input_shapes_ = array.shape[1:]
    elif array.shape[1:] != estimator.input_shapes_:
        raise ValueError(
            f"X has samples of shape {array.shape[1:]}, but {type(estimator).__name__} was "
            f"fitted on samples of shape {estimator.input_shapes_}."
        )
    return array


def check_frame(estimator: Any, X: pd.DataFrame | Any, reset: bool,
                continuing: bool = False, declared: bool = False) -> np.ndarray:
    """Encode a table with the estimator's fitted :class:`~skmtl.tabular.TabularEncoder`.

    In fit (``reset``) the encoder is fitted on X (a DataFrame, or a dense 2-D array whose
    columns are then named by position) and stored as ``preprocessor_``; later calls
    apply it (an array given after a DataFrame fit is read with the fitted column names). ``n_features_in_`` and ``feature_names_in_`` are recorded and checked as
    scikit-learn does.

    Parameters
    ----------
    estimator : BaseEstimator
    X : DataFrame (or, after a DataFrame fit, array-like) of shape (n_samples, n_features)
    reset : bool
    continuing : bool, default=False
        Training continues with the fitted encoding (``partial_fit``, a warm start): warn
        when X holds categories that it did not see, as when a transferred trunk's encoding
        is applied in fit.
    declared : bool, default=False
        The encoder fitted here (``reset``) keeps the categories that a ``category``
        column's dtype declares, also those X lacks (``TabularEncoder(
        declared_categories=True)``): the first ``partial_fit`` call of a stream.

    Returns
    -------
    ndarray of float32, shape (n_samples, n_encoded_features)
    """
    from .tabular import TabularEncoder

    X = from_polars(X)  # a polars frame: its columns by name, as pandas'
    if isinstance(X, pd.DataFrame):
        if X.shape[0] == 0 or X.shape[1] == 0:
            what = "sample" if X.shape[0] == 0 else "feature"
            raise ValueError(f"Found array with 0 {what}(s) (shape={X.shape}) while a minimum "
                             f"of 1 is required by {type(estimator).__name__}.")
        duplicated = X.columns[X.columns.duplicated()].unique().tolist()
        if duplicated:
            raise ValueError(f"X has duplicate column names {duplicated}; give each column "
                             "its own name (e.g. X.columns = [...]) or drop the copies "
                             "(X.loc[:, ~X.columns.duplicated()]).")
        validate_data(estimator, X, reset=reset, skip_check_array=True)
    else:
        if sparse.issparse(X):
            raise ValueError(f"{type(estimator).__name__} was fitted on a dense table; X must "
                             "be dense too (a DataFrame or a 2-D array).")
        if isinstance(X, Mapping):  # e.g. the columns of a JSON request
            raise TypeError(
                f"X is a {type(X).__name__} with keys {list(X)[:10]}, but "
                f"{type(estimator).__name__} was fitted on a table: pass a DataFrame, e.g. "
                "pd.DataFrame(X) for a dict of columns (pd.DataFrame([X]) for one row).")
        # 2-D, not complex, at least one row and column (scikit-learn's messages)
        array = check_array(X, dtype=None, ensure_all_finite=False, estimator=estimator)
        validate_data(estimator, array, reset=reset, skip_check_array=True)
        # a view of the checked array (pandas 3 copies an array by default): the encoder
        # only reads it
        X = pd.DataFrame(array, columns=None if reset else estimator.preprocessor_.input_columns_,
                         copy=False)
    inherited = getattr(estimator.trunk, "skmtl_preprocessor_", None)
    if reset and inherited is not None:  # a transferred trunk reads X encoded as in its source
        estimator.preprocessor_ = copy.deepcopy(inherited)
    elif reset:
        estimator.preprocessor_ = TabularEncoder(
            estimator.categorical_features, estimator.numeric_transform,
            estimator.min_frequency, estimator.max_categories,
            declared_categories=declared).fit(X)
    array = estimator.preprocessor_.transform(X)
    if continuing or (reset and inherited is not None):
        _warn_unseen(estimator, X, "a transferred trunk's" if reset else "the fitted")
        _warn_out_of_range(estimator, X, "a transferred trunk's" if reset else "its")
    if reset:
        estimator.input_shapes_ = array.shape[1:]
    return array


def _warn_once(estimator: Any, message: str) -> None:
    """A ``UserWarning`` at the user's call (``fit``, ``partial_fit``), unless the model's
    encoding gave the same one before: each call of a stream would repeat it, and
    Python's once-per-place rule does not hold it back (any change of the warning
    filters in between, by any library, shows it again; measured: 9 of 9 calls)."""
    told = estimator.preprocessor_.__dict__.setdefault("_told", set())
    if message not in told:
        told.add(message)
        warnings.warn(message, UserWarning, stacklevel=7)


def _warn_unseen(estimator: Any, X: pd.DataFrame, whose: str) -> None:
    """Warn when training rows hold categories that the encoding applied to them did not
    see: they read one shared code and cannot be learned apart."""
    unseen = estimator.preprocessor_.unseen_categories(X)
    if not unseen:
        return
    # sorted, so that chunks holding the same new values give the same message, shown once
    unseen = {name: sorted(values, key=str) for name, values in unseen.items()}
    listed = "; ".join(f"{name!r}: {values[:5]}" + (f" and {len(values) - 5} more"
                                                     if len(values) > 5 else "")
                       for name, values in unseen.items())
    _warn_once(
        estimator,
        f"{type(estimator).__name__}: the training rows hold categories that {whose} "
        f"encoding did not see ({listed}). They read the code of unseen categories (the "
        "column's shared code of rare categories, else the missing value's) and cannot be "
        "learned apart: fit on rows that hold every category first (the encoding is fitted "
        "on the first partial_fit call, which also gives a code to every category that a "
        "column's pd.CategoricalDtype declares), or set category_dropout (e.g. 0.05) so "
        "that this code is trained.")


#: Share of a numeric column's training values outside the range of the rows its encoding
#: was fitted on, above which continued training warns (a random stream's later chunks
#: hold about 2 / (n + 1) such values after a first chunk of n rows: under 5 % from 40 rows)
OUT_OF_RANGE_SHARE = 0.05


def _warn_out_of_range(estimator: Any, X: pd.DataFrame, whose: str) -> None:
    """Warn when many training values of a numeric column lie outside the range that the
    encoding applied to them was fitted on, which reads them at the range's ends
    (:meth:`~skmtl.tabular.TabularEncoder.out_of_range`)."""
    encoder = estimator.preprocessor_
    found = {name: (low, high) for name, (share, low, high)
             in encoder.out_of_range(X).items() if share > OUT_OF_RANGE_SHARE}
    if not found:
        return
    few = {encoder.columns_[j] for j in encoder.binary_}

    def fitted(name: Any, low: float, high: float) -> str:
        if np.isnan(low):
            return "no value"
        if name in few:
            return f"only {low:.6g}" + (f" and {high:.6g}" if high != low else "")
        return f"[{low:.6g}, {high:.6g}]"

    # the fitted ranges, not this call's values: the calls of a stream give the same
    # message, shown once
    listed = "; ".join(f"{name!r}: {fitted(name, *ends)}" for name, ends in found.items())
    quantile = [name for name in found if name not in few]
    advice = (" For a quantile-transformed column, numeric_transform='standard' or 'robust' "
              "also keeps such values apart." if quantile else "")
    _warn_once(
        estimator,
        f"{type(estimator).__name__}: over {OUT_OF_RANGE_SHARE:.0%} of the training rows' "
        f"values of numeric column(s) lie outside what {whose} encoding saw in fit "
        f"({listed}). The encoding reads them at the ends of that range (the quantile "
        "transform clips; a column with at most two values in fit reads the nearer one), so "
        "the network cannot tell them apart: in a time-ordered stream, for example, when "
        "the first chunk holds only the first dates or counts. Fit the encoding on rows "
        "that span each column's values (partial_fit fits it on its first call)."
        + advice)


def uses_frame(estimator: Any, X: Any, reset: bool) -> bool:
    """Whether X goes through the tabular encoder: in fit, a DataFrame or a dense 2-D array
    without a user trunk; later, anything, when fit did."""
    if reset:
        if sparse.issparse(X) or is_input_dict(X):
            return False
        trunk = getattr(estimator, "trunk", None)
        if trunk is not None and getattr(trunk, "skmtl_preprocessor_", None) is None:
            return False  # a user trunk reads X as given
        return isinstance(X, pd.DataFrame) or n_dims(X) == 2
    return getattr(estimator, "preprocessor_", None) is not None


def n_dims(X: Any) -> int | None:
    """Dimensions of X as an array (None when it is not one, e.g. ragged lists).

    Read from X's ``ndim`` or ``shape`` where it has one (arrays, tensors, pandas' and
    polars' frames), so that nothing is converted: NumPy cannot even convert a polars
    frame of numbers and dates."""
    ndim = getattr(X, "ndim", None)
    if ndim is not None:
        return int(ndim)
    shape = getattr(X, "shape", None)
    if isinstance(shape, tuple):
        return len(shape)
    try:
        return np.asarray(X).ndim
    except (TypeError, ValueError):
        return None
