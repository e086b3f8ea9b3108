"""Poisson deviance for count (non-negative) regression tasks, with a log link."""

from __future__ import annotations

import torch

from ._deviance import LogLinkDeviance


class PoissonLoss(LogLinkDeviance):
    """Poisson deviance, for counts and other non-negative targets (a log link).

    The unit deviance ``2 * (y * log(y / mu) - y + mu)`` (``y * log(y)`` is 0 at
    ``y = 0``), on the target divided by its training mean, and divided by the training
    targets' deviance from their mean (see :class:`LogLinkDeviance`): 1 for the constant
    prediction of the mean. Its gradient is that of the Poisson negative log-likelihood,
    as in ``HistGradientBoostingRegressor(loss="poisson")``, scaled.

    Targets must be non-negative (not necessarily integers); a negative label is an
    error that names the task.
    The fitted loss has ``null_deviance_`` (see :class:`LogLinkDeviance`).
    """

    name = "poisson"
    #: The labels the loss accepts (checked by the regression task).
    target_range = "non-negative"

    @staticmethod
    def unit_deviance(y, log_mu):
        y_log_y = torch.where(y > 0, y * torch.log(y.clamp(min=1e-30)), torch.zeros_like(y))
        return 2.0 * (y_log_y - y * log_mu - y + torch.exp(log_mu))
