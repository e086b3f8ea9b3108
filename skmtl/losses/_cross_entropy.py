"""Softmax cross-entropy for binary and multiclass classification tasks."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from ._base import TaskLoss


class CrossEntropyLoss(TaskLoss):
    """Softmax cross-entropy over the task's class logits.

    The target column holds the class index (as float, NaN when missing).
    """

    name = "cross_entropy"

    def __call__(self, output, target, masked):
        target = target[:, 0]
        if not masked:
            return F.cross_entropy(output, target.long()), target.numel()
        mask = ~torch.isnan(target)
        index = torch.where(mask, target, torch.zeros_like(target)).long()
        losses = F.cross_entropy(output, index, reduction="none")
        count = mask.sum()
        total = torch.where(mask, losses, torch.zeros_like(losses)).sum()
        return total / count.clamp(min=1), count
