"""Warn when a fit stops at ``max_epochs`` while its loss is still improving."""

from __future__ import annotations

import math
import warnings

import torch.distributed as dist
from sklearn.exceptions import ConvergenceWarning
from skorch.callbacks import Callback

from .._stack import caller_level


def still_improving(losses: list[float], window: int, tol: float) -> tuple[bool, float, float]:
    """Whether the best of the last ``window`` losses beats the best before by more than ``tol``.

    Parameters
    ----------
    losses : list of float
        One loss per epoch of the fit call, oldest first.
    window : int
        Epochs of the recent window (``n_iter_no_change``); at most half of the epochs.
    tol : float
        Absolute improvement that counts.

    Returns
    -------
    improving : bool
    before : float
        Best loss before the window (NaN with fewer than 2 epochs).
    recent : float
        Best loss in the window.
    """
    losses = [x for x in losses if math.isfinite(x)]
    window = min(window, len(losses) // 2)
    if window < 1:
        return False, math.nan, math.nan
    before, recent = min(losses[:-window]), min(losses[-window:])
    return before - recent > tol, before, recent


class ConvergenceMonitor(Callback):
    """Warn (:class:`~sklearn.exceptions.ConvergenceWarning`) once per fit when training
    ran all ``max_epochs`` epochs and the monitored loss still improved.

    The monitored loss is ``valid_loss`` when a validation split is held out, else
    ``train_loss``. Training is "still improving" when the best loss of the last
    ``n_iter_no_change`` epochs (at most half of the fit's epochs) is lower than the
    best loss of the fit's earlier epochs by more than ``tol``. Nothing is checked
    until :meth:`plan_fit` says how many epochs the fit call plans (``partial_fit``
    plans none: one epoch per call, as scikit-learn's MLP, which does not warn there).

    Parameters
    ----------
    estimator_name : str
        Named in the message.
    n_iter_no_change : int
    tol : float
    """

    def __init__(self, estimator_name: str, n_iter_no_change: int, tol: float):
        self.estimator_name = estimator_name
        self.n_iter_no_change = n_iter_no_change
        self.tol = tol

    def initialize(self):
        self.start_, self.planned_ = 0, None
        return self

    def plan_fit(self, start: int, planned: int | None) -> None:
        """This fit call's epochs start at history row ``start``; ``planned`` of them (None: do not check)."""
        self.start_, self.planned_ = start, planned

    def on_train_end(self, net, **kwargs):
        planned, start = getattr(self, "planned_", None), getattr(self, "start_", 0)
        rows = net.history[start:]
        if planned is None or len(net.history) - start < planned or not rows:
            return  # partial_fit, or stopped before max_epochs (early stopping)
        if dist.is_available() and dist.is_initialized() and dist.get_rank() != 0:
            return  # data-parallel: the histories agree, the main process warns
        monitor = "valid_loss" if "valid_loss" in rows[-1] else "train_loss"
        losses = [row[monitor] for row in rows if monitor in row]
        improving, before, recent = still_improving(losses, self.n_iter_no_change, self.tol)
        if improving:
            window = min(self.n_iter_no_change, len(losses) // 2)
            random_rows = (monitor == "valid_loss"
                           and getattr(net.train_split, "held_out", None) is None)
            grouped = (" If rows share an entity (a customer, a patient, a storm), random "
                       "validation rows belong to entities the network trains on, and their "
                       "loss can improve for as long as it memorises them: pass "
                       "fit(..., groups=...) to validate on whole groups." if random_rows
                       else "")
            memorising = (" A training loss also keeps falling while the network memorises "
                          "its rows, on a small table especially: judge more epochs on "
                          "held-out rows (early stopping, or cross-validation)."
                          if monitor == "train_loss" else "")
            warnings.warn(
                f"{self.estimator_name} stopped at max_epochs={planned} while the {monitor} "
                f"was still improving: its best of the last {window} epoch(s) is {recent:.4g}, "
                f"{before - recent:.3g} below the best before ({before:.4g}; tol={self.tol}). "
                "The network may be under-trained: raise max_epochs, or set "
                "early_stopping=True with a larger max_epochs to stop when the validation "
                f"loss stops improving.{memorising}{grouped}",
                ConvergenceWarning, stacklevel=caller_level(),
            )
