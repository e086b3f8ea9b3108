"""Shared by the combination and property tests: a callback that records training steps,
and which weighting methods can run here (their optional solvers installed)."""

from __future__ import annotations

from collections import Counter

import torch
from skorch.callbacks import Callback

from skmtl.weighting import WEIGHTINGS
from skmtl.weighting._torchjd import missing_solvers

#: Training batches begun, per recorder key (callbacks are cloned at fit, so the counts
#: live here rather than on the instance the test holds).
BATCHES: Counter = Counter()
#: Per recorder key, the module's parameters when training began (first call only).
INITIAL: dict = {}
#: Per recorder key, (task_weights, task_counts) of every training step.
STEPS: dict = {}

#: Weighting names whose optional solver packages are installed.
RUNNABLE_WEIGHTINGS = sorted(name for name in WEIGHTINGS if not missing_solvers(name))


class Recorder(Callback):
    """Count training batches, keep the initial weights and each step's task weights."""

    def __init__(self, key=None):
        self.key = key

    def on_train_begin(self, net, X=None, y=None, **kwargs):
        if self.key not in INITIAL:
            INITIAL[self.key] = {name: p.detach().clone()
                                 for name, p in net.module_.named_parameters()}

    def on_batch_begin(self, net, batch=None, training=False, **kwargs):
        if training:
            BATCHES[self.key] += 1

    def on_batch_end(self, net, batch=None, training=False, task_weights=None, task_counts=None,
                     **kwargs):
        if training:
            weights = None if task_weights is None else task_weights.detach().cpu().clone()
            counts = None if task_counts is None else torch.as_tensor(task_counts).cpu().clone()
            STEPS.setdefault(self.key, []).append((weights, counts))


def call_or_refuse(call, key: str, words) -> Exception | None:
    """Run ``call()``: None when it succeeds, the error when it refused before training.

    A ValueError/TypeError must come before any training step of this call (counted by
    the :class:`Recorder` of ``key``) and name one of ``words`` (an option or a column);
    any other exception propagates (a crash is a failure).
    """
    before = BATCHES[key]
    try:
        call()
    except (ValueError, TypeError) as exc:
        steps = BATCHES[key] - before
        assert steps == 0, f"raised after {steps} training step(s), not before: {exc!r}"
        assert any(str(word) in str(exc) for word in words), (
            f"the error names none of {list(words)}: {exc!r}")
        return exc
    return None
