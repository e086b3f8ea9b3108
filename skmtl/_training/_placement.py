"""Where the training data live: on the training device, or streamed from pinned host memory."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from scipy import sparse

#: Training data (inputs and encoded targets) larger than this share of the CUDA
#: device's free memory at the start of ``fit`` stay in pinned host memory and are
#: streamed to the device a chunk of batches at a time.
DEVICE_MEMORY_FRACTION = 0.5


def data_nbytes(*arrays: Any) -> int:
    """Bytes the dense arrays (or dicts of arrays) would take on the device.

    Sparse matrices count 0: they stay on the host and are densified a batch at a time.

    Parameters
    ----------
    *arrays : ndarray, dict of ndarray or sparse matrix

    Returns
    -------
    int
    """
    total = 0
    for array in arrays:
        values = array.values() if isinstance(array, dict) else [array]
        total += sum(int(np.asarray(v).nbytes) for v in values if not sparse.issparse(v))
    return total


def keep_on_host(nbytes: int, device: Any) -> bool:
    """Whether training data of ``nbytes`` bytes stay on the host for ``device``.

    True only on a CUDA device, when the data exceed :data:`DEVICE_MEMORY_FRACTION` of
    its free memory (``torch.cuda.mem_get_info``); the rest is left to the network, its
    activations and the optimizer. On any other device the data go to the device.

    Parameters
    ----------
    nbytes : int
    device : str or torch.device

    Returns
    -------
    bool
    """
    device = torch.device(device)
    if device.type != "cuda":
        return False
    free, _ = torch.cuda.mem_get_info(device)
    return nbytes > DEVICE_MEMORY_FRACTION * free


def to_pinned(array: np.ndarray) -> torch.Tensor:
    """``array`` copied (once) into pinned (page-locked) host memory.

    Copies from pinned memory to a CUDA device can run without the host waiting.

    Parameters
    ----------
    array : ndarray

    Returns
    -------
    torch.Tensor
    """
    array = np.asarray(array)
    dtype = torch.from_numpy(np.empty(0, dtype=array.dtype)).dtype
    out = torch.empty(array.shape, dtype=dtype, pin_memory=torch.cuda.is_available())
    out.numpy()[...] = array
    return out
