"""Freezing parts of a network for fine-tuning."""

from __future__ import annotations

from typing import Any

from tabm import LinearEnsemble
from torch import nn


def output_layers(module: nn.Module) -> list[nn.Linear]:
    """The last dense layer of each task (its output layer).

    Parameters
    ----------
    module : MultiTaskModule

    Returns
    -------
    list of torch.nn.Linear
        One per task, in task order.
    """
    layers = []
    for t in range(module.n_tasks):
        own = {id(p) for p in module.task_parameters(t)}
        candidates = [m for m in module.modules()
                      if isinstance(m, (nn.Linear, LinearEnsemble)) and id(m.weight) in own]
        if not candidates:
            raise ValueError(f"Task {t} of {type(module).__name__} has no output layer of its own.")
        layers.append(candidates[-1])
    return layers


def apply_freeze(module: nn.Module, freeze: Any) -> list[str]:
    """Stop gradient updates of part of ``module``; return the frozen parameter names.

    Parameters
    ----------
    module : MultiTaskModule
    freeze : None, "trunk", "all_but_heads" or list of str
        ``"trunk"``: every shared parameter. ``"all_but_heads"``: everything but each
        task's output layer (fine-tune only the last layer). A list: parameter names or
        name prefixes of ``module.named_parameters()`` (e.g. ``"trunk.0"``, ``"heads.1"``).

    Returns
    -------
    list of str
    """
    if freeze is None:
        return []
    named = dict(module.named_parameters())
    if freeze == "trunk":
        chosen = {id(p) for p in module.shared_parameters()}
    elif freeze == "all_but_heads":
        keep = {id(p) for layer in output_layers(module) for p in layer.parameters()}
        chosen = {id(p) for p in named.values()} - keep
    else:
        chosen = set()
        for prefix in freeze:
            matched = [p for name, p in named.items() if name == prefix or name.startswith(prefix + ".")]
            if not matched:
                top = sorted({name.split(".")[0] for name in named})
                raise ValueError(
                    f"freeze names {prefix!r}, which matches no parameter of the network; "
                    f"names start with {top} (see net_.module_.named_parameters())."
                )
            chosen |= {id(p) for p in matched}
    frozen = []
    for name, param in named.items():
        if id(param) in chosen:
            param.requires_grad_(False)
            frozen.append(name)
    return frozen
