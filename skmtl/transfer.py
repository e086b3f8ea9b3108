"""Reusing a fitted network's shared part for new tasks (transfer learning)."""

from __future__ import annotations

import copy
from typing import Any

from sklearn.utils.validation import check_is_fitted
from torch import nn

__all__ = ["shared_trunk"]


def shared_trunk(estimator: Any) -> nn.Module:
    """A copy of a fitted estimator's shared trunk, to start a new model from.

    Pass it as ``trunk=`` to a new estimator (for tasks the source never saw), with
    ``freeze="trunk"`` to keep it fixed or without to fine-tune it::

        source = MultiTaskNet().fit(X, y_ab)
        target = MultiTaskNet(trunk=shared_trunk(source), freeze="trunk").fit(X_c, y_c)

    Parameters
    ----------
    estimator : fitted skmtl estimator
        With ``architecture="shared_bottom"`` (its trunk), or any architecture built on
        a user ``trunk`` (that encoder).

    Returns
    -------
    torch.nn.Module
        A deep copy on the CPU (the source is not modified); the new estimator copies
        it again at fit. It carries the source's fitted column encoding
        (``skmtl_preprocessor_``, the source's ``preprocessor_``), which the new
        estimator applies to X instead of fitting its own, so the trunk reads X encoded
        as it was trained.
    """
    check_is_fitted(estimator)
    module = estimator.net_.module_
    part = getattr(module, "trunk", None) or getattr(module, "encoder", None)
    if part is None:
        raise ValueError(
            f"{type(module).__name__} has no single shared trunk; fit the source with "
            "architecture='shared_bottom' or with a user trunk."
        )
    trunk = copy.deepcopy(part).cpu()
    trunk.skmtl_preprocessor_ = copy.deepcopy(getattr(estimator, "preprocessor_", None))
    return trunk
