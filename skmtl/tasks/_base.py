"""Base class shared by every task type."""

from __future__ import annotations

from numbers import Real
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator
from sklearn.utils._param_validation import Interval

from ..losses import TaskLoss, get_loss


class Task(BaseEstimator):
    """Base class of a task specification.

    A task reads one or more columns of ``y``, owns one output head of the network
    and one loss. Subclasses define how labels are checked and encoded into float
    targets (NaN where a label is missing), how head outputs are decoded back into
    labels, and how a fitted task is scored.

    A spec given by the user is never modified: estimators fit a clone of it and
    expose the fitted clones as ``tasks_``.

    Parameters
    ----------
    weight : float, default=1.0
        Multiplier of this task's loss in the total training loss.
    loss : str or TaskLoss, default=None
        The training loss, by name (see :data:`skmtl.losses.LOSSES`) or instance.
        None uses the task type's default.
    name : str, default=None
        Name of the task in histories, scores and errors. None uses the column name.

    Attributes
    ----------
    labelled_ : bool
        Whether the task has the statistics that labels give (see :meth:`fit`'s
        ``allow_unlabelled``): False only after a first ``partial_fit`` call that held
        none of its labels, until a later call brings some.
    """

    #: Registry key of the task type.
    kind: str = ""
    #: Whether the task predicts discrete labels.
    is_classification: bool = False
    #: Loss used when ``loss`` is None.
    default_loss: str = ""

    _parameter_constraints: dict = {
        "weight": [Interval(Real, 0, None, closed="left")],
        "loss": [str, TaskLoss, None],
        "name": [str, None],
    }

    # -- columns -----------------------------------------------------------------
    def _declared_columns(self) -> list[Any] | None:
        """Columns named by the spec, or None when the estimator assigns them."""
        raise NotImplementedError

    def _with_columns(self, columns: list[Any]) -> Task:
        """Return an unfitted copy of this spec reading ``columns``."""
        raise NotImplementedError

    # -- fitting ---------------------------------------------------------------------
    def fit(self, frame: pd.DataFrame, classes: Any = None,
            allow_unlabelled: bool = False) -> Task:
        """Check and learn the encoding of this task's labels.

        Parameters
        ----------
        frame : pandas.DataFrame
            The columns of ``y`` this task reads.
        classes : array-like, default=None
            Classification only: every class the task can take (for incremental fits
            whose first batch may miss some); None uses the labels in ``frame``.
        allow_unlabelled : bool, default=False
            Whether ``frame`` may hold no label of the task (the first ``partial_fit``
            call of a stream whose labels of this task come later): the task is then
            fitted without label statistics (``labelled_`` is False; a classification
            task needs ``classes``), and :meth:`fit_first_labels` takes them from the
            first labels it gets. Otherwise a task without labels is an error.

        Returns
        -------
        self : Task
        """
        self._validate_params()
        self.columns_ = list(frame.columns)
        self.name_ = self.name if self.name is not None else _column_name(self.columns_)
        self.dtypes_ = [frame[c].dtype for c in self.columns_]
        for column in self.columns_:
            check_label_values(frame[column])
        loss = get_loss(self.loss if self.loss is not None else self.default_loss, self.name_)
        if loss.kinds and self.kind not in loss.kinds:  # user losses may declare none
            raise ValueError(
                f"Loss {loss.name!r} does not apply to {self.kind} task {self.name_!r}; it is "
                f"for {sorted(loss.kinds)} tasks."
            )
        if classes is not None and self.kind != "classification":
            raise ValueError(f"classes were given for {self.kind} task {self.name_!r}.")
        self.labelled_ = has_labels(frame)
        options = {} if classes is None else {"classes": classes}
        self.loss_ = loss  # unfitted: the encoding may depend on it (a regression link)
        # passed only where a column lacks every label (a task type of a user's may not
        # know the option, and needs it nowhere else)
        if allow_unlabelled and any(missing_mask(frame[c]).all() for c in self.columns_):
            options["allow_unlabelled"] = True
        self._fit(frame, **options)
        self.loss_ = loss.fit(self.encode(frame), self.n_outputs_)
        return self

    def fit_first_labels(self, frame: pd.DataFrame) -> bool:
        """Learn the label statistics of a task fitted without labels, from ``frame``.

        A task fitted by ``fit(..., allow_unlabelled=True)`` on rows without its labels
        has none of the statistics that labels give (a regression task's mean and scale,
        the balanced weights of its loss). The first later rows that hold its labels
        give them; rows without labels change nothing.

        Parameters
        ----------
        frame : pandas.DataFrame
            A later ``partial_fit`` call's rows of the task's columns of ``y``.

        Returns
        -------
        bool
            Whether the statistics were learnt now (False when the task had them
            already, or ``frame`` holds none of its labels either).
        """
        if getattr(self, "labelled_", True) or not has_labels(frame):
            return False
        classes = {"classes": self.classes_} if self.kind == "classification" else {}
        self._fit(frame, allow_unlabelled=True, **classes)
        self.labelled_ = True
        self.loss_ = self.loss_.fit(self.encode(frame), self.n_outputs_)
        return True

    def _fit(self, frame: pd.DataFrame, allow_unlabelled: bool = False) -> None:
        """Learn the encoding; ``allow_unlabelled``: ``frame`` may hold no label."""
        raise NotImplementedError

    def encode(self, frame: pd.DataFrame) -> np.ndarray:
        """Encode labels into float32 training targets, NaN where missing.

        Parameters
        ----------
        frame : pandas.DataFrame
            The columns of ``y`` this task reads.

        Returns
        -------
        ndarray of shape (n_samples, target_width_)
        """
        raise NotImplementedError

    def decode(self, output: np.ndarray) -> dict[Any, pd.Series]:
        """Turn the head's raw output into predictions, one Series per column.

        Parameters
        ----------
        output : ndarray of shape (n_samples, n_outputs_)

        Returns
        -------
        dict
            Column name to a Series of predictions with the column's dtype.
        """
        raise NotImplementedError

    def predict_proba(self, output: np.ndarray) -> np.ndarray:
        """Class probabilities from the head's raw output (classification tasks).

        Parameters
        ----------
        output : ndarray of shape (n_samples, n_outputs_)

        Returns
        -------
        ndarray of shape (n_samples, n_classes)
        """
        raise AttributeError(f"Task {self.name_!r} ({type(self).__name__}) has no probabilities.")

    def score(self, frame: pd.DataFrame, output: np.ndarray,
              sample_weight: np.ndarray | None = None) -> float:
        """Score the head's output against labels, on labelled entries only.

        Parameters
        ----------
        frame : pandas.DataFrame
            The true labels, in the columns this task reads.
        output : ndarray of shape (n_samples, n_outputs_)
        sample_weight : ndarray of shape (n_samples,) or None, default=None
            Weight of each row in the score.

        Returns
        -------
        float
            Accuracy for classification tasks, R² for regression tasks; NaN when no
            entry is labelled.
        """
        raise NotImplementedError

    def __sklearn_is_fitted__(self) -> bool:
        return hasattr(self, "columns_")


class SingleColumnTask(Task):
    """Base class of tasks that read exactly one column of ``y``.

    Parameters
    ----------
    column : str, int or None, default=None
        Column of ``y`` (a name for DataFrames, a position for arrays). None lets the
        estimator assign it (only valid inside ``tasks={column: spec}``).
    weight : float, default=1.0
        Multiplier of this task's loss in the total loss.
    loss : str or TaskLoss, default=None
        Training loss; None uses the task type's default.
    name : str, default=None
        Task name; None uses the column name.
    """

    _parameter_constraints = {**Task._parameter_constraints, "column": "no_validation"}

    def __init__(self, column=None, *, weight=1.0, loss=None, name=None):
        self.column = column
        self.weight = weight
        self.loss = loss
        self.name = name

    def _declared_columns(self):
        return None if self.column is None else [self.column]

    def _with_columns(self, columns):
        (column,) = columns
        params = {k: v for k, v in self.get_params(deep=False).items() if k != "column"}
        return type(self)(column, **params)


def plain(value: Any) -> Any:
    """A NumPy scalar as the Python value it holds (for readable error messages)."""
    return value.item() if isinstance(value, np.generic) else value


#: What ``y`` may look like, quoted by the errors about values that are not labels.
Y_SHAPES = (
    "y may be a 1-D array or Series (one task), or a 2-D array or DataFrame with one column "
    "per task; each entry is one label (str, int, bool, category) or one number, with "
    "NaN/None where a label is missing."
)

_CONTAINERS = (
    (dict, "dicts"),
    ((set, frozenset), "sets"),
    (list, "lists"),
    (tuple, "tuples"),
    (np.ndarray, "arrays"),
    (pd.Series, "Series"),
    (pd.DataFrame, "DataFrames"),
)


def check_label_values(series: pd.Series) -> None:
    """Raise a TypeError when a column of ``y`` holds containers (dicts, lists, sets).

    A container is not a label: the usual causes are records (a list of dicts) or
    multi-label targets given as a list of labels per row, and the message says how to
    turn each into columns.

    Parameters
    ----------
    series : pandas.Series
        One column of ``y``.
    """
    if series.dtype != object:
        return
    if pd.api.types.infer_dtype(series, skipna=True) not in ("mixed", "mixed-integer"):
        return
    for value in series:
        plural = next((name for types, name in _CONTAINERS if isinstance(value, types)), None)
        if plural is None:
            continue
        example = repr(value)
        if len(example) > 60:
            example = example[:57] + "..."
        if plural == "dicts":
            fix = (
                "For records such as [{'price': 3.0, 'kind': 'a'}, ...], pd.DataFrame(records) "
                "makes one column (one task) per key."
            )
        else:
            fix = (
                "For multi-label targets (several labels per row), make one 0/1 column per "
                "label, e.g. with sklearn.preprocessing.MultiLabelBinarizer, and declare them "
                "as one skmtl.tasks.MultiLabel task; for several targets per row, pass a 2-D "
                "array or a DataFrame with one column per target."
            )
        raise TypeError(
            f"Column {plain(series.name)!r} of y holds {plural} (e.g. {example}), which are not "
            f"labels. {Y_SHAPES} {fix}"
        )


def _column_name(columns: list[Any]) -> str:
    return "+".join(str(c) for c in columns)


def missing_mask(series: pd.Series) -> np.ndarray:
    """Boolean mask of missing labels (NaN, None, pd.NA, NaT).

    Parameters
    ----------
    series : pandas.Series

    Returns
    -------
    ndarray of bool
    """
    return np.asarray(pd.isna(series), dtype=bool)


def has_labels(frame: pd.DataFrame) -> bool:
    """Whether any entry of ``frame`` (a task's columns of ``y``) holds a label."""
    return bool(any((~missing_mask(frame[c])).any() for c in frame.columns))


def check_has_labels(series: pd.Series, task_name: str) -> np.ndarray:
    """Return the missing mask of ``series``, raising when every label is missing.

    Parameters
    ----------
    series : pandas.Series
    task_name : str

    Returns
    -------
    ndarray of bool
    """
    missing = missing_mask(series)
    if missing.all():
        raise ValueError(
            f"Input y contains NaN (missing) in every row of column {plain(series.name)!r}: task "
            f"{task_name!r} has no labels at all. Drop the column or provide labels for it."
        )
    return missing


def as_series(values: np.ndarray, dtype: Any, name: Any) -> pd.Series:
    """Build a prediction Series, cast to the original column dtype where it fits."""
    series = pd.Series(values, name=name)
    try:
        return series.astype(dtype)
    except (TypeError, ValueError):
        return series
