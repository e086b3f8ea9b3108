"""Shared test configuration."""

import torch

# The tests train tiny networks, for which one thread is fastest; and two torch processes
# with two threads each on two cores (pytest-xdist workers) run 3-4x slower each.
torch.set_num_threads(1)
