"""Soft Dice loss for multi-label tasks."""

from __future__ import annotations

from numbers import Real

import torch
from sklearn.utils._param_validation import Interval

from ._base import TaskLoss, entry_weights


class DiceLoss(TaskLoss):
    """Soft Dice loss ``1 - (2 sum p y + s) / (sum p + sum y + s)`` per label, averaged.

    ``p`` are the sigmoid probabilities and ``y`` the 0/1 labels of the batch's
    labelled entries; each label's Dice is computed over the batch, which favours
    recall on rare labels (Milletari et al., 2016). For multi-label tasks.

    Parameters
    ----------
    smooth : float, default=1.0
        Additive smoothing ``s`` (keeps the loss defined for labels absent from a batch).
    """

    name = "dice"
    kinds = frozenset({"multilabel"})
    _parameter_constraints = {"smooth": [Interval(Real, 0, None, closed="left")]}

    def __init__(self, smooth=1.0):
        self.smooth = smooth

    def __call__(self, output, target, weight):
        if target.shape[1] != output.shape[1]:
            raise ValueError("DiceLoss is for multi-label tasks; use it in a MultiLabel spec.")
        mask = ~torch.isnan(target)
        scale = entry_weights(mask, weight).to(output.dtype)
        p = torch.sigmoid(output) * scale
        y = torch.nan_to_num(target) * scale
        dice = (2 * (p * torch.nan_to_num(target)).sum(0) + self.smooth) / (
            p.sum(0) + y.sum(0) + self.smooth)
        return 1 - dice.mean(), scale.sum()
