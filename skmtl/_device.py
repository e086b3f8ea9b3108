"""Choice of the training device."""

from __future__ import annotations

import torch


def resolve_device(device: str) -> str:
    """Resolve ``"auto"`` to CUDA, then MPS, then CPU; return other names unchanged.

    Parameters
    ----------
    device : str
        ``"auto"`` or a torch device string such as ``"cpu"`` or ``"cuda:0"``.

    Returns
    -------
    str
    """
    if device != "auto":
        return device
    if torch.cuda.is_available():
        return "cuda"
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        return "mps"
    return "cpu"
