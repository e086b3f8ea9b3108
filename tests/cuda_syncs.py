"""Shared by the CUDA tests: the host-device synchronisations a call makes."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import torch


def sync_warnings(call: Callable[[], Any]) -> list[str]:
    """Run ``call`` with CUDA's sync debug mode on; the messages of the synchronisations
    it made (each one a warning of ``torch.cuda.set_sync_debug_mode("warn")``)."""
    torch.cuda.synchronize()
    torch.cuda.set_sync_debug_mode("warn")
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            call()
    finally:
        torch.cuda.set_sync_debug_mode("default")
    return [str(w.message) for w in caught if "synchroniz" in str(w.message)]
