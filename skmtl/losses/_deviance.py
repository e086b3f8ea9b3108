"""Base class of the deviance losses with a log link (Poisson, Gamma): the deviance of a
row divided by the training targets' deviance from their mean."""

from __future__ import annotations

import copy

import numpy as np
import torch

from ._base import TaskLoss, in_target_range, masked_mean

#: Largest (and, negated, least) log-rate a deviance loss evaluates (exp(30) ~ 1e13 times
#: the mean target): keeps an early step of a large learning rate from overflowing.
MAX_LOG_RATE = 30.0


class LogLinkDeviance(TaskLoss):
    """A regression loss of log link: a unit deviance scaled to 1 at the constant mean.

    The task's head outputs the log of the predicted mean: a prediction is
    ``exp(output) * scale_``, positive for every row, where ``scale_`` is the mean of the
    labelled training targets (the regression task divides its targets by it instead of
    standardising them). The loss of a row is the unit deviance :meth:`unit_deviance` on
    that scale, divided by ``null_deviance_``, the mean deviance of the training targets
    from their mean: so the loss is 1 for the constant prediction of the mean and 0 for a
    perfect one, as squared error on a standardised target is, and never negative, as loss
    weighting methods expect. Subclasses define :meth:`unit_deviance` and
    ``target_range``.

    Attributes
    ----------
    null_deviance_ : float
        Mean unit deviance of the labelled (encoded) training targets from their mean (1
        when it is 0: every target equal, or none labelled).
    """

    kinds = frozenset({"regression"})
    #: How the regression task reads the head's output (see ``skmtl.tasks.Regression``).
    link = "log"

    @staticmethod
    def unit_deviance(y: torch.Tensor, log_mu: torch.Tensor) -> torch.Tensor:
        """The deviance of each entry: targets ``y`` (in range), log-predictions ``log_mu``."""
        raise NotImplementedError

    def fit(self, target, n_outputs):
        fitted = copy.copy(self)
        values = np.asarray(target, dtype=np.float64)
        values = values[~np.isnan(values)]
        values = values[in_target_range(values, self.target_range)]
        null = 0.0
        if len(values):
            y = torch.as_tensor(values)
            log_mean = np.log(max(float(values.mean()), 1e-30))
            null = float(self.unit_deviance(y, torch.full_like(y, log_mean)).mean())
        fitted.null_deviance_ = null if null > 0 and np.isfinite(null) else 1.0
        return fitted

    def __call__(self, output, target, weight):
        mask = ~torch.isnan(target)
        y = torch.nan_to_num(target, nan=1.0).to(torch.float32)  # a placeholder in range
        log_mu = output.to(torch.float32).clamp(min=-MAX_LOG_RATE, max=MAX_LOG_RATE)
        deviance = self.unit_deviance(y, log_mu) / getattr(self, "null_deviance_", 1.0)
        return masked_mean(deviance, mask, weight)
