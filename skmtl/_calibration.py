"""Temperature scaling of classification outputs (Guo et al., ICML 2017)."""

from __future__ import annotations

import numpy as np
from scipy.optimize import minimize_scalar
from scipy.special import log_softmax


def _nll(logits: np.ndarray, target: np.ndarray, multilabel: bool, weight: np.ndarray) -> float:
    """Mean negative log-likelihood over the labelled entries, weighted per row."""
    if multilabel:
        mask = ~np.isnan(target)
        y = np.nan_to_num(target)
        losses = np.logaddexp(0, logits) - y * logits  # BCE with logits
        w = np.broadcast_to(weight[:, None], losses.shape)[mask]
        return float((losses[mask] * w).sum() / w.sum())
    mask = ~np.isnan(target[:, 0])
    codes = target[mask, 0].astype(int)
    losses = -log_softmax(logits[mask], axis=1)[np.arange(len(codes)), codes]
    return float((losses * weight[mask]).sum() / weight[mask].sum())


def fit_temperature(logits: np.ndarray, target: np.ndarray, multilabel: bool,
                    weight: np.ndarray | None = None) -> float:
    """The temperature ``T`` minimising the negative log-likelihood of ``logits / T``.

    Parameters
    ----------
    logits : ndarray of shape (n_samples, n_outputs)
        Held-out logits of one task.
    target : ndarray
        The task's encoded targets (class index, or 0/1 per label), NaN where missing.
    multilabel : bool
        Sigmoid per label instead of a softmax over classes.
    weight : ndarray of shape (n_samples,), default=None
        Sample weights of the rows; an entry of weight 0 is a missing label. None
        weighs every row 1.

    Returns
    -------
    float
        1.0 when no held-out row is labelled (with a positive weight).
    """
    logits = np.asarray(logits, dtype=np.float64)
    weight = np.ones(len(logits)) if weight is None else np.asarray(weight, dtype=np.float64)
    target = np.where(weight[:, None] > 0, target, np.nan)
    if np.isnan(target).all():
        return 1.0
    result = minimize_scalar(
        lambda log_t: _nll(logits / np.exp(log_t), target, multilabel, weight),
        bounds=(np.log(0.05), np.log(20.0)), method="bounded",
    )
    return float(np.exp(result.x))
