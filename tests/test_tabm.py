"""TabM: k parameter-efficient ensemble members, one loss per member, predictions averaged."""

from __future__ import annotations

import pickle

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV
from tabm import ElementwiseAffine, LinearBatchEnsemble

from skmtl import MultiTaskClassifier, MultiTaskNet, MultiTaskRegressor
from skmtl._training import MultiTaskCriterion
from skmtl.architectures import ARCHITECTURES, LayerSettings, TabM, TabMModule, combine_members
from skmtl.tasks import TaskSet


def _data(n=240, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 5)).astype(np.float32)
    y = pd.DataFrame({
        "r": X[:, 0] + 0.5 * X[:, 1] + 0.1 * rng.normal(size=n),
        "b": np.where(X[:, 1] + X[:, 2] > 0, "up", "down"),
        "c": (X[:, 3] > 0).astype(int) + (X[:, 4] > 0),
    })
    return X, y


def _fast(**kw):
    # the bare TabM network (with the input layer: tests/test_tabular.py)
    params = dict(architecture=TabM(k=4), hidden_layer_sizes=(32,), max_epochs=30, lr=1e-2,
                  device="cpu", random_state=0, numeric_embedding=None)
    params.update(kw)
    return params


def _n_params(module):
    return sum(p.numel() for p in module.parameters())


def _parts(k=3, arch_type="tabm", n=12):
    X, y = _data(n=n)
    taskset = TaskSet().fit(y)
    torch.manual_seed(0)
    module = TabM(k=k, arch_type=arch_type).build(
        5, [t.n_outputs_ for t in taskset.tasks_], LayerSettings(hidden_layer_sizes=(8, 6)))
    criterion = MultiTaskCriterion(taskset.tasks_, taskset.target_slices_)
    return module, criterion, taskset, X, y


def _encoded(taskset, y, weights=None):
    targets = taskset.encode(y)
    if weights is None:
        weights = np.ones((len(targets), len(taskset.tasks_)), dtype=np.float32)
    return torch.tensor(np.concatenate([targets, weights], axis=1), dtype=torch.float32)


# -- the module ---------------------------------------------------------------------------


def test_registered():
    assert ARCHITECTURES["tabm"] is TabM


@pytest.mark.parametrize("arch_type", ["tabm", "tabm-mini"])
def test_output_shapes_in_train_and_eval_mode(arch_type):
    module, _, taskset, X, _ = _parts(k=3, arch_type=arch_type)
    assert isinstance(module, TabMModule)
    X = torch.tensor(X)
    for training in (True, False):
        module.train(training)
        outputs = module(X)
        assert [tuple(o.shape) for o in outputs] == [(12, 3, 1), (12, 3, 2), (12, 3, 3)]
    kinds = [t.kind for t in taskset.tasks_]
    assert [tuple(combine_members(o, kind).shape) for o, kind in zip(outputs, kinds)] == [
        (12, 1), (12, 2), (12, 3)]
    # the representation path gives the same outputs as the plain forward
    module.eval()
    split = module.heads_forward(module.represent(X))
    for a, b in zip(split, module(X)):
        torch.testing.assert_close(a, b)


def test_combine_members_averages_probabilities_not_logits():
    z = torch.tensor([[[4.0, 0.0], [0.0, 1.0]]])  # one row, two members, two classes
    probs = torch.softmax(z, dim=2).mean(dim=1)
    torch.testing.assert_close(torch.softmax(combine_members(z, "classification"), dim=1), probs)
    torch.testing.assert_close(torch.sigmoid(combine_members(z, "multilabel")),
                               torch.sigmoid(z).mean(dim=1))
    torch.testing.assert_close(combine_members(z, "regression"), z.mean(dim=1))
    assert combine_members(z[:, 0], "classification") is not None
    torch.testing.assert_close(combine_members(z[:, 0], "classification"), z[:, 0])


@pytest.mark.parametrize(("arch_type", "heads"), [("tabm", ()), ("tabm", (4,)),
                                                  ("tabm-mini", ()), ("tabm-mini", (4,))])
def test_parameter_count_formula(arch_type, heads):
    d, h, k, outs = 5, (8, 6), 3, [1, 2, 3]

    def P(a, widths):
        total = 0
        for w in widths:
            total += (a + 1) * w
            a = w
        return total

    module = TabM(k=k, arch_type=arch_type, hidden_layer_sizes=h, head_layer_sizes=heads).build(
        d, outs, LayerSettings())
    widths = (d, *h)
    if arch_type == "tabm":
        trunk = sum(a * b + k * (a + 2 * b) for a, b in zip(widths[:-1], widths[1:]))
    else:
        trunk = k * d + P(d, h)
    expected = trunk + k * sum(P(h[-1], (*heads, o)) for o in outs)
    assert _n_params(module) == expected
    # a member of the ensemble has about the size of one plain shared-bottom network
    assert _n_params(module) < k * _n_params(
        ARCHITECTURES["shared_bottom"](hidden_layer_sizes=h, head_layer_sizes=heads).build(
            d, outs, LayerSettings()))


@pytest.mark.parametrize("arch_type", ["tabm", "tabm-mini"])
def test_each_member_adapter_gets_its_own_gradient(arch_type):
    module, criterion, taskset, X, y = _parts(k=4, arch_type=arch_type)
    losses, _ = criterion.task_losses(module(torch.tensor(X)), _encoded(taskset, y))
    torch.stack(losses).sum().backward()
    adapter = next(m for m in module.trunk.modules()
                   if isinstance(m, (LinearBatchEnsemble, ElementwiseAffine)))
    grad = (adapter.r if arch_type == "tabm" else adapter.weight).grad
    assert grad.shape[0] == 4
    assert (grad.abs().sum(dim=1) > 0).all()  # every member's adapter gets a gradient
    for i in range(4):
        for j in range(i + 1, 4):
            assert not torch.allclose(grad[i], grad[j])  # and each its own
    for head in module.heads:  # every member's head too
        out = head[-1].weight.grad
        assert (out.flatten(1).abs().sum(dim=1) > 0).all()


def test_task_loss_is_mean_of_member_losses():
    module, criterion, taskset, X, y = _parts(k=3)
    outputs = module(torch.tensor(X))
    yt = _encoded(taskset, y)
    losses, totals = criterion.task_losses(outputs, yt)
    r_target = yt[:, taskset.target_slices_[0]]
    b_target = yt[:, taskset.target_slices_[1]].long().squeeze(1)
    c_target = yt[:, taskset.target_slices_[2]].long().squeeze(1)
    f = torch.nn.functional
    by_hand = [
        np.mean([f.mse_loss(outputs[0][:, m], r_target).item() for m in range(3)]),
        np.mean([f.cross_entropy(outputs[1][:, m], b_target).item() for m in range(3)]),
        np.mean([f.cross_entropy(outputs[2][:, m], c_target).item() for m in range(3)]),
    ]
    np.testing.assert_allclose([v.item() for v in losses], by_hand, rtol=1e-5)
    # not the loss of the averaged prediction
    assert abs(losses[0].item() - f.mse_loss(outputs[0].mean(1), r_target).item()) > 1e-6
    np.testing.assert_allclose(totals.numpy(), [12, 12, 12])


def test_member_losses_ignore_masked_rows_and_apply_weights():
    module, criterion, taskset, X, y = _parts(k=3)
    y = y.astype({"r": float})
    y.loc[[0, 3, 5], "r"] = np.nan
    weights = np.ones((len(y), 3), dtype=np.float32)
    weights[1, 0] = 2.0
    yt = _encoded(taskset, y, weights)
    criterion.set_data(yt)
    outputs = module(torch.tensor(X))
    losses, totals = criterion.task_losses(outputs, yt)
    keep = ~torch.isnan(yt[:, 0])
    w = torch.tensor(weights[:, 0])[keep]
    member = [((outputs[0][keep, m, 0] - yt[keep, 0]) ** 2 * w).sum() / w.sum() for m in range(3)]
    assert losses[0].item() == pytest.approx(torch.stack(member).mean().item(), rel=1e-5)
    assert totals[0].item() == pytest.approx(w.sum().item())  # per row, not per member
    # changing a masked row's prediction changes nothing
    changed = [o.clone() for o in outputs]
    changed[0][0] += 100.0
    assert criterion.task_losses(changed, yt)[0][0].item() == pytest.approx(losses[0].item())


# -- through the estimators --------------------------------------------------------------


def test_fits_and_predicts_three_tasks():
    X, y = _data()
    est = MultiTaskNet(**_fast(max_epochs=40)).fit(X, y)
    scores = est.score_tasks(X, y)
    assert scores["r"] > 0.8 and scores["b"] > 0.8 and scores["c"] > 0.8, scores
    b, c = est.predict_proba(X)
    assert b.shape == (len(X), 2) and c.shape == (len(X), 3)
    np.testing.assert_allclose(c.sum(axis=1), 1.0, rtol=1e-6)
    # the probabilities are the mean of the members' probabilities
    module = est.net_.module_.eval()
    with torch.no_grad():
        encoded = torch.tensor(est.preprocessor_.transform(pd.DataFrame(X)))  # X as fit reads it
        members = module(encoded)[2].softmax(dim=2).mean(dim=1).numpy()
    np.testing.assert_allclose(c, members, rtol=1e-4, atol=1e-6)
    restored = pickle.loads(pickle.dumps(est))
    pd.testing.assert_frame_equal(restored.predict(X), est.predict(X))
    for a, b_ in zip(restored.predict_proba(X), est.predict_proba(X)):
        np.testing.assert_array_equal(a, b_)


def test_classifier_and_regressor():
    X, y = _data(n=200)
    reg = MultiTaskRegressor(**_fast()).fit(X, y[["r"]].assign(s=X[:, 2]))
    assert reg.score(X, y[["r"]].assign(s=X[:, 2])) > 0.8
    clf = MultiTaskClassifier(**_fast(architecture=TabM(k=4, arch_type="tabm-mini"))).fit(
        X, y[["b", "c"]])
    assert clf.score(X, y[["b", "c"]]) > 0.8


def test_missing_labels():
    X, y = _data()
    rng = np.random.default_rng(1)
    y = y.astype({"r": float, "c": "Int64"})
    y.loc[rng.choice(len(y), 80, replace=False), "r"] = np.nan
    y.loc[rng.choice(len(y), 80, replace=False), "c"] = pd.NA
    est = MultiTaskNet(**_fast(max_epochs=40)).fit(X, y)
    pred = est.predict(X)
    assert not pred.isna().any().any()
    scores = est.score_tasks(X, y)
    assert scores["r"] > 0.7 and scores["b"] > 0.8 and scores["c"] > 0.7, scores
    assert np.isfinite(np.asarray(est.history_[:, "train_loss_r"], dtype=float)).all()


@pytest.mark.parametrize("weighting", ["equal", "uncertainty", "mgda", "upgrad", "gradnorm"])
def test_weightings(weighting):
    X, y = _data(n=120)
    est = MultiTaskNet(**_fast(max_epochs=4, weighting=weighting)).fit(X, y)
    assert np.isfinite(np.asarray(est.history_[:, "train_loss"], dtype=float)).all()
    assert est.predict(X).shape == y.shape


def test_freeze_trunk_trains_only_the_heads():
    X, y = _data(n=120)
    est = MultiTaskNet(**_fast(max_epochs=3, freeze="trunk", weighting="upgrad"))
    est.fit(X, y)
    frozen = set(est.frozen_parameters_)
    assert frozen == {n for n, _ in est.net_.module_.named_parameters() if n.startswith("trunk.")}
    assert est.predict(X).shape == y.shape
    last = MultiTaskNet(**_fast(max_epochs=2, freeze="all_but_heads")).fit(X, y)
    trained = {n for n, p in last.net_.module_.named_parameters() if p.requires_grad}
    assert trained == {f"heads.{t}.0.{w}" for t in range(3) for w in ("weight", "bias")}


def test_partial_fit_warm_start_and_temperature_scaling():
    X, y = _data(n=160)
    est = MultiTaskNet(**_fast(max_epochs=2))
    est.partial_fit(X, y).partial_fit(X, y)
    assert len(est.history_) == 2
    warm = MultiTaskNet(**_fast(max_epochs=2, warm_start=True)).fit(X, y)
    first = dict((n, p.detach().clone()) for n, p in warm.net_.module_.named_parameters())
    warm.fit(X, y)
    assert len(warm.history_) == 4
    assert any(not torch.equal(first[n], p) for n, p in warm.net_.module_.named_parameters())
    calibrated = MultiTaskNet(**_fast(max_epochs=5, temperature_scaling=True)).fit(X, y)
    assert set(calibrated.temperatures_) == {"b", "c"}
    assert all(np.isfinite(t) and t > 0 for t in calibrated.temperatures_.values())
    b, c = calibrated.predict_proba(X)
    np.testing.assert_allclose(c.sum(axis=1), 1.0, rtol=1e-6)


def test_clone_and_grid_search_over_k():
    X, y = _data(n=120)
    est = MultiTaskNet(**_fast(max_epochs=3))
    twin = clone(est)
    assert twin.architecture is not est.architecture
    assert twin.get_params()["architecture__k"] == 4
    search = GridSearchCV(est, {"architecture__k": [2, 3]}, cv=2).fit(X, y)
    assert [p["architecture__k"] for p in search.cv_results_["params"]] == [2, 3]
    assert np.isfinite(search.cv_results_["mean_test_score"]).all()
    assert search.best_estimator_.net_.module_.k == search.best_params_["architecture__k"]


def test_invalid_hyperparameters_are_rejected():
    X, y = _data(n=40)
    with pytest.raises(ValueError, match="k"):
        MultiTaskNet(architecture=TabM(k=0), device="cpu").fit(X, y)
    with pytest.raises(ValueError, match="arch_type"):
        MultiTaskNet(architecture=TabM(arch_type="packed"), device="cpu").fit(X, y)
