"""The multi-task criterion: per-task masked, weighted losses."""

from __future__ import annotations

import copy
from collections.abc import Sequence

import torch
from torch import nn

from ..losses import CrossEntropyLoss
from ..tasks import Task


class SmoothedTargets:
    """A multi-label loss trained on smoothed 0/1 targets ``y * (1 - epsilon) + epsilon / 2``.

    Parameters
    ----------
    loss : TaskLoss
        The task's fitted loss (missing labels stay NaN, so still masked).
    epsilon : float
    """

    def __init__(self, loss, epsilon: float):
        self.loss = loss
        self.epsilon = float(epsilon)

    def _smooth(self, target: torch.Tensor) -> torch.Tensor:
        return target * (1.0 - self.epsilon) + self.epsilon / 2

    def __call__(self, output, target, weight):
        return self.loss(output, self._smooth(target), weight)

    def dense(self, output, target):
        return self.loss.dense(output, self._smooth(target))


def smoothed_loss(loss, kind: str, epsilon: float):
    """The training loss of a task of ``kind`` with label smoothing ``epsilon``.

    Classification with :class:`~skmtl.losses.CrossEntropyLoss` (binary and multiclass,
    softmax): a copy with torch's ``label_smoothing=epsilon`` (the true class gets
    ``1 - epsilon + epsilon / K``), unless the loss sets its own ``label_smoothing``.
    Multi-label (any loss): targets ``y * (1 - epsilon) + epsilon / 2``. Other tasks and
    losses (regression; focal or user losses for classification) are unchanged.
    """
    if epsilon <= 0:
        return loss
    if kind == "multilabel":
        return SmoothedTargets(loss, epsilon)
    if kind == "classification" and isinstance(loss, CrossEntropyLoss) and not loss.label_smoothing:
        loss = copy.copy(loss)
        loss.label_smoothing = float(epsilon)
    return loss


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
    label_smoothing : float, default=0.0
        Label smoothing of the classification tasks' *training* losses (see
        :func:`smoothed_loss`); validation losses are never smoothed.
    """

    def __init__(self, tasks: Sequence[Task], target_slices: Sequence[slice],
                 label_smoothing: float = 0.0):
        super().__init__()
        self.names = [task.name_ for task in tasks]
        self.losses = [task.loss_ for task in tasks]
        self.kinds = [task.kind for task in tasks]
        self.set_label_smoothing(label_smoothing)
        self.target_slices = list(target_slices)
        self.width = max(part.stop for part in self.target_slices)
        self.static_weights = [float(task.weight) for task in tasks]
        #: Per task, whether the data of the current fit call has every label and every
        #: weight 1 (then the loss skips masking); set by :meth:`set_data` for each call.
        self.dense = [False] * len(self.names)
        self.register_buffer("weights", torch.tensor(self.static_weights, dtype=torch.float32))

    def set_label_smoothing(self, epsilon: float) -> None:
        """Use label smoothing ``epsilon`` in the training losses from now on."""
        self.label_smoothing = float(epsilon)
        self.train_losses = [smoothed_loss(loss, kind, epsilon)
                             for loss, kind in zip(self.losses, self.kinds)]

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
        self, y_pred: Sequence[torch.Tensor], y_true: torch.Tensor, training: bool = False
    ) -> tuple[list[torch.Tensor], torch.Tensor]:
        """Each task's weighted mean loss over its labelled rows in the batch.

        Each scalar's graph reaches its own task's output only.

        Parameters
        ----------
        y_pred : sequence of torch.Tensor
            One output per task: ``(n, n_out)``, or ``(n, k, n_out)`` for an ensemble
            of k members (each member's loss on the labelled rows, averaged).
        y_true : torch.Tensor of shape (n, width + n_tasks)
            Encoded targets of the batch, then the per-task row weights.
        training : bool, default=False
            Use the training losses (with label smoothing, if any).

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
        task_losses = getattr(self, "train_losses", self.losses) if training else self.losses
        members = y_pred[0].shape[1] if y_pred[0].ndim == 3 else 1
        if y_pred[0].ndim == 3:
            # an ensemble's (n, k, n_out) outputs (TabM): each member's rows, with the
            # row's targets and weights, so a task's loss is the mean of its members'
            y_pred = [output.flatten(0, 1) for output in y_pred]
            targets = targets.repeat_interleave(members, dim=0)
            row_weights = row_weights.repeat_interleave(members, dim=0)
        if all(self.dense):
            losses = [loss.dense(output, targets[:, part])
                      for loss, output, part in zip(task_losses, y_pred, self.target_slices)]
            return losses, torch.full((len(losses),), float(n), device=y_true.device)
        losses, totals = [], []
        for t, (loss, output, part) in enumerate(zip(task_losses, y_pred, self.target_slices)):
            if self.dense[t]:
                # a fill on the device: ``torch.as_tensor(n, device=...)`` would copy a
                # host scalar, a device sync on CUDA
                value = loss.dense(output, targets[:, part])
                total = torch.full((), float(n), dtype=torch.float32, device=y_true.device)
            else:
                value, total = loss(output, targets[:, part], row_weights[:, t])
                total = torch.as_tensor(total / members if members > 1 else total,
                                        dtype=torch.float32, device=y_true.device)
            losses.append(value)
            totals.append(total)
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
