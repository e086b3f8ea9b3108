"""Mean absolute error for regression tasks."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from ._base import TaskLoss, masked_mean


class L1Loss(TaskLoss):
    """Mean absolute error on the standardised target (robust to outliers)."""

    name = "l1"
    kinds = frozenset({"regression"})

    def dense(self, output, target):
        return F.l1_loss(output, target)

    def __call__(self, output, target, weight):
        mask = ~torch.isnan(target)
        return masked_mean((output - torch.nan_to_num(target)).abs(), mask, weight)
