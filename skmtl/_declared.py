"""Fitting a clone on some of the rows (a fold, a training split) with the classes of all
of them, so that a class those rows lack still has its output: the members of a
cross-fitted ensemble, the candidates TaskGrouping validates and the folds of
``cross_val_predict``.  Every skmtl model (an estimator, an ensemble, a task grouping)
takes declared classes through its ``_fit_with_classes(X, y, classes, **params)``."""

from __future__ import annotations

from typing import Any

from .tasks import TaskSet, as_target_frame


def all_classes(taskset: TaskSet) -> dict:
    """Each single-column classification task's classes (fitted on all the rows), by
    column."""
    return {task.columns_[0]: task.classes_ for task in taskset.tasks_
            if task.kind == "classification" and len(task.columns_) == 1}


def lacked_classes(y: Any, classes: dict) -> dict:
    """``classes`` (column -> classes) of the columns of y whose rows lack some of them
    (all of y's columns' classes when one does; columns y does not have are skipped), or
    an empty dict when none lacks any."""
    frame, _ = as_target_frame(y)
    declared = {column: values for column, values in classes.items() if column in frame}
    if not any(frame[column].dropna().nunique() < len(values)
               for column, values in declared.items()):
        return {}
    return declared


def fit_with_classes(estimator: Any, X: Any, y: Any, classes: dict, **params: Any) -> Any:
    """``estimator.fit(X, y, **params)``; when y's rows lack some of ``classes`` (column ->
    classes; columns y does not have are skipped), the same fit with y's columns' classes
    declared (as ``partial_fit``'s ``classes`` does), through the skmtl model's
    ``_fit_with_classes``."""
    declared = lacked_classes(y, classes)
    if not declared:
        return estimator.fit(X, y, **params)
    return estimator._fit_with_classes(X, y, declared, **params)
