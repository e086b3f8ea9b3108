"""Weight averaging (``ema_decay``, skmtl.callbacks.WeightAveraging): the fitted network is
the exponential moving average of the training steps' weights (the best epoch's with early
stopping), training resumes from the raw weights after each validation, and it holds with
every architecture, aggregators, missing labels, freeze, partial_fit and warm starts."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.base import clone
from sklearn.utils._param_validation import InvalidParameterError
from skorch.callbacks import Callback

from skmtl import MultiTaskNet
from skmtl.architectures import ARCHITECTURES
from skmtl.callbacks import WeightAveraging, ema_decay_at

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

FAST = dict(hidden_layer_sizes=(16,), max_epochs=4, batch_size=32, random_state=0,
            device="cpu", early_stopping=False)


def _data(n: int = 200, missing: bool = True, seed: int = 0):
    rng = np.random.default_rng(seed)
    X = pd.DataFrame({"a": rng.normal(size=n), "b": rng.normal(size=n),
                      "c": rng.choice(["u", "v", "w"], n)})
    y = pd.DataFrame({"r": X["a"] * 2 + rng.normal(0, 0.1, n),
                      "k": np.where(X["b"] + (X["c"] == "u") > 0.3, "yes", "no")})
    if missing:
        y = y.astype({"k": object})
        y.loc[y.index[::3], "k"] = None
        y.loc[y.index[::4], "r"] = np.nan
    return X, y


class Trajectory(Callback):
    """The trainable weights after every training step, and which epoch the step was in;
    the weights at each epoch's first step's start and at its first validation batch."""

    def initialize(self):
        self.steps, self.epochs, self.starts, self.validated = [], [], [], []
        return self

    def on_epoch_begin(self, net, **kwargs):
        self.first_ = True

    def on_batch_begin(self, net, training=False, **kwargs):
        if training and self.first_:
            self.starts.append(_trainable(net.module_))
            self.first_ = False
        if not training and len(self.validated) < len(net.history):  # first validation batch
            self.validated.append(_trainable(net.module_))

    def on_batch_end(self, net, training=False, **kwargs):
        if training:
            self.steps.append(_trainable(net.module_))
            self.epochs.append(len(net.history) - 1)


def _trainable(module) -> list[torch.Tensor]:
    return [p.detach().clone() for p in module.parameters() if p.requires_grad]


def _ema(steps: list[list[torch.Tensor]], decay: float, upto: int | None = None):
    """The average after the first ``upto`` steps (all: None), as the docstring states it."""
    steps = steps[:upto]
    average = [p.clone() for p in steps[0]]
    for t, weights in enumerate(steps[1:]):
        w = 1 - ema_decay_at(decay, t)
        average = [a + w * (p - a) for a, p in zip(average, weights)]
    return average


def _assert_params(module, expected, **tol):
    got = [p.detach() for p in module.parameters() if p.requires_grad]
    assert len(got) == len(expected)
    for g, e in zip(got, expected):
        torch.testing.assert_close(g, e, **(tol or {"rtol": 1e-5, "atol": 1e-6}))


def test_ema_decay_at_warms_up_to_the_nominal_decay():
    assert ema_decay_at(0.999, 0) == pytest.approx(0.1)
    assert ema_decay_at(0.999, 10) == pytest.approx(11 / 20)
    assert ema_decay_at(0.999, 8989) < 0.999 == ema_decay_at(0.999, 8991)
    assert ema_decay_at(0.0, 5) == 0.0


def _recorded(model) -> Trajectory:
    return dict(model.net_.callbacks_)["t"]


@pytest.mark.parametrize("decay", [0.9, 0.999])
def test_fitted_network_is_the_average_of_the_training_steps(decay):
    X, y = _data()
    model = MultiTaskNet(ema_decay=decay, callbacks=[("t", Trajectory())], **FAST).fit(X, y)
    steps = _recorded(model).steps
    assert len(steps) == 4 * 7  # 4 epochs of ceil(200 / 32) steps, no validation split
    _assert_params(model.net_.module_, _ema(steps, decay))
    last = steps[-1]
    assert not all(torch.allclose(a, b) for a, b in zip(_trainable(model.net_.module_), last))


def test_no_averaging_keeps_the_last_steps_weights_and_decay_0_is_the_same_fit():
    X, y = _data()
    raw = MultiTaskNet(ema_decay=None, callbacks=[("t", Trajectory())], **FAST).fit(X, y)
    _assert_params(raw.net_.module_, _recorded(raw).steps[-1], rtol=0, atol=0)
    assert "weight_averaging" not in dict(raw.net_.callbacks_)
    zero = MultiTaskNet(ema_decay=0.0, validation_fraction=0.2,
                        **dict(FAST, early_stopping=True)).fit(X, y)
    none = MultiTaskNet(ema_decay=None, validation_fraction=0.2,
                        **dict(FAST, early_stopping=True)).fit(X, y)
    for key in ("train_loss", "valid_loss"):
        np.testing.assert_allclose(zero.history_[:, key], none.history_[:, key], rtol=1e-6)


def test_validation_sees_the_average_and_training_resumes_from_the_raw_weights():
    X, y = _data(400)
    decay = 0.95
    model = MultiTaskNet(ema_decay=decay, validation_fraction=0.25,
                         callbacks=[("t", Trajectory())], **FAST).fit(X, y)
    rec = _recorded(model)
    per_epoch = len(rec.steps) // 4
    for epoch in range(1, 4):  # each epoch starts where the previous one's steps ended
        for a, b in zip(rec.starts[epoch], rec.steps[epoch * per_epoch - 1]):
            torch.testing.assert_close(a, b, rtol=0, atol=0)
    # the last validation swapped the average in; it stays: the fitted network
    _assert_params(model.net_.module_, _ema(rec.steps, decay))
    # every epoch's validation ran on the average of the steps so far
    assert len(rec.validated) == 4
    for epoch, weights in enumerate(rec.validated):
        expected = _ema(rec.steps, decay, (epoch + 1) * per_epoch)
        for a, b in zip(weights, expected):
            torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6)


def test_early_stopping_keeps_the_best_epochs_average():
    X, y = _data(400)
    decay = 0.9
    model = MultiTaskNet(ema_decay=decay, callbacks=[("t", Trajectory())],
                         **dict(FAST, early_stopping=True, max_epochs=12,
                                n_iter_no_change=3)).fit(X, y)
    rec = _recorded(model)
    valid = model.history_[:, "valid_loss"]
    best = int(np.argmin(valid))
    upto = sum(1 for e in rec.epochs if e <= best)
    _assert_params(model.net_.module_, _ema(rec.steps, decay, upto))


@pytest.mark.parametrize("architecture", sorted(ARCHITECTURES))
@pytest.mark.parametrize("weighting", ["equal", "upgrad", "gradnorm"])
def test_every_architecture_and_weighting_with_missing_labels_freeze_partial_fit_warm_start(
        architecture, weighting):
    X, y = _data(160)
    decay = 0.9
    model = MultiTaskNet(architecture=architecture, weighting=weighting, ema_decay=decay,
                         callbacks=[("t", Trajectory())], **dict(FAST, max_epochs=2)).fit(X, y)
    _assert_params(model.net_.module_, _ema(_recorded(model).steps, decay))
    # partial_fit: a new average of its own steps, from the fitted (averaged) weights
    start = _trainable(model.net_.module_)
    model.partial_fit(X, y)
    steps = _recorded(model).steps
    assert len(steps) == 5  # one epoch of ceil(160 / 32)
    _assert_params(model.net_.module_, _ema(steps, decay))
    assert not all(torch.allclose(a, b) for a, b in zip(start, steps[0]))
    # a warm start with the shared parameters frozen: they stay, the rest is averaged
    frozen = {n: p.detach().clone() for n, p in model.net_.module_.named_parameters()}
    model.set_params(warm_start=True, freeze="trunk", max_epochs=2).fit(X, y)
    for name in model.frozen_parameters_:
        torch.testing.assert_close(dict(model.net_.module_.named_parameters())[name],
                                   frozen[name], rtol=0, atol=0)
    _assert_params(model.net_.module_, _ema(_recorded(model).steps, decay))
    pred = model.predict(X)
    assert pred.index.equals(X.index) and np.isfinite(pred["r"].to_numpy(float)).all()


@pytest.mark.parametrize("options", [{"schedule": "alternating"}, {"precision": "bf16"},
                                     {"lr_schedule": "cosine"}, {"task_affinity": True,
                                                                 "affinity_interval": 2},
                                     {"pretrain": "autoencoder", "pretrain_epochs": 2},
                                     {"temperature_scaling": True, "threshold": "accuracy"}])
def test_averaging_with_other_training_options(options):
    X, y = _data()
    decay = 0.9
    model = MultiTaskNet(ema_decay=decay, callbacks=[("t", Trajectory())],
                         **FAST, **options).fit(X, y)
    steps = _recorded(model).steps
    _assert_params(model.net_.module_, _ema(steps, decay))


def test_ema_decay_is_validated_cloned_and_not_fixed_for_warm_starts():
    X, y = _data()
    for bad in (1.0, -0.1, "ema"):
        with pytest.raises(InvalidParameterError, match="ema_decay"):
            MultiTaskNet(ema_decay=bad, **FAST).fit(X, y)
    model = MultiTaskNet(**FAST)
    assert model.ema_decay == 0.999 and clone(model).ema_decay == 0.999
    model.fit(X, y)
    model.set_params(warm_start=True, ema_decay=None, max_epochs=1).fit(X, y)  # allowed
    assert "weight_averaging" not in dict(model.net_.callbacks_)


def test_weight_averaging_callback_outside_the_estimator_is_a_plain_skorch_callback():
    callback = WeightAveraging(0.99).initialize()
    assert callback.average_ is None and callback.get_params() == {"decay": 0.99}
