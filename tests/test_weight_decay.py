"""The default optimizer, AdamW, and ``weight_decay="auto"``: the decay each optimizer gets,
that it is decoupled, that the old behaviour is one parameter away, and its combinations."""

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV

from skmtl import MultiTaskClassifier, MultiTaskNet
from skmtl._build import AUTO_WEIGHT_DECAY, resolved_weight_decay

SMALL = dict(hidden_layer_sizes=(16,), max_epochs=3, batch_size=32, device="cpu",
             random_state=0)


def _data(n=160, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.normal(size=(n, 5))
    y = pd.DataFrame({"r": X[:, 0] + 0.1 * rng.normal(size=n),
                      "c": np.where(X[:, 1] > 0, "p", "n")})
    y.loc[::5, "c"] = None
    return X, y


def _network_decays(est):
    own = {id(p) for p in est.net_.balancer_.parameters()}
    return {g["weight_decay"] for g in est.net_.optimizer_.param_groups
            if not any(id(p) in own for p in g["params"])}


def test_defaults_are_adamw_with_the_auto_decay():
    est = MultiTaskNet()
    assert est.optimizer == "adamw" and est.weight_decay == "auto"
    X, y = _data()
    est = MultiTaskNet(**SMALL).fit(X, y)
    assert est.weight_decay_ == AUTO_WEIGHT_DECAY > 0
    assert isinstance(est.net_.optimizer_, torch.optim.AdamW)
    assert _network_decays(est) == {AUTO_WEIGHT_DECAY}


@pytest.mark.parametrize("optimizer, weight_decay, expected", [
    ("adamw", "auto", AUTO_WEIGHT_DECAY),
    (torch.optim.AdamW, "auto", AUTO_WEIGHT_DECAY),
    ("adam", "auto", 0.0),
    ("sgd", "auto", 0.0),
    (torch.optim.RMSprop, "auto", 0.0),
    ("adam", 0.01, 0.01),
    ("adamw", 0.0, 0.0),
    ("adamw", 2, 2.0),
])
def test_auto_resolves_per_optimizer(optimizer, weight_decay, expected):
    assert resolved_weight_decay(weight_decay, optimizer) == expected
    X, y = _data(64)
    est = MultiTaskNet(optimizer=optimizer, weight_decay=weight_decay, **SMALL).fit(X, y)
    assert est.weight_decay_ == expected and _network_decays(est) == {expected}


def test_adam_is_the_behaviour_before_exactly():
    X, y = _data()
    auto = MultiTaskNet(optimizer="adam", **SMALL).fit(X, y)
    explicit = MultiTaskNet(optimizer="adam", weight_decay=0.0, **SMALL).fit(X, y)
    for a, b in zip(auto.net_.module_.parameters(), explicit.net_.module_.parameters()):
        torch.testing.assert_close(a, b, rtol=0, atol=0)


def test_the_decay_is_decoupled_from_the_gradient():
    # one AdamW step from the same start: p1 = p0 * (1 - lr * wd) - lr * update(gradient),
    # so the change that the decay makes is linear in wd and independent of the gradient
    # (an L2 penalty in the gradient would go through Adam's normalisation instead)
    X, y = _data(32)
    kw = dict(SMALL, max_epochs=1, batch_size=32, ema_decay=None, early_stopping=False,
              lr=1e-2)
    fits = {wd: MultiTaskNet(weight_decay=wd, **kw).fit(X, y) for wd in (0.0, 2.0, 5.0)}
    params = {wd: list(f.net_.module_.parameters()) for wd, f in fits.items()}
    assert len(fits[0.0].history_[-1, "batches"]) == 1  # one step
    moved = 0
    for p0, p2, p5 in zip(params[0.0], params[2.0], params[5.0]):
        shift2, shift5 = (p2 - p0).detach(), (p5 - p0).detach()
        torch.testing.assert_close(shift5, 2.5 * shift2, rtol=1e-4, atol=1e-7)
        moved += int(shift5.abs().max() > 1e-4)
    # every parameter but the piecewise-linear embedding's linear map (initialised at 0,
    # so that its decay is 0 at the first step) moved
    assert moved == len(params[0.0]) - 1


def test_balancer_parameters_are_never_decayed_under_auto():
    X, y = _data()
    est = MultiTaskNet(weighting="uncertainty", **SMALL).fit(X, y)
    own = {id(p) for p in est.net_.balancer_.parameters()}
    groups = est.net_.optimizer_.param_groups
    assert any(any(id(p) in own for p in g["params"]) for g in groups)
    for g in groups:
        if any(id(p) in own for p in g["params"]):
            assert g["weight_decay"] == 0.0
        else:
            assert g["weight_decay"] == AUTO_WEIGHT_DECAY


def test_warm_start_and_partial_fit_follow_a_changed_decay():
    X, y = _data()
    est = MultiTaskNet(warm_start=True, **SMALL).fit(X, y)
    assert _network_decays(est) == {AUTO_WEIGHT_DECAY}
    est.set_params(weight_decay=0.05).fit(X, y)
    assert est.weight_decay_ == 0.05 and _network_decays(est) == {0.05}
    est.set_params(weight_decay="auto")
    est.partial_fit(X, y)
    assert est.weight_decay_ == AUTO_WEIGHT_DECAY and _network_decays(est) == {AUTO_WEIGHT_DECAY}


@pytest.mark.parametrize("bad", ["none", -0.1, None])
def test_invalid_weight_decay_is_refused(bad):
    X, y = _data(40)
    with pytest.raises(ValueError, match="weight_decay"):
        MultiTaskNet(weight_decay=bad, **SMALL).fit(X, y)


def test_clone_and_grid_search_over_the_decay():
    X, y = _data()
    est = MultiTaskClassifier(**SMALL)
    assert clone(est).get_params()["weight_decay"] == "auto"
    search = GridSearchCV(est, {"weight_decay": ["auto", 0.0]}, cv=2, error_score="raise")
    search.fit(X, y["c"].fillna("n"))
    assert np.isfinite(search.cv_results_["mean_test_score"]).all()
    assert search.best_estimator_.weight_decay_ in (AUTO_WEIGHT_DECAY, 0.0)


@pytest.mark.parametrize("optimizer, expected", [("adamw", AUTO_WEIGHT_DECAY), ("adam", 0.0)])
def test_autoencoder_pretraining_uses_the_same_decay(monkeypatch, optimizer, expected):
    import skmtl._pretrain as pretrain

    seen = []
    original = pretrain.NeuralNet

    class Recording(original):
        def initialize_optimizer(self, *args, **kwargs):
            out = super().initialize_optimizer(*args, **kwargs)
            seen.append({g["weight_decay"] for g in self.optimizer_.param_groups})
            return out

    monkeypatch.setattr(pretrain, "NeuralNet", Recording)
    X, y = _data()
    est = MultiTaskNet(optimizer=optimizer, pretrain="autoencoder", pretrain_epochs=1,
                       **SMALL).fit(X, y)
    assert seen == [{expected}] and est.weight_decay_ == expected


@pytest.mark.parametrize("architecture", ["shared_bottom", "mmoe", "tabm"])
@pytest.mark.parametrize("weighting", ["equal", "upgrad", "uncertainty"])
def test_frozen_weights_are_not_decayed(architecture, weighting):
    # AdamW decays only parameters that get a gradient: a frozen trunk keeps its weights
    # through fit, a warm start and partial_fit, with missing labels
    X, y = _data()
    est = MultiTaskNet(architecture=architecture, weighting=weighting, **SMALL).fit(X, y)
    before = {n: p.detach().clone() for n, p in est.net_.module_.named_parameters()}
    est.set_params(freeze="trunk", warm_start=True, weight_decay=1.0).fit(X, y)
    est.partial_fit(X, y)
    frozen = set(est.frozen_parameters_)
    assert frozen and len(frozen) < len(before)
    for name, p in est.net_.module_.named_parameters():
        if name in frozen:
            torch.testing.assert_close(p.detach(), before[name], rtol=0, atol=0)
        else:  # trained (and decayed)
            assert not torch.equal(p.detach(), before[name]) or p.abs().max() == 0
    assert _network_decays(est) == {1.0}
