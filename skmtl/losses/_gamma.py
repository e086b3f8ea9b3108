"""Gamma deviance for positive, right-skewed regression targets (prices, amounts, durations),
with a log link."""

from __future__ import annotations

import torch

from ._deviance import LogLinkDeviance


class GammaLoss(LogLinkDeviance):
    """Gamma deviance, for positive targets whose spread grows with their level (a log link).

    Prices, amounts and durations are positive and skewed, and their errors scale with
    them: the unit deviance ``2 * (log(mu / y) + y / mu - 1)`` weighs a prediction by its
    ratio to the target, as ``HistGradientBoostingRegressor(loss="gamma")`` does. It is
    computed on the target divided by its training mean and divided by the training
    targets' deviance from their mean (see :class:`LogLinkDeviance`): 1 for the constant
    prediction of the mean.

    Targets must be positive; a zero or negative label is an error that names the task
    (for counts, which may be 0, use :class:`PoissonLoss`).
    The fitted loss has ``null_deviance_`` (see :class:`LogLinkDeviance`).
    """

    name = "gamma"
    #: The labels the loss accepts (checked by the regression task).
    target_range = "positive"

    @staticmethod
    def unit_deviance(y, log_mu):
        return 2.0 * (log_mu - torch.log(y) + y * torch.exp(-log_mu) - 1.0)
