"""skorch callbacks for multi-task training."""

from ._affinity import GradientAffinity
from ._convergence import ConvergenceMonitor
from ._finite_loss import FiniteLossGuard, NonFiniteLossError
from ._lr_schedule import LRSchedule
from ._resume import ResumeCheckpoint
from ._task_loss import PerTaskLoss
from ._task_weights import TaskWeights
from ._weight_averaging import WeightAveraging, ema_decay_at

__all__ = ["ConvergenceMonitor", "FiniteLossGuard", "GradientAffinity", "LRSchedule", "NonFiniteLossError", "PerTaskLoss", "ResumeCheckpoint", "TaskWeights", "WeightAveraging", "ema_decay_at"]
