"""Temperature scaling of classification outputs (Guo et al., ICML 2017)."""

from __future__ import annotations

import numpy as np
from scipy.optimize import minimize_scalar
from scipy.special import log_softmax


def _nll(logits: np.ndarray, target: np.ndarray, multilabel: bool) -> float:
    if multilabel:
        mask = ~np.isnan(target)
        y = np.nan_to_num(target)
        losses = np.logaddexp(0, logits) - y * logits  # BCE with logits
        return float(losses[mask].mean())
    mask = ~np.isnan(target[:, 0])
    codes = target[mask, 0].astype(int)
    return float(-log_softmax(logits[mask], axis=1)[np.arange(len(codes)), codes].mean())


def fit_temperature(logits: np.ndarray, target: np.ndarray, multilabel: bool) -> float:
    """The temperature ``T`` minimising the negative log-likelihood of ``logits / T``.

    Parameters
    ----------
    logits : ndarray of shape (n_samples, n_outputs)
        Held-out logits of one task.
    target : ndarray
        The task's encoded targets (class index, or 0/1 per label), NaN where missing.
    multilabel : bool
        Sigmoid per label instead of a softmax over classes.

    Returns
    -------
    float
        1.0 when no held-out row is labelled.
    """
    logits = np.asarray(logits, dtype=np.float64)
    if np.isnan(target).all():
        return 1.0
    result = minimize_scalar(
        lambda log_t: _nll(logits / np.exp(log_t), target, multilabel),
        bounds=(np.log(0.05), np.log(20.0)), method="bounded",
    )
    return float(np.exp(result.x))
