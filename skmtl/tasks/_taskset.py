"""Resolve task specs against ``y`` and convert between ``y`` and training targets."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import clone

from .._frames import from_polars, polars_schema, to_polars
from ._base import Task, check_label_values, has_labels
from ._classification import Classification
from ._inference import infer_task
from ._multilabel import MultiLabel
from ._regression import Regression

#: Task type names (as in ``tasks={"col": "classification"}``) to spec classes.
TASK_TYPES: dict[str, type[Task]] = {
    Regression.kind: Regression,
    Classification.kind: Classification,
    MultiLabel.kind: MultiLabel,
}


def as_target_frame(y: Any) -> tuple[pd.DataFrame, str]:
    """Convert ``y`` to a DataFrame whose columns are the target columns.

    Parameters
    ----------
    y : array-like of shape (n_samples,) or (n_samples, n_columns), Series or DataFrame
        pandas' or polars' (read as pandas', names kept).

    Returns
    -------
    frame : pandas.DataFrame
        Array columns are named by position (0, 1, ...).
    kind : {"frame", "series", "array1d", "array2d"}
        The form ``y`` came in, which predictions are returned in.
    """
    if y is None:
        raise ValueError("This estimator requires y to be passed, but the target y is None.")
    y = from_polars(y)
    if isinstance(y, pd.DataFrame):
        frame, kind = y, "frame"
    elif isinstance(y, pd.Series):
        frame, kind = y.to_frame(name=0 if y.name is None else y.name), "series"
    else:
        if hasattr(y, "toarray") or hasattr(y, "tocsr"):
            raise TypeError("A sparse y is not supported; pass a dense array or a DataFrame.")
        try:
            array = np.asarray(y)
        except ValueError:
            # Rows of different lengths (e.g. a list of label lists): keep one object per
            # row, which check_label_values below reports.
            array = np.empty(len(y), dtype=object)
            array[:] = list(y)
        if array.ndim == 1:
            frame, kind = pd.DataFrame(array.reshape(-1, 1)), "array1d"
        elif array.ndim == 2:
            frame, kind = pd.DataFrame(array), "array2d"
        else:
            raise ValueError(
                f"y must be 1-D (one task) or 2-D (one column per task); got {array.ndim}-D."
            )
    if frame.shape[1] == 0:
        raise ValueError("y has no columns: pass at least one target column.")
    if not frame.columns.is_unique:
        duplicated = frame.columns[frame.columns.duplicated()].tolist()
        raise ValueError(f"y has duplicated column names {duplicated}; rename them.")
    for _, column in frame.items():
        check_label_values(column)
    return frame, kind


def _declared_classes(classes: Any, columns: list) -> dict:
    """``classes`` as a dict column -> classes (see :meth:`TaskSet.fit`)."""
    if classes is None:
        return {}
    if isinstance(classes, dict):
        unknown = set(classes) - set(columns)
        if unknown:
            raise ValueError(f"classes names columns {sorted(map(str, unknown))} that y lacks.")
        return classes
    if len(columns) == 1 and np.ndim(classes) == 1 and not any(
        isinstance(c, (list, tuple, np.ndarray)) for c in classes
    ):
        return {columns[0]: classes}
    if len(classes) != len(columns):
        raise ValueError(
            f"classes has {len(classes)} entries but y has {len(columns)} columns; give one "
            "array (or None) per column, or a dict column -> classes."
        )
    return {c: k for c, k in zip(columns, classes) if k is not None}


def _check_rows(frame: pd.DataFrame, n_samples: int | None) -> None:
    if n_samples is not None and len(frame) != n_samples:
        raise ValueError(
            f"X has {n_samples} rows but y has {len(frame)}; X and y must have the same "
            "number of rows (one row of y per sample)."
        )


def _spec_from_value(value: Any, column: Any) -> Task:
    """A spec from a ``tasks`` dict value: a task name or an (unbound) spec."""
    if isinstance(value, str):
        if value not in TASK_TYPES or value == MultiLabel.kind:
            raise ValueError(
                f"Unknown task type {value!r} for column {column!r}; use 'regression' or "
                "'classification' (declare multi-label tasks with skmtl.tasks.MultiLabel)."
            )
        return TASK_TYPES[value](column)
    if isinstance(value, Task):
        declared = value._declared_columns()
        if declared is None:
            return value._with_columns([column])
        return value
    raise TypeError(
        f"tasks[{column!r}] must be a task type name or a skmtl.tasks.Task, got {value!r}."
    )


class TaskSet:
    """The fitted tasks of an estimator and the conversions between ``y`` and targets.

    Parameters
    ----------
    tasks : "auto", list of Task, or dict
        ``"auto"`` infers one task per column (see :func:`skmtl.tasks.infer_task`). A
        list of specs, or a dict mapping a column to a task type name or spec, declares
        tasks; columns no spec reads are inferred.
    force : type of Task or None, default=None
        When set, every column not read by an explicit spec gets this task type, and
        explicit specs must be classification (for ``Classification``) or regression
        (for ``Regression``) tasks.
    """

    def __init__(self, tasks: Any = "auto", force: type[Task] | None = None):
        self.tasks = tasks
        self.force = force

    def __setstate__(self, state: dict) -> None:
        """Unpickle; a task set fitted before polars targets were kept had none."""
        self.__dict__.update(state)
        if "columns_" in state:
            self.__dict__.setdefault("polars_schema_", None)

    def _explicit_specs(self) -> list[Task]:
        if isinstance(self.tasks, str):
            return []
        if isinstance(self.tasks, dict):
            return [_spec_from_value(value, column) for column, value in self.tasks.items()]
        specs = []
        for spec in self.tasks:
            if not isinstance(spec, Task):
                raise TypeError(f"Each entry of tasks must be a skmtl.tasks.Task, got {spec!r}.")
            if spec._declared_columns() is None:
                raise ValueError(
                    f"{spec!r} names no column; pass the column, e.g. "
                    f"{type(spec).__name__}('target'), or use tasks={{'target': spec}}."
                )
            specs.append(spec)
        return specs

    def _check_forced(self, spec: Task) -> None:
        if self.force is None:
            return
        if spec.is_classification != self.force.is_classification:
            wanted = "classification" if self.force.is_classification else "regression"
            raise ValueError(
                f"{spec!r} is not a {wanted} task, but this estimator only fits {wanted} "
                "tasks; use skmtl.MultiTaskNet for a mix of task types."
            )

    def fit(self, y: Any, n_samples: int | None = None, classes: Any = None,
            allow_unlabelled: bool = False) -> TaskSet:
        """Resolve and fit the task specs on ``y``.

        Parameters
        ----------
        y : array-like, Series or DataFrame
        n_samples : int, default=None
            Number of rows of X; when given, y must have as many rows.
        classes : array-like, list or dict, default=None
            Declared classes of classification tasks: an array when y has one column, a
            list with one entry per column (None for others), or a dict column -> classes.
            A column with declared classes that no spec reads is a classification task.
        allow_unlabelled : bool, default=False
            Whether a task may have no label in ``y`` (the first ``partial_fit`` call):
            see :meth:`Task.fit` and :meth:`fit_first_labels`. The type of such a task
            cannot be inferred, so it must be declared (a spec, or ``classes``).

        Returns
        -------
        self : TaskSet
        """
        self.polars_schema_ = polars_schema(y)  # predictions go back to polars
        y = from_polars(y)  # its dtype and name below are pandas'
        frame, self.kind_ = as_target_frame(y)
        _check_rows(frame, n_samples)
        self.columns_ = list(frame.columns)
        self.target_dtype_ = getattr(y, "dtype", None) if self.kind_ != "frame" else None
        self.series_name_ = y.name if self.kind_ == "series" else None
        claimed: dict[Any, Task] = {}
        for spec in self._explicit_specs():
            self._check_forced(spec)
            for column in spec._declared_columns():
                if column not in frame.columns:
                    raise ValueError(
                        f"{spec!r} names column {column!r}, which y does not have; y's columns "
                        f"are {self.columns_}."
                    )
                if column in claimed:
                    raise ValueError(
                        f"Column {column!r} is read by two task specs, {claimed[column]!r} and "
                        f"{spec!r}; give each column to one task."
                    )
                claimed[column] = spec
        declared = _declared_classes(classes, self.columns_)
        ordered: list[Task] = []
        for column in self.columns_:
            spec = claimed.get(column)
            if spec is None and self.force:
                spec = self.force(column)
            elif spec is None and column in declared:
                spec = Classification(column)
            elif spec is None:
                if allow_unlabelled and not has_labels(frame[[column]]):
                    raise ValueError(
                        f"Column {column!r} of y has no labels in this first partial_fit call, "
                        "so its task type cannot be inferred from them: declare it on this "
                        f"call, with its classes (partial_fit(X, y, classes={{{column!r}: "
                        f"[...]}})) or as tasks={{{column!r}: 'regression'}}, or start with rows "
                        "that label it.")
                spec = infer_task(frame[column])
            if not any(spec is seen for seen in ordered):
                ordered.append(spec)
        tasks = []
        for spec in ordered:
            columns = spec._declared_columns()
            task_classes = declared.get(columns[0]) if len(columns) == 1 else None
            tasks.append(clone(spec).fit(frame[columns], classes=task_classes,
                                         allow_unlabelled=allow_unlabelled))
        names = [task.name_ for task in tasks]
        if len(set(names)) != len(names):
            raise ValueError(f"Task names must be unique, got {names}; set distinct `name`s.")
        self.tasks_ = tasks
        widths = np.cumsum([0] + [task.target_width_ for task in tasks])
        self.target_slices_ = [slice(int(a), int(b)) for a, b in zip(widths[:-1], widths[1:])]
        return self

    def fit_first_labels(self, y: Any) -> list[int]:
        """Learn the label statistics of tasks fitted without labels that ``y`` labels.

        Parameters
        ----------
        y : array-like, Series or DataFrame
            With the fitted columns.

        Returns
        -------
        list of int
            The positions (in ``tasks_``) of the tasks that learnt them now.
        """
        if all(getattr(task, "labelled_", True) for task in self.tasks_):
            return []
        frame = self.check_columns(y)
        return [t for t, task in enumerate(self.tasks_)
                if task.fit_first_labels(frame[task.columns_])]

    def check_columns(self, y: Any, n_samples: int | None = None) -> pd.DataFrame:
        """Convert ``y`` to a frame and check it has the fitted columns.

        Parameters
        ----------
        y : array-like, Series or DataFrame
        n_samples : int, default=None
            Number of rows of X; when given, y must have as many rows.

        Returns
        -------
        pandas.DataFrame
        """
        frame, _ = as_target_frame(y)
        _check_rows(frame, n_samples)
        if list(frame.columns) != self.columns_:
            if set(frame.columns) != set(self.columns_):
                new = [c for c in frame.columns if c not in self.columns_]
                lacking = [c for c in self.columns_ if c not in frame.columns]
                details = "; ".join(
                    f"{what} {columns}"
                    for what, columns in (("new", new), ("missing", lacking)) if columns
                )
                raise ValueError(
                    f"y has columns {list(frame.columns)}, but the estimator was fitted on "
                    f"{self.columns_} ({details}). The tasks of a fitted model are fixed: "
                    "pass y with the columns seen in fit (NaN where labels are missing), or "
                    "fit a new model for other tasks (skmtl.transfer.shared_trunk reuses a "
                    "fitted trunk)."
                )
            frame = frame[self.columns_]
        return frame

    def encode(self, y: Any) -> np.ndarray:
        """Encode ``y`` into one float32 matrix of training targets, NaN where missing.

        Parameters
        ----------
        y : array-like, Series or DataFrame

        Returns
        -------
        ndarray of shape (n_samples, sum of the tasks' target widths)
        """
        frame = self.check_columns(y)
        return np.concatenate([task.encode(frame[task.columns_]) for task in self.tasks_], axis=1)

    def decode(self, outputs: list[np.ndarray], index: Any = None) -> Any:
        """Turn per-task head outputs into predictions shaped like the fitted ``y``.

        Parameters
        ----------
        outputs : list of ndarray
            One raw output array per task, in task order.
        index : pandas.Index, default=None
            Row index of the result when ``y`` was a DataFrame or Series.

        Returns
        -------
        DataFrame, Series or ndarray
        """
        columns: dict[Any, pd.Series] = {}
        for task, output in zip(self.tasks_, outputs):
            columns.update(task.decode(output))
        return self.arrange(columns, index)

    def arrange(self, columns: dict[Any, pd.Series], index: Any = None) -> Any:
        """Decoded predictions, one Series per column of ``y``, shaped like the fitted ``y``.

        Parameters
        ----------
        columns : dict
            Column of ``y`` to its predictions (a Series), every column present.
        index : pandas.Index, default=None
            Row index of the result when ``y`` was a DataFrame or Series.

        Returns
        -------
        DataFrame, Series or ndarray
            polars' DataFrame or Series when ``y`` was polars' (its dtypes where the values
            allow), without ``index``.
        """
        ordered = [columns[c] for c in self.columns_]
        if self.kind_ in ("frame", "series"):
            result = pd.concat(ordered, axis=1)
            result.columns = pd.Index(self.columns_)
            if index is not None:
                result.index = index
            if self.kind_ == "series":
                result = result.iloc[:, 0].rename(self.series_name_)
            if self.polars_schema_ is not None:
                result = to_polars(result, self.polars_schema_)
            return result
        arrays = [s.to_numpy() for s in ordered]
        if all(a.dtype.kind in "biuf" for a in arrays):
            dtype = np.result_type(*arrays)
        else:
            dtype = object
        stacked = np.column_stack([a.astype(dtype) for a in arrays])
        return stacked[:, 0] if self.kind_ == "array1d" else stacked

    def score_tasks(self, y: Any, outputs: list[np.ndarray],
                    sample_weight: np.ndarray | None = None) -> dict[str, float]:
        """Per-task scores on labelled entries: accuracy or R².

        Parameters
        ----------
        y : array-like, Series or DataFrame
        outputs : list of ndarray
        sample_weight : ndarray of shape (n_samples, n_tasks) or None, default=None
            Weight of each (row, task) pair.

        Returns
        -------
        dict
            Task name to score.
        """
        frame = self.check_columns(y, n_samples=len(outputs[0]))
        return {
            task.name_: task.score(frame[task.columns_], output,
                                   None if sample_weight is None else sample_weight[:, t])
            for t, (task, output) in enumerate(zip(self.tasks_, outputs))
        }
