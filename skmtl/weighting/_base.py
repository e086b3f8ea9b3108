"""Base classes of task-balancing methods: a spec (hyperparameters) and a balancer (runtime)."""

from __future__ import annotations

from typing import Any

import torch
from sklearn.base import BaseEstimator
from torch import nn


class Balancer(nn.Module):
    """Turns the per-task losses of a training batch into parameter gradients.

    A balancer runs the backward part of every training step, so that loss-level
    weightings and gradient-level aggregations share one code path for everything
    else (masking in the criterion, History logging in callbacks). It lives inside the
    criterion: its own parameters (e.g. learned log-variances) are trained by the
    net's optimizer.

    Parameters
    ----------
    n_tasks : int
    """

    def __init__(self, n_tasks: int):
        super().__init__()
        self.n_tasks = n_tasks

    def train_step(self, module: nn.Module, criterion: nn.Module, X: Any, y: torch.Tensor,
                   active: int | None = None) -> dict:
        """Forward, per-task losses and backward for one training batch.

        Parameters
        ----------
        module : MultiTaskModule
            The network.
        criterion : MultiTaskCriterion
            Computes the masked per-task losses and holds the static task weights.
        X : torch.Tensor or dict of torch.Tensor
            The batch's inputs.
        y : torch.Tensor
            The batch's encoded targets.
        active : int or None, default=None
            With alternating training, the only task trained on this step.

        Returns
        -------
        dict
            ``loss`` (the scalar training objective), ``y_pred``, ``task_losses``
            (unweighted, detached), ``task_counts`` and ``task_weights`` (the effective
            multiplier of each task's unweighted loss, or of its gradient).
        """
        raise NotImplementedError

    def on_epoch_end(self, train_losses: torch.Tensor) -> None:
        """Receive the epoch's mean per-task training losses (for epoch-based methods).

        Parameters
        ----------
        train_losses : torch.Tensor of shape (n_tasks,)
        """


class LossBalancer(Balancer):
    """Base class of loss-level weightings: the objective is a function of the losses."""

    def combine(self, losses: torch.Tensor, counts: torch.Tensor | None) -> tuple[torch.Tensor, torch.Tensor]:
        """Combine the (statically weighted) per-task losses into the objective.

        Parameters
        ----------
        losses : torch.Tensor of shape (n_tasks,)
        counts : torch.Tensor of shape (n_tasks,) or None
            Labelled rows per task in the batch (None: all rows are labelled).

        Returns
        -------
        total : torch.Tensor
            The scalar objective.
        weights : torch.Tensor of shape (n_tasks,)
            d total / d losses, detached (what each task's loss is multiplied by).
        """
        raise NotImplementedError

    def train_step(self, module, criterion, X, y, active=None):
        y_pred = module(X)
        if active is not None:
            return _train_one_task(criterion, y_pred, y, active)
        losses, counts = criterion.task_losses(y_pred, y)
        total, weights = self.combine(losses * criterion.weights, counts)
        total.backward()
        return {"loss": total, "y_pred": y_pred, "task_losses": losses.detach(),
                "task_counts": counts, "task_weights": weights * criterion.weights}


def _train_one_task(criterion, y_pred, y, active: int) -> dict:
    """Alternating training: backpropagate the active task's loss only.

    Its graph reaches the active head and the shared layers only, so the other heads get
    no gradient at all (not a zero one, which momentum-based optimizers would still
    apply), and stay unchanged.
    """
    total = criterion.task_loss(y_pred, y, active) * criterion.weights[active]
    total.backward()
    with torch.no_grad():
        losses, counts = criterion.task_losses([out.detach() for out in y_pred], y)
    weights = torch.zeros_like(losses)
    weights[active] = criterion.weights[active]
    return {"loss": total.detach(), "y_pred": y_pred, "task_losses": losses,
            "task_counts": counts, "task_weights": weights}


class Weighting(BaseEstimator):
    """Base class of task-balancing specs.

    A spec only stores its hyperparameters, so ``get_params``/``set_params``, ``clone``
    and ``GridSearchCV`` see them as ``weighting__<name>``; :meth:`build` makes the
    balancer used during fit. Subclasses are registered by name in
    :data:`skmtl.weighting.WEIGHTINGS`.
    """

    #: Registry name.
    name: str = ""
    #: "loss" for loss-level weightings, "gradient" for gradient aggregations.
    level: str = "loss"

    def build(self, n_tasks: int, module: nn.Module | None = None) -> Balancer:
        """Make the balancer for a network with ``n_tasks`` tasks.

        Parameters
        ----------
        n_tasks : int
        module : MultiTaskModule, default=None
            The network, for methods whose behaviour depends on its structure.

        Returns
        -------
        Balancer
        """
        self._validate_params()
        return self._build(n_tasks, module)

    def _build(self, n_tasks: int, module: nn.Module | None) -> Balancer:
        raise NotImplementedError
