"""Lookahead task affinity (Fifty et al., NeurIPS 2021): how a step on one task changes
the loss of another."""

from __future__ import annotations

import time
import warnings
from numbers import Integral, Real
from typing import Any

import numpy as np
import torch
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning
from skorch.callbacks import Callback
from skorch.utils import to_tensor
from torch.func import functional_call

from ..callbacks._affinity import evaluating, pooled
from ._result import AffinityResult

__all__ = ["LookaheadAffinity", "lookahead_affinity"]


def _check_interval(interval: Any) -> int:
    if isinstance(interval, bool) or not isinstance(interval, Integral) or interval < 1:
        raise ValueError(f"interval must be an integer >= 1 (measure every that many "
                         f"training steps); got {interval!r}.")
    return int(interval)


def _check_lr(lr: Any) -> float | None:
    if lr is None:
        return None
    if isinstance(lr, bool) or not isinstance(lr, Real) or not np.isfinite(lr) or lr <= 0:
        raise ValueError(f"lr must be None (the optimizer's step) or a positive float "
                         f"(a plain gradient step of that size); got {lr!r}.")
    return float(lr)


def _shared(module: torch.nn.Module) -> dict[str, torch.nn.Parameter]:
    """The module's trainable shared parameters, by name (for ``functional_call``)."""
    shared = {id(p) for p in module.shared_parameters() if p.requires_grad}
    return {name: p for name, p in module.named_parameters() if id(p) in shared}


class LookaheadAffinity(Callback):
    """Measure lookahead task affinity during training (used by :func:`lookahead_affinity`).

    Every ``interval``-th training step, before the step and on its batch: for each task
    ``i``, the shared parameters take a lookahead step on task ``i``'s loss alone (the
    tasks' own parameters are unchanged), and for every task ``j`` the callback records
    ``Z[i, j] = 1 - L_j(after) / L_j(before)``, the relative decrease of task ``j``'s
    loss on the same batch. The forwards run in evaluation mode without touching the
    parameters, gradients, optimizer or random state, so training is unchanged.

    Parameters
    ----------
    interval : int, default=10
        Measure every that many training steps (the first at step 0).
    lr : float or None, default=None
        Size of the lookahead step ``theta_s - lr * grad L_i``. None: each parameter's
        current learning rate in the net's optimizer (so it follows a schedule).

    Attributes
    ----------
    sum_, sum_squares_, count_ : torch.Tensor of shape (n_tasks, n_tasks)
        Per pair: sum and sum of squares of the measured ``Z[i, j]``, and how many
        steps measured it (on the training device).
    steps_ : int
        Training steps seen.
    """

    def __init__(self, interval: int = 10, lr: float | None = None):
        self.interval = interval
        self.lr = lr

    def initialize(self):
        _check_interval(self.interval)
        _check_lr(self.lr)
        self.sum_ = self.sum_squares_ = self.count_ = None
        self.steps_ = 0
        return self

    def on_train_begin(self, net, X=None, y=None, **kwargs):
        module = net.module_
        if not _shared(module):
            raise ValueError(
                "Lookahead affinity needs trainable shared parameters: this network has "
                "none (architecture='separate', or every shared parameter is frozen), so "
                "a step on one task cannot change another task's loss. Use an "
                "architecture with shared layers, and leave some of them trainable "
                "(freeze).")
        n = module.n_tasks
        if self.sum_ is None or self.sum_.shape[0] != n:
            device = next(module.parameters()).device
            self.sum_ = torch.zeros((n, n), device=device)
            self.sum_squares_ = torch.zeros((n, n), device=device)
            self.count_ = torch.zeros((n, n), device=device)

    def on_batch_begin(self, net, batch=None, training=False, **kwargs):
        if not training:
            return
        step, self.steps_ = self.steps_, self.steps_ + 1
        if step % self.interval == 0:
            self._measure(net, *batch)

    def _measure(self, net, Xi: Any, yi: torch.Tensor) -> None:
        module, criterion = net.module_, net.criterion_
        X = to_tensor(Xi, device=net.device)
        y = to_tensor(yi, device=net.device)
        shared = _shared(module)
        names, params = list(shared), list(shared.values())
        with evaluating(module):
            with torch.enable_grad():
                losses, totals = criterion.task_losses(module(X), y, training=True)
            before = torch.stack(losses).detach().float()
            n = len(losses)
            sizes = self._step_sizes(net, params)
            rows = []
            for i in range(n):
                if losses[i].requires_grad:
                    grads = torch.autograd.grad(losses[i], params, retain_graph=True,
                                                allow_unused=True)
                else:  # a constant (e.g. a task with no labelled row): no step
                    grads = (None,) * len(params)
                moved = {name: p.detach() if g is None else p.detach() - size * g
                         for name, p, g, size in zip(names, params, grads, sizes)}
                with torch.no_grad():
                    after, _ = criterion.task_losses(functional_call(module, moved, (X,)),
                                                     y, training=True)
                rows.append(torch.stack(after).float())
        after = torch.stack(rows)  # after[i, j]: task j's loss after a step on task i
        present = (totals > 0) & (before > 0)
        mask = present[:, None] & present[None, :]
        z = torch.where(mask, 1 - after / before.clamp_min(torch.finfo(before.dtype).tiny),
                        torch.zeros_like(after))
        self.sum_ += z
        self.sum_squares_ += z * z
        self.count_ += mask

    def _step_sizes(self, net, params: list[torch.nn.Parameter]) -> list[float]:
        """The lookahead step size of each parameter: ``lr``, or the learning rate of its
        optimizer group now (following a schedule)."""
        if self.lr is not None:
            return [self.lr] * len(params)
        groups = {id(p): group for group in getattr(getattr(net, "optimizer_", None),
                                                      "param_groups", [])
                  for p in group["params"]}
        return [float(groups.get(id(p), {"lr": net.lr})["lr"]) for p in params]

    def result(self, task_names: list[str], seconds: float = float("nan")) -> AffinityResult:
        """The measured matrix, its standard error and counts.

        Parameters
        ----------
        task_names : list of str
        seconds : float, default=nan
            Wall-clock time of the run, stored in the result.

        Returns
        -------
        AffinityResult
        """
        if self.sum_ is None:
            raise ValueError("LookaheadAffinity has measured nothing yet: fit the net first.")
        mean, error, counts = pooled(*(t.double().cpu().numpy()
                                       for t in (self.sum_, self.sum_squares_, self.count_)),
                                     task_names)
        return AffinityResult(mean, error, counts, "lookahead", float(seconds))


def lookahead_affinity(estimator: Any, X: Any, y: Any, *, max_epochs: int | None = None,
                       interval: int | None = None, lr: float | None = None,
                       sample_weight: Any = None) -> AffinityResult:
    """Lookahead task affinity (Fifty et al., NeurIPS 2021) measured over a training run.

    A clone of ``estimator`` is fitted on ``X, y``. Every ``interval``-th training step,
    on that step's batch and before it is taken, the shared parameters ``theta_s`` take a
    lookahead step on task ``i``'s loss alone (each task's own parameters ``theta_j``
    unchanged), and for every task ``j``::

        Z[i, j] = 1 - L_j(theta_s', theta_j) / L_j(theta_s, theta_j)

    the relative decrease of task ``j``'s loss: positive when the step on ``i`` helps
    ``j``, negative when it hurts. The result is the mean of ``Z`` over the measured
    steps, with its standard error. Measuring does not change the training: the fitted
    clone has the same parameters as one fitted without it.

    Parameters
    ----------
    estimator : skmtl estimator
        Unfitted or fitted (it is cloned and not modified). Its network must have
        trainable shared parameters.
    X : array-like, DataFrame or dict of arrays
        Inputs, as for ``estimator.fit``.
    y : array-like or DataFrame
        Targets, as for ``estimator.fit`` (missing labels allowed).
    max_epochs : int or None, default=None
        Epochs of the run; None: the estimator's ``max_epochs`` (the run measures, so
        its ``ConvergenceWarning`` at ``max_epochs`` is not raised).
    interval : int or None, default=None
        Measure every that many training steps; None: 10.
    lr : float or None, default=None
        Size of the lookahead step, a plain gradient step ``theta_s - lr * grad L_i`` as
        in the paper. None: the optimizer's current learning rate (the estimator's
        ``lr``, following its ``lr_schedule``). With the default Adam at 1e-3 this moves
        the losses by a few tenths of a percent, far above float32 round-off and in the
        linear regime (ten times the step gives about ten times ``Z``; a step of 0.1
        overshoots). An Adam-like step (the gradient divided by the square root of
        Adam's second moment) was tried and rejected: it overshoots once the losses are
        small, turning within-cluster affinities negative late in training.
    sample_weight : array-like of shape (n_samples,) or (n_samples, n_tasks), default=None
        Passed to the measuring fit (an entry of weight 0 is a missing label).

    Returns
    -------
    AffinityResult
        ``matrix.loc[i, j]`` is ``Z[i, j]``, the affinity of task ``i`` onto task ``j``
        (not symmetric); NaN for a pair never labelled in the same batch.
        ``method="lookahead"``; ``seconds`` is the time of the whole fit.

    Raises
    ------
    ValueError
        When the network has nothing shared to step on (``architecture="separate"``, or
        all shared parameters frozen), or ``interval``/``lr`` is invalid.

    References
    ----------
    C. Fifty, E. Amid, Z. Zhao, T. Yu, R. Anil, C. Finn. "Efficiently Identifying Task
    Groupings for Multi-Task Learning". NeurIPS 2021.

    Examples
    --------
    >>> from skmtl import MultiTaskRegressor
    >>> from skmtl.affinity import lookahead_affinity, make_task_clusters
    >>> X, y, _ = make_task_clusters(300, tasks_per_cluster=2, random_state=0)
    >>> result = lookahead_affinity(MultiTaskRegressor(max_epochs=2, random_state=0), X, y)
    >>> result.matrix.shape, result.method
    ((4, 4), 'lookahead')
    """
    interval = _check_interval(10 if interval is None else interval)
    lr = _check_lr(lr)
    params: dict[str, Any] = {"callbacks": [*(estimator.get_params()["callbacks"] or []),
                                            LookaheadAffinity(interval=interval, lr=lr)]}
    if max_epochs is not None:
        if isinstance(max_epochs, bool) or not isinstance(max_epochs, Integral) or max_epochs < 1:
            raise ValueError(f"max_epochs must be None or an integer >= 1; got {max_epochs!r}.")
        params["max_epochs"] = int(max_epochs)
    model = clone(estimator).set_params(**params)
    start = time.perf_counter()
    with warnings.catch_warnings():  # the run measures: a short one is meant to stop early
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X, y, sample_weight=sample_weight)
    seconds = time.perf_counter() - start
    # the last one: the estimator's own callbacks may hold another
    callback = [cb for _, cb in model.net_.callbacks_ if isinstance(cb, LookaheadAffinity)][-1]
    return callback.result([task.name_ for task in model.tasks_], seconds)
