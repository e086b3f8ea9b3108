"""Binary cross-entropy on logits for multi-label tasks."""

from __future__ import annotations

import copy

import numpy as np
import torch
import torch.nn.functional as F
from sklearn.utils._param_validation import StrOptions

from ._base import TaskLoss, cached_to, masked_mean


def positive_weights(pos_weight, target: np.ndarray) -> torch.Tensor | None:
    """Per-label weights of positive entries: ``"balanced"`` gives ``n_neg / n_pos``.

    Parameters
    ----------
    pos_weight : "balanced", array-like or None
    target : ndarray of shape (n_samples, n_labels)
        0/1 targets, NaN where missing.

    Returns
    -------
    torch.Tensor of shape (n_labels,) or None
    """
    if pos_weight is None:
        return None
    if isinstance(pos_weight, str):
        positives = np.nansum(target, axis=0)
        labelled = np.sum(~np.isnan(target), axis=0)
        # 1 for a label without any (a first partial_fit call that does not label it)
        weights = np.where(labelled > 0, (labelled - positives) / np.maximum(positives, 1.0), 1.0)
    else:
        weights = np.broadcast_to(np.asarray(pos_weight, dtype=np.float64), (target.shape[1],))
    return torch.tensor(weights, dtype=torch.float32)


class BCELoss(TaskLoss):
    """Binary cross-entropy averaged over the labelled (row, label) entries.

    Parameters
    ----------
    pos_weight : "balanced", array-like or None, default=None
        Weight of positive entries per label (``"balanced"``: negatives / positives in
        the training labels), as torch's ``BCEWithLogitsLoss(pos_weight=...)``.
    """

    name = "bce"
    kinds = frozenset({"multilabel"})
    _parameter_constraints = {"pos_weight": [StrOptions({"balanced"}), "array-like", None]}

    def __init__(self, pos_weight=None):
        self.pos_weight = pos_weight

    def fit(self, target, n_outputs):
        fitted = copy.copy(self)
        fitted.pos_weight_ = positive_weights(self.pos_weight, target)
        return fitted

    def dense(self, output, target):
        pos_weight = cached_to(getattr(self, "pos_weight_", None), output)
        return F.binary_cross_entropy_with_logits(output, target, pos_weight=pos_weight)

    def __call__(self, output, target, weight):
        pos_weight = cached_to(getattr(self, "pos_weight_", None), output)
        mask = ~torch.isnan(target)
        losses = F.binary_cross_entropy_with_logits(
            output, torch.nan_to_num(target), reduction="none", pos_weight=pos_weight
        )
        return masked_mean(losses, mask, weight)
