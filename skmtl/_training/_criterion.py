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
        self.register_buffer("weights", torch.tensor(self.static_weights, dtype=torch.float32))

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
        losses, totals = [], []
        for t, (loss, output, part) in enumerate(zip(self.losses, y_pred, self.target_slices)):
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
