"""Huber loss for regression tasks."""

from __future__ import annotations

from numbers import Real

import torch
import torch.nn.functional as F
from sklearn.utils._param_validation import Interval

from ._base import TaskLoss, masked_mean


class HuberLoss(TaskLoss):
    """Huber loss on the standardised target: quadratic within ``delta``, linear beyond.

    Parameters
    ----------
    delta : float, default=1.0
        Threshold, in standard deviations of the training target.
    """

    name = "huber"
    kinds = frozenset({"regression"})
    _parameter_constraints = {"delta": [Interval(Real, 0, None, closed="neither")]}

    def __init__(self, delta=1.0):
        self.delta = delta

    def dense(self, output, target):
        return F.huber_loss(output, target, delta=self.delta)

    def __call__(self, output, target, weight):
        mask = ~torch.isnan(target)
        losses = F.huber_loss(output, torch.nan_to_num(target), reduction="none", delta=self.delta)
        return masked_mean(losses, mask, weight)
