"""Shared test configuration: one torch thread per pytest-xdist worker."""

import os

import torch

if os.environ.get("PYTEST_XDIST_WORKER"):
    # Two torch processes with two threads each on two cores run 3-4x slower each.
    torch.set_num_threads(1)
