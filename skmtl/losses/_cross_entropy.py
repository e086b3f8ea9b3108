"""Softmax cross-entropy for binary and multiclass classification tasks."""

from __future__ import annotations

import copy
from numbers import Real

import numpy as np
import torch
import torch.nn.functional as F
from sklearn.utils._param_validation import Interval, StrOptions

from ._base import TaskLoss, balanced_weights, cached_to, entry_weights


class CrossEntropyLoss(TaskLoss):
    """Softmax cross-entropy over the task's class logits.

    The target column holds the class index (as float, NaN when missing).

    Parameters
    ----------
    class_weight : "balanced", dict or None, default=None
        Per-class weights: ``"balanced"`` as in scikit-learn (``n / (n_classes *
        count)``, from the labelled training rows), or a dict mapping class *index*
        (position in the task's ``classes_``) to weight.
    label_smoothing : float, default=0.0
        Share of the target probability spread uniformly over the classes.
    """

    name = "cross_entropy"
    kinds = frozenset({"classification"})
    _parameter_constraints = {
        "class_weight": [StrOptions({"balanced"}), dict, None],
        "label_smoothing": [Interval(Real, 0, 1, closed="left")],
    }

    def __init__(self, class_weight=None, label_smoothing=0.0):
        self.class_weight = class_weight
        self.label_smoothing = label_smoothing

    def fit(self, target, n_outputs):
        fitted = copy.copy(self)
        fitted.weight_ = class_weights(self.class_weight, target[:, 0], n_outputs)
        return fitted

    def dense(self, output, target):
        if getattr(self, "weight_", None) is not None:  # torch smooths weighted labels otherwise
            return super().dense(output, target)
        return F.cross_entropy(output, target[:, 0].long(),
                               label_smoothing=float(self.label_smoothing))

    def __call__(self, output, target, weight):
        class_weight = cached_to(getattr(self, "weight_", None), output)
        target = target[:, 0]
        mask = ~torch.isnan(target)
        index = torch.where(mask, target, torch.zeros_like(target)).long()
        losses = F.cross_entropy(output, index, reduction="none",
                                 label_smoothing=float(self.label_smoothing))
        return class_weighted_mean(losses, mask, index, weight, class_weight)


def class_weighted_mean(losses: torch.Tensor, mask: torch.Tensor, index: torch.Tensor,
                        weight: torch.Tensor, class_weight: torch.Tensor | None
                        ) -> tuple[torch.Tensor, torch.Tensor]:
    """Mean of per-row losses weighted by row and class weights, as torch's ``weight=``.

    The denominator is the sum of the labelled rows' row x class weights (torch's
    ``cross_entropy(weight=...)`` convention); the returned total is the sum of their
    row weights, so a task whose labelled rows all weigh 0 counts as absent.

    Parameters
    ----------
    losses : torch.Tensor of shape (n,)
    mask : torch.Tensor of bool of shape (n,)
    index : torch.Tensor of int64 of shape (n,)
        Class index of each row (any value where unlabelled).
    weight : torch.Tensor of shape (n,)
        Row weights.
    class_weight : torch.Tensor of shape (n_classes,) or None

    Returns
    -------
    mean : torch.Tensor
    total : torch.Tensor
    """
    rows = entry_weights(mask, weight).to(losses.dtype)
    scale = rows if class_weight is None else rows * class_weight[index]
    return (losses * scale).sum() / scale.sum().clamp(min=1e-12), rows.sum()


def class_weights(class_weight, codes: np.ndarray, n_classes: int) -> torch.Tensor | None:
    """Per-class weights for ``class_weight`` from encoded class indices (NaN = missing).

    Parameters
    ----------
    class_weight : "balanced", dict or None
    codes : ndarray of shape (n_samples,)
    n_classes : int

    Returns
    -------
    torch.Tensor of shape (n_classes,) or None
    """
    if class_weight is None:
        return None
    if class_weight == "balanced":
        labelled = codes[~np.isnan(codes)].astype(int)
        weights = balanced_weights(np.bincount(labelled, minlength=n_classes))
    else:
        weights = np.ones(n_classes)
        for index, value in class_weight.items():
            if not 0 <= int(index) < n_classes:
                raise ValueError(
                    f"class_weight has class index {index!r}; indices must be in "
                    f"[0, {n_classes}) (positions in the task's classes_)."
                )
            weights[int(index)] = float(value)
    return torch.tensor(weights, dtype=torch.float32)
