"""Stop training with a clear error when a task's loss stops being finite."""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from skorch.callbacks import Callback


class NonFiniteLossError(FloatingPointError, ValueError):
    """Raised when a task's training or validation loss is NaN or infinite."""


class FiniteLossGuard(Callback):
    """Raise :class:`NonFiniteLossError` at the first batch whose loss is not finite.

    The check reads the batch loss skorch has already recorded in the History (a
    Python float), so it adds no device work; only when that total is NaN or infinite
    does it look at the step's per-task losses to name the task(s) responsible. Since
    it stops at the first such batch, a non-finite task is caught before its gradients
    spread NaN through the shared layers into the other tasks. On a CUDA device the
    batch losses are read once per epoch (no device sync per step), so the batches
    are checked at the end of the epoch: the error names the same batch's tasks, but
    the rest of that epoch has been trained.

    Parameters
    ----------
    task_names : sequence of str
        Names of the tasks, in the order of the steps' ``task_losses``.
    """

    def __init__(self, task_names: Sequence[str]):
        self.task_names = task_names

    def initialize(self):
        self.deferred_: dict[str, list] = {}
        return self

    def on_epoch_begin(self, net, **kwargs):
        self.deferred_ = {}

    def on_batch_end(self, net, batch=None, training=False, task_losses=None, **kwargs):
        prefix = "train" if training else "valid"
        row = net.history[-1]["batches"][-1]
        if f"{prefix}_loss" not in row:
            # on CUDA the batch losses are read once, at the end of the epoch (see
            # MultiTaskNeuralNet.run_single_epoch): the batches are checked then
            self.deferred_.setdefault(prefix, []).append(task_losses)
            return
        self._check(net, prefix, row[f"{prefix}_loss"], task_losses)

    def on_epoch_end(self, net, **kwargs):
        for prefix, task_losses in self.deferred_.items():
            rows = [row for row in net.history[-1]["batches"] if f"{prefix}_batch_size" in row]
            for row, losses in zip(rows, task_losses):
                self._check(net, prefix, row[f"{prefix}_loss"], losses)
        self.deferred_ = {}

    def _check(self, net, prefix: str, total: float, task_losses) -> None:
        if math.isfinite(total):
            return
        names = self.task_names
        if task_losses is not None:
            finite = torch.isfinite(task_losses).tolist()
            names = [name for name, ok in zip(self.task_names, finite) if not ok] or names
        raise NonFiniteLossError(
            f"Training stopped at epoch {len(net.history)}: the {prefix} loss of task(s) "
            f"{', '.join(map(repr, names))} is not finite ({total}). Lower `lr`, check those "
            "tasks' targets for extreme values, or check their loss."
        )
