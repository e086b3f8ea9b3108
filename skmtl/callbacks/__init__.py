"""skorch callbacks for multi-task training."""

from ._finite_loss import FiniteLossGuard, NonFiniteLossError
from ._resume import ResumeCheckpoint
from ._task_loss import PerTaskLoss
from ._task_weights import TaskWeights

__all__ = ["FiniteLossGuard", "NonFiniteLossError", "PerTaskLoss", "ResumeCheckpoint", "TaskWeights"]
