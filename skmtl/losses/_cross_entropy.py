"""Softmax cross-entropy for binary and multiclass classification tasks."""

from __future__ import annotations

import copy
from numbers import Real

import numpy as np
import torch
import torch.nn.functional as F
from sklearn.utils._param_validation import Interval, StrOptions

from ._base import TaskLoss, balanced_weights, cached_to


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

    def __call__(self, output, target, masked):
        weight = cached_to(getattr(self, "weight_", None), output)
        target = target[:, 0]
        smoothing = float(self.label_smoothing)
        if not masked and weight is None:
            return F.cross_entropy(output, target.long(), label_smoothing=smoothing), target.numel()
        mask = ~torch.isnan(target)
        index = torch.where(mask, target, torch.zeros_like(target)).long()
        losses = F.cross_entropy(output, index, reduction="none", label_smoothing=smoothing)
        if weight is None:
            scale = mask.to(losses.dtype)
        else:  # weighted mean, as torch's cross_entropy(weight=...)
            scale = torch.where(mask, weight[index], torch.zeros_like(losses))
        count = mask.sum()
        return (losses * scale).sum() / scale.sum().clamp(min=1e-12), count


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
