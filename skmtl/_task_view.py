"""One task of a fitted multi-task model, seen as a single-output scikit-learn estimator.

scikit-learn's inspection and display tools take one output: ``partial_dependence`` and
``PartialDependenceDisplay`` refuse an estimator that is neither a regressor nor a
classifier, or a classifier of several outputs; ``RocCurveDisplay.from_estimator``,
``CalibrationDisplay.from_estimator`` and ``DecisionBoundaryDisplay`` want one
``predict_proba`` array; ``permutation_importance`` scores with ``estimator.score``. A
*task view* gives them one task of a fitted model: a regressor for a regression task, a
classifier for a classification task, whose ``predict`` / ``predict_proba`` are that task's
part of the model's. The view holds no weights of its own; it reads the model it views.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.exceptions import NotFittedError
from sklearn.metrics import accuracy_score, r2_score
from sklearn.utils.validation import check_is_fitted

from .metrics import _final, task_column, task_proba
from .tasks._base import missing_mask


def _fitted_tasks(estimator: Any) -> list:
    """The fitted tasks of ``estimator`` (or of its Pipeline's last step)."""
    final = _final(estimator)
    check_is_fitted(final)
    tasks = getattr(final, "tasks_", None)
    if tasks is None:
        raise TypeError(
            f"a task view reads a fitted skmtl model (MultiTaskNet, MultiTaskClassifier, "
            f"MultiTaskRegressor, MultiTaskEnsemble, TaskGrouping, or a Pipeline ending in "
            f"one); got {type(final).__name__}, which has no tasks_.")
    return list(tasks)


def _find_task(estimator: Any, task: Any) -> tuple[Any, list]:
    """The fitted task named ``task`` (or, failing that, whose only column is ``task``)
    and all the tasks; a ValueError naming the tasks when there is none."""
    tasks = _fitted_tasks(estimator)
    for candidate in tasks:
        if candidate.name_ == task:
            return candidate, tasks
    for candidate in tasks:
        if list(candidate.columns_) == [task]:
            return candidate, tasks
    raise ValueError(f"the model has no task {task!r}; its tasks are "
                     f"{[t.name_ for t in tasks]}.")


class _TaskView(BaseEstimator):
    """What both views share: the task, the model's inputs, fitting refused, scoring on
    the labelled rows."""

    def __init__(self, estimator: Any, task: Any):
        self.estimator = estimator
        self.task = task

    # -- the model's state, read through -------------------------------------------------
    def __sklearn_is_fitted__(self) -> bool:
        try:
            _fitted_tasks(self.estimator)
        except (NotFittedError, TypeError):
            return False
        return True

    @property
    def n_features_in_(self) -> int:
        """The number of X columns the viewed model was fitted on."""
        return self.estimator.n_features_in_

    @property
    def feature_names_in_(self) -> np.ndarray:
        """X's column names in the viewed model's fit (when X was a DataFrame)."""
        return self.estimator.feature_names_in_

    def _task(self) -> Any:
        task, _ = _find_task(self.estimator, self.task)
        return task

    def fit(self, X: Any = None, y: Any = None, **fit_params: Any):
        """Refused: a view is not fitted itself, it reads a fitted model.

        Fit the multi-task model (``model.fit(X, Y)``) and take
        ``skmtl.task_view(model, task)``. Where scikit-learn fits the estimators it is
        given (cross-validation, stacking, ``CalibratedClassifierCV``), wrap the view in
        ``sklearn.frozen.FrozenEstimator``, whose ``fit`` does nothing.

        Raises
        ------
        TypeError
            Always.
        """
        raise TypeError(
            f"{type(self).__name__} of task {self.task!r} reads a fitted multi-task model and "
            "is not fitted itself: fit the model (model.fit(X, Y)) and take "
            "skmtl.task_view(model, task); where scikit-learn fits what it is given "
            "(cross-validation, stacking, CalibratedClassifierCV), pass "
            "sklearn.frozen.FrozenEstimator(view).")

    # -- predictions ---------------------------------------------------------------------
    def predict(self, X: Any) -> np.ndarray:
        """The task's predictions for X (the viewed model's ``predict``, this task only).

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
            As the viewed model takes it.

        Returns
        -------
        ndarray of shape (n_samples,)
            Regression: the predicted values; classification: the predicted labels
            (after the model's decision thresholds, if it has any).
        """
        task = self._task()
        return task_column(self.estimator.predict(X), task)

    def score(self, X: Any, y: Any, sample_weight: Any = None) -> float:
        """The task's score on the rows whose label in ``y`` is present: R² (regression)
        or accuracy (classification), as the model's ``score_tasks`` gives it.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
        y : array-like or Series of shape (n_samples,)
            The task's labels; missing ones (NaN, None, ``pd.NA``) are skipped.
        sample_weight : array-like of shape (n_samples,), default=None

        Returns
        -------
        float
        """
        labels = pd.Series(y.to_numpy(dtype=object) if isinstance(y, pd.Series)
                           else np.asarray(y, dtype=object))
        keep = ~missing_mask(labels)
        weights = None if sample_weight is None else np.asarray(sample_weight)[keep]
        return self._metric(labels[keep].to_numpy(), self.predict(X)[keep], weights)


class TaskRegressorView(RegressorMixin, _TaskView):
    """One regression task of a fitted multi-task model, as a scikit-learn regressor.

    Made by :func:`task_view`; see there.

    Parameters
    ----------
    estimator : fitted skmtl estimator, or a Pipeline ending in one
        The model it reads.
    task : str or object
        The task's name (or its column).
    """

    score = _TaskView.score  # not RegressorMixin's: missing labels are skipped

    def _metric(self, truth: np.ndarray, predictions: np.ndarray, weights: Any) -> float:
        return float(r2_score(truth.astype(float), predictions.astype(float),
                              sample_weight=weights))


class TaskClassifierView(ClassifierMixin, _TaskView):
    """One classification task of a fitted multi-task model, as a scikit-learn classifier.

    Made by :func:`task_view`; see there.

    Parameters
    ----------
    estimator : fitted skmtl estimator, or a Pipeline ending in one
        The model it reads.
    task : str or object
        The task's name (or its column).
    """

    @property
    def classes_(self) -> np.ndarray:
        """The task's classes, in the order of ``predict_proba``'s columns."""
        return np.asarray(self._task().classes_)

    def predict_proba(self, X: Any) -> np.ndarray:
        """The task's class probabilities for X (the viewed model's ``predict_proba``,
        this task's array).

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples, n_classes)
            Columns in ``classes_`` order (with the model's temperature, if fitted with
            ``temperature_scaling``).
        """
        task, tasks = _find_task(self.estimator, self.task)
        return task_proba(tasks, self.estimator.predict_proba(X), task)

    score = _TaskView.score  # not ClassifierMixin's: missing labels are skipped

    def _metric(self, truth: np.ndarray, predictions: np.ndarray, weights: Any) -> float:
        return float(accuracy_score(truth.astype(str), predictions.astype(str),
                                    sample_weight=weights))


def task_view(estimator: Any, task: Any) -> TaskRegressorView | TaskClassifierView:
    """One task of a fitted multi-task model as a single-output scikit-learn estimator.

    scikit-learn's inspection and display tools take one output. The view gives them one
    task of the model: a regressor (:class:`TaskRegressorView`) for a regression task, a
    classifier (:class:`TaskClassifierView`) for a classification task, whose
    ``predict`` and ``predict_proba`` are that task's part of the model's, as arrays (the
    model's thresholds and temperatures included). It holds no weights: it reads the
    model, so it sees the model's later ``partial_fit`` or refit too.

    Parameters
    ----------
    estimator : fitted skmtl estimator, or a Pipeline ending in one
        A fitted ``MultiTaskNet``, ``MultiTaskClassifier``, ``MultiTaskRegressor``,
        ``MultiTaskEnsemble`` or ``TaskGrouping``.
    task : str or object
        The task's name (``model.tasks_[i].name_``, by default its ``y`` column), or its
        column.

    Returns
    -------
    TaskRegressorView or TaskClassifierView

    Raises
    ------
    ValueError
        The model has no such task, or the task is multi-label (several outputs; its
        probabilities are ``model.predict_proba_frame(X)[task]``).
    sklearn.exceptions.NotFittedError
        The model is not fitted.

    Examples
    --------
    >>> from sklearn.inspection import partial_dependence
    >>> from skmtl import MultiTaskNet, task_view
    >>> model = MultiTaskNet(max_epochs=5, random_state=0).fit(X, y)  # doctest: +SKIP
    >>> partial_dependence(task_view(model, "body_mass_g"), X,
    ...                    ["flipper_length_mm"])  # doctest: +SKIP
    """
    found, _ = _find_task(estimator, task)
    if found.kind == "regression":
        return TaskRegressorView(estimator, found.name_)
    if found.kind == "classification":
        return TaskClassifierView(estimator, found.name_)
    raise ValueError(
        f"task {found.name_!r} is {found.kind}: several outputs, which the single-output "
        "tools of scikit-learn do not take; its probabilities are "
        f"model.predict_proba_frame(X)[{found.name_!r}].")
