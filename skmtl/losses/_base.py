"""Base class of per-task losses and the helpers they share."""

from __future__ import annotations

import numpy as np
import torch
from sklearn.base import BaseEstimator


class TaskLoss(BaseEstimator):
    """Base class of a per-task training loss.

    A task loss maps the head output of one task and the task's encoded targets to
    a scalar: the mean loss over the *labelled* rows of the batch. Missing labels
    are encoded as NaN in ``target``; ``masked`` says whether the batch may hold
    any (when it is False the loss may skip masking, which keeps the hot loop
    short).

    Losses are scikit-learn style parameter holders (``get_params``, ``clone``), so a
    task spec's loss can be tuned in a search. Subclasses implement :meth:`__call__`
    and, when they need statistics of the training targets (e.g. balanced class
    weights), :meth:`fit`; they are registered by name in :data:`skmtl.losses.LOSSES`.
    """

    #: Name under which the loss is registered.
    name: str = ""
    #: The task kinds (``Task.kind``) the loss applies to.
    kinds: frozenset[str] = frozenset()

    _parameter_constraints: dict = {}

    def fit(self, target: np.ndarray, n_outputs: int) -> TaskLoss:
        """Learn what the loss needs from the task's encoded training targets.

        Parameters
        ----------
        target : ndarray of shape (n_samples, target_width)
            Encoded targets, NaN where missing.
        n_outputs : int
            Width of the task's head.

        Returns
        -------
        TaskLoss
            A fitted copy (the spec given by the user is not modified).
        """
        return self

    def __call__(
        self, output: torch.Tensor, target: torch.Tensor, masked: bool
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Compute the loss of one task on one batch.

        Parameters
        ----------
        output : torch.Tensor of shape (n, k)
            The task head's raw output (logits for classification).
        target : torch.Tensor of shape (n, m)
            The task's encoded targets, NaN where the label is missing.
        masked : bool
            Whether ``target`` may contain NaN.

        Returns
        -------
        loss : torch.Tensor
            Scalar mean loss over the labelled rows (0 when no row is labelled).
        count : torch.Tensor or int
            Number of labelled entries the mean was taken over.
        """
        raise NotImplementedError



def cached_to(tensor: torch.Tensor | None, like: torch.Tensor) -> torch.Tensor | None:
    """``tensor`` on ``like``'s device and dtype (None stays None)."""
    if tensor is None or (tensor.device == like.device and tensor.dtype == like.dtype):
        return tensor
    return tensor.to(device=like.device, dtype=like.dtype)


def balanced_weights(counts: np.ndarray) -> np.ndarray:
    """scikit-learn's "balanced" weights ``n_samples / (n_classes * count)``."""
    counts = np.asarray(counts, dtype=np.float64)
    return counts.sum() / (len(counts) * np.maximum(counts, 1.0))


def masked_mean(values: torch.Tensor, mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Mean of ``values`` over the entries where ``mask`` is true.

    Parameters
    ----------
    values : torch.Tensor
        Per-entry losses; entries outside the mask must be finite.
    mask : torch.Tensor of bool
        Same shape as ``values``.

    Returns
    -------
    mean : torch.Tensor
        The masked mean, 0 when the mask is empty.
    count : torch.Tensor
        Number of entries in the mask.
    """
    count = mask.sum()
    total = torch.where(mask, values, torch.zeros_like(values)).sum()
    return total / count.clamp(min=1), count
