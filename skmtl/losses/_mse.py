"""Mean squared error for regression tasks."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from ._base import TaskLoss, masked_mean


class MSELoss(TaskLoss):
    """Mean squared error on the (standardised) regression target."""

    name = "mse"
    kinds = frozenset({"regression"})

    def dense(self, output, target):
        return F.mse_loss(output, target)

    def __call__(self, output, target, weight):
        mask = ~torch.isnan(target)
        return masked_mean((output - torch.nan_to_num(target)) ** 2, mask, weight)
