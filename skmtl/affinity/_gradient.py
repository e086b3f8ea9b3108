"""Gradient affinity of a training run: the cosine between the tasks' gradients."""

from __future__ import annotations

import time
import warnings
from numbers import Integral
from typing import Any

from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning

from ..callbacks._affinity import history_affinity
from ._result import AffinityResult


def gradient_affinity(estimator: Any, X: Any, y: Any, *, max_epochs: int | None = None,
                      interval: int | None = None, sample_weight: Any = None) -> AffinityResult:
    """Measure the tasks' gradient affinity by fitting a copy of ``estimator``.

    A clone of ``estimator`` is fitted on ``(X, y)`` with ``task_affinity=True``: every
    ``affinity_interval`` training steps, the cosine similarity between each pair of
    tasks' gradients (on the shared representation, or on the shared parameters for
    architectures without one; see :class:`skmtl.callbacks.GradientAffinity`) is
    measured on the step's batch. The result pools every measured step of the run.

    A positive affinity means that a step on task ``i``'s loss also lowers task
    ``j``'s, to first order (their gradients point the same way); a negative one, that
    the tasks pull the shared layers apart; near 0, that they use different parts of
    the representation. The matrix is symmetric.

    Parameters
    ----------
    estimator : MultiTaskNet, MultiTaskClassifier or MultiTaskRegressor
        The model whose tasks are compared (fitted or not: it is cloned, and left
        unchanged). Its architecture must share something trainable between the tasks.
    X : array-like, DataFrame or dict of arrays
        Inputs, as for the estimator's ``fit``.
    y : array-like or DataFrame
        Targets, one column per task (missing labels allowed).
    max_epochs : int or None, default=None
        Epochs of the measuring run; None keeps the estimator's ``max_epochs``. A short
        run (e.g. 10 epochs) usually suffices to rank the pairs (the run measures, so
        its ``ConvergenceWarning`` at ``max_epochs`` is not raised).
    interval : int or None, default=None
        Measure every ``interval`` training steps; None keeps the estimator's
        ``affinity_interval``.
    sample_weight : array-like of shape (n_samples,) or (n_samples, n_tasks), default=None
        Passed to the measuring fit (an entry of weight 0 is a missing label).

    Returns
    -------
    AffinityResult
        ``matrix`` (mean cosine over the measured steps, NaN for a pair never labelled
        together in a batch), ``standard_error`` (over the steps, which are treated as
        independent), ``n_measurements``, ``method="gradient"`` and ``seconds`` (the
        measuring fit's wall-clock time).

    See Also
    --------
    skmtl.callbacks.GradientAffinity : the callback that measures.

    Examples
    --------
    >>> from skmtl import MultiTaskRegressor
    >>> from skmtl.affinity import gradient_affinity, make_task_clusters
    >>> X, y, clusters = make_task_clusters(300, random_state=0)
    >>> result = gradient_affinity(MultiTaskRegressor(random_state=0), X, y,
    ...                            max_epochs=5, interval=2)
    >>> result.matrix.shape, result.method
    ((6, 6), 'gradient')
    """
    if not hasattr(estimator, "get_params") or "task_affinity" not in estimator.get_params():
        raise TypeError(
            f"gradient_affinity needs a skmtl estimator (MultiTaskNet, MultiTaskClassifier "
            f"or MultiTaskRegressor), got {type(estimator).__name__}."
        )
    for name, value in (("max_epochs", max_epochs), ("interval", interval)):
        if value is not None and (isinstance(value, bool) or not isinstance(value, Integral)
                                  or value < 1):
            raise ValueError(f"{name} of gradient_affinity must be None or an int >= 1; got "
                             f"{value!r}.")
    model = clone(estimator).set_params(task_affinity=True)
    if max_epochs is not None:
        model.set_params(max_epochs=max_epochs)
    if interval is not None:
        model.set_params(affinity_interval=interval)
    start = time.perf_counter()
    with warnings.catch_warnings():  # the run measures: a short one is meant to stop early
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X, y, sample_weight=sample_weight)
    seconds = time.perf_counter() - start
    matrix, error, counts = history_affinity(model.history_, [t.name_ for t in model.tasks_])
    return AffinityResult(matrix=matrix, standard_error=error, n_measurements=counts,
                          method="gradient", seconds=seconds)
