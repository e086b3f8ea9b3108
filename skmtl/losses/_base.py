"""Base class of per-task losses and the helpers they share."""

from __future__ import annotations

import torch


class TaskLoss:
    """Base class of a per-task training loss.

    A task loss maps the head output of one task and the task's encoded targets to
    a scalar: the mean loss over the *labelled* rows of the batch. Missing labels
    are encoded as NaN in ``target``; ``masked`` says whether the batch may hold
    any (when it is False the loss may skip masking, which keeps the hot loop
    short).

    Subclasses implement :meth:`__call__` and are registered by name in
    :data:`skmtl.losses.LOSSES`.
    """

    #: Name under which the loss is registered.
    name: str = ""

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

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"

    def __eq__(self, other: object) -> bool:
        return type(self) is type(other) and vars(self) == vars(other)

    def __hash__(self) -> int:
        return hash((type(self), tuple(sorted(vars(self).items()))))


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
