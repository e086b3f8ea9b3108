"""Binary cross-entropy on logits for multi-label tasks."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from ._base import TaskLoss, masked_mean


class BCELoss(TaskLoss):
    """Binary cross-entropy averaged over the labelled (row, label) entries."""

    name = "bce"

    def __call__(self, output, target, masked):
        if not masked:
            return F.binary_cross_entropy_with_logits(output, target), target.numel()
        mask = ~torch.isnan(target)
        losses = F.binary_cross_entropy_with_logits(
            output, torch.nan_to_num(target), reduction="none"
        )
        return masked_mean(losses, mask)
