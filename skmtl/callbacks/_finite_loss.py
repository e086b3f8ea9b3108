"""Stop training with a clear error when a task's loss stops being finite."""

from __future__ import annotations

import math
from collections.abc import Sequence

from skorch.callbacks import Callback


class NonFiniteLossError(FloatingPointError, ValueError):
    """Raised when a task's training or validation loss is NaN or infinite."""


class FiniteLossGuard(Callback):
    """Raise :class:`NonFiniteLossError` naming the task(s) whose epoch loss is not finite.

    Reads the per-task losses that :class:`PerTaskLoss` records, so it must come after
    it in the callback list.

    Parameters
    ----------
    task_names : sequence of str
    """

    def __init__(self, task_names: Sequence[str]):
        self.task_names = task_names

    def on_epoch_end(self, net, **kwargs):
        row = net.history[-1]
        bad = [
            f"{name} ({prefix} loss {row[key]})"
            for prefix in ("train", "valid")
            for name in self.task_names
            if (key := f"{prefix}_loss_{name}") in row and not math.isfinite(row[key])
        ]
        if bad:
            raise NonFiniteLossError(
                f"Training stopped at epoch {row['epoch']}: the loss of task(s) "
                f"{', '.join(bad)} is not finite. Lower `lr`, check that task's targets for "
                "extreme values, or check its loss."
            )
