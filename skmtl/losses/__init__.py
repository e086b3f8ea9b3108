"""Per-task training losses, each in its own module, registered by name."""

from ._base import TaskLoss, masked_mean
from ._bce import BCELoss
from ._cross_entropy import CrossEntropyLoss
from ._deviance import LogLinkDeviance
from ._dice import DiceLoss
from ._focal import FocalLoss
from ._gamma import GammaLoss
from ._huber import HuberLoss
from ._l1 import L1Loss
from ._mse import MSELoss
from ._poisson import PoissonLoss

#: Registry of loss names to classes. Adding a loss is one module plus one line here.
LOSSES: dict[str, type[TaskLoss]] = {
    cls.name: cls
    for cls in (MSELoss, HuberLoss, L1Loss, PoissonLoss, GammaLoss, CrossEntropyLoss, BCELoss,
                FocalLoss, DiceLoss)
}


def get_loss(loss: str | TaskLoss, task_name: str = "") -> TaskLoss:
    """Resolve a loss given by name or as a :class:`TaskLoss` instance.

    Parameters
    ----------
    loss : str or TaskLoss
        A registered name (see :data:`LOSSES`) or an instance.
    task_name : str, default=""
        Name of the task, used in error messages.

    Returns
    -------
    TaskLoss
    """
    if isinstance(loss, TaskLoss):
        loss._validate_params()
        return loss
    if isinstance(loss, str) and loss in LOSSES:
        return LOSSES[loss]()
    raise ValueError(
        f"Unknown loss {loss!r} for task {task_name!r}; use one of {sorted(LOSSES)} "
        "or a skmtl.losses.TaskLoss instance."
    )


__all__ = [
    "LOSSES", "BCELoss", "CrossEntropyLoss", "DiceLoss", "FocalLoss", "GammaLoss", "HuberLoss",
    "L1Loss", "LogLinkDeviance", "MSELoss", "PoissonLoss", "TaskLoss", "get_loss", "masked_mean",
]
