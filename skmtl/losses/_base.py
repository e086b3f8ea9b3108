"""Base class of per-task losses and the helpers they share."""

from __future__ import annotations

import weakref

import numpy as np
import torch
from sklearn.base import BaseEstimator


class TaskLoss(BaseEstimator):
    """Base class of a per-task training loss.

    A task loss maps the head output of one task, the task's encoded targets and the
    rows' weights to a scalar: the weighted mean loss over the *labelled* rows of the
    batch. Missing labels are encoded as NaN in ``target`` and always masked (the
    cost of the mask is negligible next to the forward pass); a row of weight 0 has
    no influence on the loss or its gradient.

    Losses are scikit-learn style parameter holders (``get_params``, ``clone``), so a
    task spec's loss can be tuned in a search. Subclasses implement :meth:`__call__`
    and, when they need statistics of the training targets (e.g. balanced class
    weights), :meth:`fit`; they are registered by name in :data:`skmtl.losses.LOSSES`.
    """

    #: Name under which the loss is registered.
    name: str = ""
    #: The task kinds (``Task.kind``) the loss applies to.
    kinds: frozenset[str] = frozenset()
    #: Regression losses: how the task maps its head's output to a prediction.
    #: ``"identity"``: the target is standardised and the output read on that scale;
    #: ``"log"``: the target is divided by its mean and the output is the log of the
    #: prediction on that scale (see :class:`skmtl.tasks.Regression`).
    link: str = "identity"
    #: Regression losses: the labels they accept, checked by the task with a message naming
    #: it: None (any number), ``"non-negative"`` or ``"positive"``.
    target_range: str | None = None

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
        self, output: torch.Tensor, target: torch.Tensor, weight: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Compute the loss of one task on one batch.

        Parameters
        ----------
        output : torch.Tensor of shape (n, k)
            The task head's raw output (logits for classification).
        target : torch.Tensor of shape (n, m)
            The task's encoded targets, NaN where the label is missing.
        weight : torch.Tensor of shape (n,)
            Non-negative weight of each row for this task (1 without sample weights).

        Returns
        -------
        loss : torch.Tensor
            Scalar weighted mean loss over the labelled entries (0 when none is
            labelled or all their weights are 0).
        total : torch.Tensor
            Total weight of the labelled entries the mean was taken over (their
            number without sample weights); 0 means the task is absent from the batch.
        """
        raise NotImplementedError

    def dense(self, output: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """The loss of a batch known to have every label and every row weight 1.

        The training step uses it for a task whose labels and weights in the whole data
        of the current fit call are complete and uniform (checked for each call, so a
        later batch with missing labels takes the masked path); it must equal
        ``self(output, target, ones)[0]``. The default does exactly that; losses with a
        plain torch equivalent override it (fewer operations per step).

        Parameters
        ----------
        output : torch.Tensor of shape (n, k)
        target : torch.Tensor of shape (n, m)

        Returns
        -------
        torch.Tensor
            Scalar mean loss.
        """
        return self(output, target, torch.ones(len(target), device=target.device))[0]



_COPIES: dict[int, tuple[weakref.ref, dict]] = {}


def cached_to(tensor: torch.Tensor | None, like: torch.Tensor) -> torch.Tensor | None:
    """``tensor`` on ``like``'s device and dtype (None stays None), copied once.

    A fitted loss keeps its class weights on the CPU (so that it pickles anywhere); the
    copy on the training device is made at the first batch and reused while
    ``tensor`` lives, since a copy from the host per batch waits for a CUDA device.
    ``tensor`` must not be modified in place afterwards.
    """
    if tensor is None or (tensor.device == like.device and tensor.dtype == like.dtype):
        return tensor
    key = id(tensor)
    entry = _COPIES.get(key)
    if entry is None or entry[0]() is not tensor:
        entry = _COPIES[key] = (weakref.ref(tensor, lambda _, key=key: _COPIES.pop(key, None)), {})
    copies = entry[1]
    target = (like.device, like.dtype)
    if target not in copies:
        copies[target] = tensor.to(device=like.device, dtype=like.dtype)
    return copies[target]


def in_target_range(values: np.ndarray, target_range: str | None) -> np.ndarray:
    """Mask of the ``values`` a loss of ``target_range`` (``TaskLoss.target_range``)
    accepts: all for None, ``>= 0`` for ``"non-negative"``, ``> 0`` for ``"positive"``."""
    if target_range == "positive":
        return values > 0
    if target_range == "non-negative":
        return values >= 0
    return np.ones(np.shape(values), dtype=bool)


def balanced_weights(counts: np.ndarray) -> np.ndarray:
    """scikit-learn's "balanced" weights ``n_samples / (n_classes * count)`` (all 1 when
    there is no label: a first ``partial_fit`` call that does not label the task)."""
    counts = np.asarray(counts, dtype=np.float64)
    if not counts.sum():
        return np.ones_like(counts)
    return counts.sum() / (len(counts) * np.maximum(counts, 1.0))


def entry_weights(mask: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    """Per-entry weights: the row's weight where the entry is labelled, else 0.

    Parameters
    ----------
    mask : torch.Tensor of bool of shape (n,) or (n, k)
        Where the label is present.
    weight : torch.Tensor of shape (n,)
        Row weights.

    Returns
    -------
    torch.Tensor
        Same shape as ``mask``.
    """
    weight = weight.to(dtype=torch.float32 if not weight.is_floating_point() else weight.dtype)
    if mask.ndim == 2:
        weight = weight[:, None]
    return torch.where(mask, weight, torch.zeros_like(weight))


def masked_mean(values: torch.Tensor, mask: torch.Tensor,
                weight: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Weighted mean of ``values`` over the entries where ``mask`` is true.

    Parameters
    ----------
    values : torch.Tensor of shape (n,) or (n, k)
        Per-entry losses; entries outside the mask may hold anything finite.
    mask : torch.Tensor of bool
        Same shape as ``values``.
    weight : torch.Tensor of shape (n,) or None, default=None
        Row weights (None: every row weighs 1).

    Returns
    -------
    mean : torch.Tensor
        The weighted masked mean, 0 when no entry has positive weight.
    total : torch.Tensor
        Total weight of the masked entries (their count when ``weight`` is None).
    """
    if weight is None:
        weight = torch.ones(values.shape[0], dtype=values.dtype, device=values.device)
    scale = entry_weights(mask, weight).to(values.dtype)
    total = scale.sum()
    values = torch.where(mask, values, torch.zeros_like(values))
    return (values * scale).sum() / total.clamp(min=1e-12), total
