"""Focal loss (Lin et al., ICCV 2017) for classification and multi-label tasks."""

from __future__ import annotations

import copy
from numbers import Real

import torch
import torch.nn.functional as F
from sklearn.utils._param_validation import Interval, StrOptions

from ._base import TaskLoss, cached_to, masked_mean
from ._bce import positive_weights
from ._cross_entropy import class_weighted_mean, class_weights


class FocalLoss(TaskLoss):
    """Focal loss ``-alpha_t (1 - p_t)^gamma log p_t`` (Lin et al., ICCV 2017).

    For a classification task ``p_t`` is the softmax probability of the true class;
    for a multi-label task it is each label's sigmoid probability of its true value
    (binary focal loss, averaged over labelled entries). ``gamma=0`` gives
    cross-entropy.

    Parameters
    ----------
    gamma : float, default=2.0
        Focusing strength: down-weights well-classified entries.
    alpha : float or None, default=None
        Multi-label only: weight of positive entries (``1 - alpha`` for negatives), as
        in the paper (0.25 there). None weighs both 1.
    class_weight : "balanced", dict or None, default=None
        Classification: per-class weights as in :class:`CrossEntropyLoss`.
        Multi-label: ``"balanced"`` weighs positive entries by negatives / positives
        per label ("weighted focal").
    """

    name = "focal"
    kinds = frozenset({"classification", "multilabel"})
    _parameter_constraints = {
        "gamma": [Interval(Real, 0, None, closed="left")],
        "alpha": [Interval(Real, 0, 1, closed="both"), None],
        "class_weight": [StrOptions({"balanced"}), dict, None],
    }

    def __init__(self, gamma=2.0, alpha=None, class_weight=None):
        self.gamma = gamma
        self.alpha = alpha
        self.class_weight = class_weight

    def fit(self, target, n_outputs):
        fitted = copy.copy(self)
        multilabel = target.shape[1] == n_outputs
        if multilabel:
            fitted.weight_ = positive_weights("balanced" if self.class_weight else None, target)
        else:
            fitted.weight_ = class_weights(self.class_weight, target[:, 0], n_outputs)
        return fitted

    def __call__(self, output, target, row_weight):
        weight = cached_to(getattr(self, "weight_", None), output)
        if target.shape[1] == output.shape[1]:  # multi-label: one sigmoid per label
            mask = ~torch.isnan(target)
            y = torch.nan_to_num(target)
            log_p = -F.binary_cross_entropy_with_logits(output, y, reduction="none")
            losses = -((1 - log_p.exp()) ** self.gamma) * log_p
            if self.alpha is not None:
                losses = losses * (self.alpha * y + (1 - self.alpha) * (1 - y))
            if weight is not None:
                losses = losses * (1 + (weight - 1) * y)
            return masked_mean(losses, mask, row_weight)
        target = target[:, 0]
        mask = ~torch.isnan(target)
        index = torch.where(mask, target, torch.zeros_like(target)).long()
        log_p = F.log_softmax(output, dim=1).gather(1, index[:, None])[:, 0]
        losses = -((1 - log_p.exp()) ** self.gamma) * log_p
        return class_weighted_mean(losses, mask, index, row_weight, weight)
