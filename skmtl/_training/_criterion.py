"""The multi-task criterion: per-task masked, weighted losses."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from ..tasks import Task


class MultiTaskCriterion(nn.Module):
    """Compute each task's loss on its slice of the targets.

    The encoded target matrix of a batch holds the tasks' targets (NaN where a label is
    missing) followed by one weight column per task (the sample weights, 1 by default).
    Every loss is a weighted mean over the task's labelled rows, always masked.

    Parameters
    ----------
    tasks : sequence of Task
        Fitted tasks, in the module's output order.
    target_slices : sequence of slice
        Columns of the encoded target matrix that each task reads.
    """

    def __init__(self, tasks: Sequence[Task], target_slices: Sequence[slice]):
        super().__init__()
        self.names = [task.name_ for task in tasks]
        self.losses = [task.loss_ for task in tasks]
        self.target_slices = list(target_slices)
        self.width = max(part.stop for part in self.target_slices)
        self.static_weights = [float(task.weight) for task in tasks]
        #: Per task, whether the data of the current fit call has every label and every
        #: weight 1 (then the loss skips masking); set by :meth:`set_data` for each call.
        self.dense = [False] * len(self.names)
        self.register_buffer("weights", torch.tensor(self.static_weights, dtype=torch.float32))

    def set_data(self, y: torch.Tensor) -> None:
        """Look at the encoded targets and weights of a fit call: which tasks are dense.

        Parameters
        ----------
        y : torch.Tensor of shape (n, width + n_tasks)
            All the rows this call trains and validates on.
        """
        targets, row_weights = y[:, :self.width], y[:, self.width:]
        self.dense = [
            bool(not torch.isnan(targets[:, part]).any() and (row_weights[:, t] == 1).all())
            for t, part in enumerate(self.target_slices)
        ]

    def task_losses(
        self, y_pred: Sequence[torch.Tensor], y_true: torch.Tensor
    ) -> tuple[list[torch.Tensor], torch.Tensor]:
        """Each task's weighted mean loss over its labelled rows in the batch.

        Each scalar's graph reaches its own task's output only.

        Parameters
        ----------
        y_pred : sequence of torch.Tensor
            One output per task.
        y_true : torch.Tensor of shape (n, width + n_tasks)
            Encoded targets of the batch, then the per-task row weights.

        Returns
        -------
        losses : list of torch.Tensor
            One scalar per task (not multiplied by the static task weights).
        totals : torch.Tensor of shape (n_tasks,)
            Total weight of each task's labelled rows (their count without sample
            weights); 0 when the task is absent from the batch.
        """
        targets, row_weights = y_true[:, :self.width], y_true[:, self.width:]
        n = len(y_true)
        if all(self.dense):
            losses = [loss.dense(output, targets[:, part])
                      for loss, output, part in zip(self.losses, y_pred, self.target_slices)]
            return losses, torch.full((len(losses),), float(n), device=y_true.device)
        losses, totals = [], []
        for t, (loss, output, part) in enumerate(zip(self.losses, y_pred, self.target_slices)):
            if self.dense[t]:
                value, total = loss.dense(output, targets[:, part]), n
            else:
                value, total = loss(output, targets[:, part], row_weights[:, t])
            losses.append(value)
            totals.append(torch.as_tensor(total, dtype=torch.float32, device=y_true.device))
        return losses, torch.stack(totals)

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
        return self.combine(torch.stack(self.task_losses(y_pred, y_true)[0]))
