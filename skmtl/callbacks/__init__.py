"""skorch callbacks for multi-task training."""

from ._finite_loss import FiniteLossGuard, NonFiniteLossError
from ._task_loss import PerTaskLoss

__all__ = ["FiniteLossGuard", "NonFiniteLossError", "PerTaskLoss"]
