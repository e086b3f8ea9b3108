"""Shared test configuration: one torch thread per pytest-xdist worker."""

import os

import pytest
import torch

if os.environ.get("PYTEST_XDIST_WORKER"):
    torch.set_num_threads(1)


def pytest_collection_modifyitems(config, items):
    for item in items:
        if "slow" in item.keywords:
            continue
