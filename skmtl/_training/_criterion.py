"""The multi-task criterion: per-task masked losses and their weighted sum."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from ..tasks import Task


class MultiTaskCriterion(nn.Module):
    """Compute each task's loss on its slice of the targets, and the weighted total.

    Parameters
    ----------
    tasks : sequence of Task
        Fitted tasks, in the module's output order.
    target_slices : sequence of slice
        Columns of the encoded target matrix that each task reads.
    balancer : Balancer or None, default=None
        How training steps combine the tasks (see :mod:`skmtl.weighting`); its
        parameters are trained with the network. None is equal weighting.
    """

    def __init__(self, tasks: Sequence[Task], target_slices: Sequence[slice], balancer=None):
        super().__init__()
        if balancer is None:
            from ..weighting import Equal

            balancer = Equal().build(len(tasks))
        self.balancer = balancer
        self.names = [task.name_ for task in tasks]
        self.losses = [task.loss_ for task in tasks]
        self.masked = [task.has_missing_ for task in tasks]
        self.target_slices = list(target_slices)
        self.register_buffer(
            "weights", torch.tensor([float(task.weight) for task in tasks], dtype=torch.float32)
        )

    def task_losses(
        self, y_pred: Sequence[torch.Tensor], y_true: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Each task's mean loss over its labelled rows in the batch.

        Parameters
        ----------
        y_pred : sequence of torch.Tensor
            One output per task.
        y_true : torch.Tensor
            Encoded targets of the batch.

        Returns
        -------
        losses : torch.Tensor of shape (n_tasks,)
        counts : torch.Tensor of shape (n_tasks,) or None
            Labelled rows per task; None when no task has missing labels (every
            count is the batch size).
        """
        losses, counts = self.task_loss_list(y_pred, y_true)
        return torch.stack(losses), counts

    def task_loss_list(
        self, y_pred: Sequence[torch.Tensor], y_true: torch.Tensor
    ) -> tuple[list[torch.Tensor], torch.Tensor | None]:
        """As :meth:`task_losses`, with the losses as separate scalars.

        Each scalar's graph reaches its own task's output only (a stacked tensor would
        send zero gradients through every task on a per-task backward).

        Parameters
        ----------
        y_pred : sequence of torch.Tensor
        y_true : torch.Tensor

        Returns
        -------
        losses : list of torch.Tensor
            One scalar per task.
        counts : torch.Tensor of shape (n_tasks,) or None
        """
        losses, counts = [], []
        for loss, output, part, masked in zip(self.losses, y_pred, self.target_slices, self.masked):
            value, count = loss(output, y_true[:, part], masked)
            losses.append(value)
            counts.append(count)
        if not any(self.masked):
            return losses, None
        n = len(y_true)
        counts = [torch.as_tensor(c, device=y_true.device).float() if m else
                  torch.tensor(float(n), device=y_true.device) for c, m in zip(counts, self.masked)]
        return losses, torch.stack(counts)

    def task_loss(self, y_pred: Sequence[torch.Tensor], y_true: torch.Tensor, task: int) -> torch.Tensor:
        """One task's mean loss over its labelled rows, with a graph through that task only.

        Parameters
        ----------
        y_pred : sequence of torch.Tensor
        y_true : torch.Tensor
        task : int

        Returns
        -------
        torch.Tensor
            Scalar loss (not multiplied by the task's weight).
        """
        part, masked = self.target_slices[task], self.masked[task]
        return self.losses[task](y_pred[task], y_true[:, part], masked)[0]

    def combine(self, losses: torch.Tensor) -> torch.Tensor:
        """Sum of per-task losses times the tasks' static weights.

        This is the validation loss (and early-stopping criterion) for every balancing
        method; the training objective is the balancer's.

        Parameters
        ----------
        losses : torch.Tensor of shape (n_tasks,)

        Returns
        -------
        torch.Tensor
            Scalar total loss.
        """
        return (losses * self.weights).sum()

    def forward(self, y_pred: Sequence[torch.Tensor], y_true: torch.Tensor) -> torch.Tensor:
        """Total weighted loss of a batch (skorch's criterion interface)."""
        return self.combine(self.task_losses(y_pred, y_true)[0])
