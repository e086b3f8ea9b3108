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


def check_available(device: str, owner: str) -> None:
    """Refuse a CUDA or MPS device that this machine (or this torch build) does not have,
    before any training, with what to use instead.

    Parameters
    ----------
    device : str
        A resolved torch device string (``"cpu"``, ``"cuda:1"``, ...).
    owner : str
        The estimator's class name, for the message.

    Raises
    ------
    ValueError
        When ``device`` names a CUDA device that is not available (no CUDA in this torch
        build, no GPU visible, or an index past the last GPU) or MPS without MPS.
    """
    where = torch.device(device)
    if where.type == "cuda":
        if not torch.cuda.is_available():
            reason = ("this torch build has no CUDA (a CPU build)" if torch.version.cuda is None
                      else "no CUDA GPU is visible (CUDA_VISIBLE_DEVICES, drivers)")
            raise ValueError(
                f"{owner}(device={device!r}): {reason}. Use device='auto' (CUDA when "
                "available, else CPU) or device='cpu'.")
        count = torch.cuda.device_count()
        if where.index is not None and where.index >= count:
            raise ValueError(
                f"{owner}(device={device!r}): this machine has {count} CUDA device(s), "
                f"numbered 0 to {count - 1}.")
    mps = getattr(torch.backends, "mps", None)
    if where.type == "mps" and not (mps is not None and mps.is_available()):
        raise ValueError(f"{owner}(device={device!r}): MPS is not available on this machine. "
                         "Use device='auto' or device='cpu'.")
