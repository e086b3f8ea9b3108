"""Fitting a clone on some of the rows (a fold, a training split) with the classes of all
of them, so that a class those rows lack still has its output: the members of a
cross-fitted ensemble and the candidates TaskGrouping validates."""

from __future__ import annotations

from typing import Any

from .tasks import TaskSet, as_target_frame


def all_classes(taskset: TaskSet) -> dict:
    """Each single-column classification task's classes (fitted on all the rows), by
    column."""
    return {task.columns_[0]: task.classes_ for task in taskset.tasks_
            if task.kind == "classification" and len(task.columns_) == 1}


def lacks_a_class(y: Any, classes: dict) -> bool:
    """Whether some column of ``y`` holds (among its labels) fewer of the ``classes``
    given for it (column -> classes) than there are."""
    frame, _ = as_target_frame(y)
    return any(column in frame and frame[column].dropna().nunique() < len(values)
               for column, values in classes.items())


def fit_with_classes(estimator: Any, X: Any, y: Any, classes: dict, **params: Any) -> Any:
    """``estimator.fit(X, y, **params)``; when y's rows lack some of ``classes``, the same
    fit with every class declared (as ``partial_fit``'s ``classes`` does)."""
    if not lacks_a_class(y, classes):
        return estimator.fit(X, y, **params)
    return estimator._fit(X, y, params.get("sample_weight"), incremental=estimator.warm_start,
                          classes={c: v for c, v in classes.items()
                                   if c in as_target_frame(y)[0]},
                          groups=params.get("groups"))
