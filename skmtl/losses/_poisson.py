"""Poisson deviance for count (non-negative) regression tasks, with a log link."""

from __future__ import annotations

import copy

import numpy as np
import torch

from ._base import TaskLoss, masked_mean

#: Largest log-rate the loss evaluates (exp(30) ~ 1e13 times the mean target): keeps an
#: early step of a large learning rate from overflowing.
MAX_LOG_RATE = 30.0


def unit_deviance(y: torch.Tensor, log_mu: torch.Tensor) -> torch.Tensor:
    """``2 * (y * log(y / mu) - y + mu)`` per entry (``y * log(y)`` is 0 at ``y = 0``)."""
    y_log_y = torch.where(y > 0, y * torch.log(y.clamp(min=1e-30)), torch.zeros_like(y))
    return 2.0 * (y_log_y - y * log_mu - y + torch.exp(log_mu))


class PoissonLoss(TaskLoss):
    """Poisson deviance, for counts and other non-negative targets (a log link).

    The task's head outputs the log of the predicted mean: a prediction is
    ``exp(output) * scale_``, positive for every row, where ``scale_`` is the mean of the
    labelled training targets (the regression task divides its targets by it instead of
    standardising them). The loss of a row is the unit Poisson deviance
    ``2 * (y * log(y / mu) - y + mu)`` on that scale (``y * log(y)`` is 0 at ``y = 0``),
    divided by ``null_deviance_``, the mean deviance of the training targets from their
    mean: so the loss is 1 for the constant prediction of the mean and 0 for a perfect
    one, as squared error on a standardised target is, and never negative, as loss
    weighting methods expect. Its gradient is that of the Poisson negative
    log-likelihood, as in ``HistGradientBoostingRegressor(loss="poisson")``, scaled.

    Targets must be non-negative (not necessarily integers); a negative label is an
    error that names the task.

    Attributes
    ----------
    null_deviance_ : float
        Mean unit deviance of the labelled (encoded) training targets from their mean (1
        when it is 0: every target equal, or none labelled).
    """

    name = "poisson"
    kinds = frozenset({"regression"})
    #: How the regression task reads the head's output (see ``skmtl.tasks.Regression``).
    link = "log"

    def fit(self, target, n_outputs):
        fitted = copy.copy(self)
        values = np.asarray(target, dtype=np.float64)
        values = values[~np.isnan(values)]
        null = 0.0
        if len(values):
            mean = max(float(values.mean()), 1e-30)
            y = torch.as_tensor(values)
            null = float(unit_deviance(y, torch.full_like(y, np.log(mean))).mean())
        fitted.null_deviance_ = null if null > 0 and np.isfinite(null) else 1.0
        return fitted

    def __call__(self, output, target, weight):
        mask = ~torch.isnan(target)
        y = torch.nan_to_num(target).to(torch.float32)
        log_mu = output.to(torch.float32).clamp(max=MAX_LOG_RATE)
        deviance = unit_deviance(y, log_mu) / getattr(self, "null_deviance_", 1.0)
        return masked_mean(deviance, mask, weight)
