"""Task balancing: loss-weighting formulas, torchjd aggregation, schedules, observability."""

import math
import pickle

import numpy as np
import pandas as pd
import pytest
import torch
import torchjd.aggregation as tja
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV
from sklearn.utils._param_validation import InvalidParameterError
from skorch.callbacks import Callback

from skmtl import MultiTaskClassifier, MultiTaskNet, MultiTaskRegressor
from skmtl._training import MultiTaskCriterion, gradient_kind, train_step
from skmtl.architectures import LayerSettings, MMoE, SharedBottom
from skmtl.tasks import TaskSet
from skmtl.weighting import (
    DWA,
    GLS,
    MGDA,
    RLW,
    WEIGHTINGS,
    CAGrad,
    DualProj,
    GradNorm,
    PCGrad,
    Uncertainty,
    UPGrad,
    gradnorm_targets,
)
from skmtl.weighting._torchjd import SOLVER_EXTRAS, missing_solvers

# CAGrad needs cvxpy, from the `cagrad` extra (in `tests`): without it these tests skip.
needs_cagrad = pytest.mark.skipif(
    bool(missing_solvers("cagrad")), reason='CAGrad needs cvxpy: pip install "skmtl[cagrad]"')

FAST = dict(hidden_layer_sizes=(16,), max_epochs=5, batch_size=32, lr=1e-2, device="cpu",
            random_state=0)


ALL3 = torch.ones(3, dtype=torch.bool)
ALL4 = torch.ones(4, dtype=torch.bool)


def mixed_data(n=160, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.normal(size=(n, 5))
    y = pd.DataFrame({
        "r": X[:, 0] + 0.1 * rng.normal(size=n),
        "c": np.where(X[:, 1] > 0, "p", "n"),
        "k": (X[:, 2] > 0).astype(int) + (X[:, 3] > 0),
    })
    return X, y


# -- loss-level formulas against hand computations ----------------------------------------


def test_dwa_weights_follow_the_ratio_of_the_last_two_epoch_losses():
    balancer = DWA(temperature=2.0).build(3)
    losses = torch.tensor([1.0, 2.0, 3.0])
    np.testing.assert_allclose(balancer.combine(losses, ALL3)[1], [1, 1, 1])  # epoch 1
    balancer.on_epoch_end(torch.tensor([1.0, 1.0, 1.0]))
    np.testing.assert_allclose(balancer.combine(losses, ALL3)[1], [1, 1, 1])  # epoch 2
    balancer.on_epoch_end(torch.tensor([0.5, 0.9, 1.2]))  # ratios 0.5, 0.9, 1.2
    exp = [math.exp(r / 2) for r in (0.5, 0.9, 1.2)]
    expected = [3 * e / sum(exp) for e in exp]
    total, weights = balancer.combine(losses, ALL3)
    np.testing.assert_allclose(weights, expected, rtol=1e-6)
    assert total.item() == pytest.approx(sum(w * v for w, v in zip(expected, [1, 2, 3])), rel=1e-6)
    balancer.on_epoch_end(torch.tensor([0.25, 0.9, 2.4]))  # ratios 0.5, 1.0, 2.0
    exp = [math.exp(r / 2) for r in (0.5, 1.0, 2.0)]
    np.testing.assert_allclose(balancer.combine(losses, ALL3)[1], [3 * e / sum(exp) for e in exp],
                               rtol=1e-6)


def test_gls_is_the_geometric_mean_and_its_gradient_weights():
    balancer = GLS().build(3)
    losses = torch.tensor([1.0, 4.0, 2.0], requires_grad=True)
    total, weights = balancer.combine(losses, ALL3)
    assert total.item() == pytest.approx(2.0)  # (1 * 4 * 2) ** (1/3)
    np.testing.assert_allclose(weights, [2 / 3, 2 / 12, 2 / 6], rtol=1e-6)
    total.backward()
    np.testing.assert_allclose(losses.grad, weights, rtol=1e-6)
    # a task with no labelled row in the batch is left out of the product
    total, weights = balancer.combine(torch.tensor([1.0, 0.0, 4.0]), torch.tensor([True, False, True]))
    assert total.item() == pytest.approx(2.0) and weights[1].item() == 0


def test_uncertainty_objective_and_weights():
    balancer = Uncertainty().build(3)
    with torch.no_grad():
        balancer.log_vars.copy_(torch.tensor([0.0, math.log(2.0), -1.0]))
    losses = torch.tensor([1.0, 2.0, 3.0])
    total, weights = balancer.combine(losses, ALL3)
    expected_w = [0.5, 0.25, 0.5 * math.e]
    np.testing.assert_allclose(weights, expected_w, rtol=1e-6)
    expected = sum(w * v for w, v in zip(expected_w, [1, 2, 3])) + 0.5 * (math.log(2.0) - 1.0)
    assert total.item() == pytest.approx(expected, rel=1e-6)
    assert balancer.log_vars.requires_grad


def test_gradnorm_target_norms():
    grad_norms = torch.tensor([1.0, 2.0, 3.0])
    losses, initial = torch.tensor([1.0, 1.0, 2.0]), torch.tensor([2.0, 1.0, 1.0])
    # L~ = (0.5, 1, 2), mean 7/6, r = (3/7, 6/7, 12/7); mean(G) = 2
    expected = [2 * (3 / 7) ** 1.5, 2 * (6 / 7) ** 1.5, 2 * (12 / 7) ** 1.5]
    np.testing.assert_allclose(gradnorm_targets(grad_norms, losses, initial, 1.5), expected,
                               rtol=1e-6)
    np.testing.assert_allclose(gradnorm_targets(grad_norms, losses, initial, 0.0), [2, 2, 2])


def _step_parts(n_tasks=3):
    X, y = mixed_data(n=64)
    taskset = TaskSet().fit(y)
    torch.manual_seed(0)
    module = SharedBottom().build(5, [t.n_outputs_ for t in taskset.tasks_],
                                  LayerSettings(hidden_layer_sizes=(8, 6)))
    criterion = MultiTaskCriterion(taskset.tasks_, taskset.target_slices_)
    targets = taskset.encode(y)
    weights = np.ones((len(targets), n_tasks), dtype=np.float32)
    return (module, criterion, torch.tensor(X, dtype=torch.float32),
            torch.tensor(np.concatenate([targets, weights], axis=1)))


def step(balancer, module, criterion, X, y):
    """One training step as the net runs it."""
    return train_step(module, criterion, balancer, X, y, gradient_kind(module, balancer,
                                                                       getattr(balancer, "mode", "parameters")))


def losses_of(criterion, y_pred, y):
    return torch.stack(criterion.task_losses(y_pred, y)[0])


def test_gradnorm_step_moves_weights_towards_the_targets():
    module, criterion, X, y = _step_parts()
    balancer = GradNorm(alpha=1.5).build(3, module)
    out = step(balancer, module, criterion, X, y)
    losses = losses_of(criterion, module(X), y).detach()
    g = torch.stack([
        torch.cat([gr.reshape(-1) for gr in torch.autograd.grad(
            losses_of(criterion, module(X), y)[t], module.last_shared_parameters())]).norm()
        for t in range(3)
    ])
    target = gradnorm_targets(g, losses, losses, 1.5)  # first step: L(0) = L
    torch.testing.assert_close(balancer.task_weights.grad, torch.sign(g - target) * g)
    assert module.last_shared_parameters()[0] is module.trunk[-2].weight
    assert out["task_weights"].tolist() == [1.0, 1.0, 1.0]


def test_rlw_draws_softmax_weights_every_step():
    balancer = RLW().build(4)
    torch.manual_seed(0)
    w1 = balancer.combine(torch.ones(4), ALL4)[1]
    w2 = balancer.combine(torch.ones(4), ALL4)[1]
    assert (w1 > 0).all() and w1.sum().item() == pytest.approx(1.0)
    assert not torch.allclose(w1, w2)
    torch.manual_seed(0)
    torch.testing.assert_close(balancer.combine(torch.ones(4), ALL4)[1], w1)


# -- gradient aggregation: same update as torchjd ------------------------------------------

AGGREGATORS = [
    (MGDA(), tja.MGDA()), (PCGrad(), tja.PCGrad()),
    pytest.param(CAGrad(c=0.5), None if missing_solvers("cagrad") else tja.CAGrad(c=0.5),
                 marks=needs_cagrad, id="CAGrad-CAGrad"),
    (UPGrad(), tja.UPGrad()), (DualProj(), tja.DualProj()),
]


def _check_representation_step(spec, reference, static_weights=None):
    """One representation-mode step against a hand-built torchjd reference.

    The trunk must get ``reference`` of the Jacobian (on z) of the statically weighted
    losses, and each head its own weighted loss's gradient. Returns the step's output,
    the weighted losses and the Jacobian.
    """
    module, criterion, X, y = _step_parts()
    if static_weights is not None:
        criterion.weights = torch.tensor(static_weights)
    balancer = spec.build(3, module)
    assert balancer.mode == "representation"
    if static_weights is not None:
        criterion.static_weights = list(static_weights)
    out = step(balancer, module, criterion, X, y)
    got = [p.grad.clone() for p in module.trunk.parameters()]
    head_grads = [p.grad.clone() for p in module.heads.parameters()]
    module.zero_grad(set_to_none=True)
    z = module.represent(X)
    z_detached = z.detach().requires_grad_()
    losses = losses_of(criterion, module.heads_forward(z_detached), y)
    scaled = losses * criterion.weights
    rows = torch.stack([torch.autograd.grad(scaled[t], z_detached, retain_graph=True)[0].reshape(-1)
                        for t in range(3)])
    z.backward(reference(rows).view_as(z))
    for a, b in zip(got, module.trunk.parameters()):
        torch.testing.assert_close(a, b.grad, rtol=1e-4, atol=1e-6)
    scaled.sum().backward(inputs=list(module.heads.parameters()))
    for a, b in zip(head_grads, module.heads.parameters()):  # each head: its weighted loss
        torch.testing.assert_close(a, b.grad)
    return out, scaled.detach(), rows


@pytest.mark.parametrize(("spec", "reference"), AGGREGATORS, ids=lambda v: type(v).__name__)
def test_representation_mode_update_equals_torchjd(spec, reference):
    _check_representation_step(spec, reference)


def test_representation_mode_applies_static_task_weights_and_reports_them():
    out, scaled, rows = _check_representation_step(UPGrad(), tja.UPGrad(), [2.0, 1.0, 0.5])
    torch.testing.assert_close(out["loss"], scaled.sum())
    # recorded weights: what each task's loss gradient was multiplied by, static weight included
    torch.testing.assert_close(out["task_weights"] / torch.tensor([2.0, 1.0, 0.5]),
                               tja.UPGrad().weighting(rows))


@pytest.mark.parametrize(("spec", "reference"), AGGREGATORS, ids=lambda v: type(v).__name__)
def test_parameters_mode_update_equals_torchjd(spec, reference):
    module, criterion, X, y = _step_parts()
    spec.set_params(mode="parameters")
    balancer = spec.build(3, module)
    out = step(balancer, module, criterion, X, y)
    shared = list(module.shared_parameters())
    got = torch.cat([p.grad.reshape(-1) for p in shared])
    losses = losses_of(criterion, module(X), y)
    matrix = torch.stack([
        torch.cat([g.reshape(-1) for g in torch.autograd.grad(losses[t], shared, retain_graph=True)])
        for t in range(3)
    ])
    expected = reference(matrix)
    torch.testing.assert_close(got, expected, rtol=1e-4, atol=1e-6)
    torch.testing.assert_close(out["task_weights"] @ matrix, expected, rtol=1e-3, atol=1e-5)


@pytest.mark.parametrize("spec", [MGDA(), UPGrad(), DualProj(),
                                  pytest.param(CAGrad(c=0.5), marks=needs_cagrad)],
                         ids=lambda v: type(v).__name__)
def test_non_conflicting_updates_on_random_jacobians(spec):
    generator = torch.Generator().manual_seed(0)
    aggregator = spec._aggregator(4)
    for _ in range(20):
        matrix = torch.randn(4, 30, generator=generator)
        update = aggregator(matrix)
        assert (matrix @ update >= -1e-4).all(), (matrix @ update)


def test_representation_mode_needs_one_shared_representation():
    X, y = mixed_data(n=40)
    with pytest.raises(ValueError, match="shared representation"):
        MultiTaskNet(architecture=MMoE(), weighting=UPGrad(mode="representation"), **FAST).fit(X, y)
    est = MultiTaskNet(architecture=MMoE(), weighting="upgrad", **FAST).fit(X, y)  # auto
    assert est.net_.balancer_.mode == "parameters"


# -- behaviour through the estimators ---------------------------------------------------------


def test_uncertainty_learns_weights_inverse_to_the_noise():
    rng = np.random.RandomState(0)
    n = 2000
    X = rng.normal(size=(n, 4))
    signal = X[:, 0] + X[:, 1] - X[:, 2]
    noise = {"quiet": 0.1, "medium": 1.0, "loud": 3.0}
    y = pd.DataFrame({k: signal + s * rng.normal(size=n) for k, s in noise.items()})
    est = MultiTaskRegressor(weighting="uncertainty", hidden_layer_sizes=(32,), max_epochs=40,
                             lr=1e-2, batch_size=128, device="cpu", random_state=0).fit(X, y)
    w = [est.history_[-1][f"weight_{k}"] for k in noise]
    assert w[0] > w[1] > w[2], w
    log_vars = est.net_.balancer_.log_vars.detach()
    assert log_vars[0] < log_vars[1] < log_vars[2]


class HeadSnapshots(Callback):
    def initialize(self):
        self.heads, self.trunk = [], []
        return self

    def on_batch_end(self, net, training=False, **kwargs):
        if training:
            module = net.module_
            self.heads.append([torch.cat([p.detach().reshape(-1).clone() for p in h.parameters()])
                               for h in module.heads])
            self.trunk.append(torch.cat([p.detach().reshape(-1).clone()
                                         for p in module.trunk.parameters()]))


def test_alternating_changes_only_the_active_head_and_the_trunk():
    X, y = mixed_data(n=192)
    est = MultiTaskNet(schedule="alternating", callbacks=[("snap", HeadSnapshots())],
                       **{**FAST, "max_epochs": 2}).fit(X, y)
    snap = dict(est.net_.callbacks_)["snap"]
    assert len(snap.heads) == 12
    for step in range(1, 12):
        active = step % 3
        for t in range(3):
            changed = not torch.equal(snap.heads[step][t], snap.heads[step - 1][t])
            assert changed == (t == active), (step, t)
        assert not torch.equal(snap.trunk[step], snap.trunk[step - 1])
    weights = [est.history_[-1][f"weight_{t}"] for t in ("r", "c", "k")]
    np.testing.assert_allclose(weights, [1 / 3] * 3)  # each task active a third of the steps


def test_alternating_with_another_weighting_is_rejected():
    X, y = mixed_data(n=40)
    with pytest.raises(InvalidParameterError, match="alternating"):
        MultiTaskNet(schedule="alternating", weighting="dwa", **FAST).fit(X, y)


@pytest.mark.parametrize("name", sorted(WEIGHTINGS))
def test_every_method_trains_through_the_three_estimators(name):
    if missing_solvers(name):  # cagrad, nash_mtl without their extra
        pytest.skip(f"{name} needs {', '.join(missing_solvers(name))}: "
                    f'pip install "{SOLVER_EXTRAS[name][1]}"')
    X, y = mixed_data()
    for Estimator, target in [(MultiTaskNet, y), (MultiTaskClassifier, y[["c", "k"]]),
                              (MultiTaskRegressor, y[["r"]].assign(s=X[:, 1] - X[:, 2]))]:
        est = Estimator(weighting=name, **{**FAST, "max_epochs": 15}).fit(X, target)
        assert est.score(X, target) > 0.6, (Estimator.__name__, est.score_tasks(X, target))
        for task in est.tasks_:
            values = est.history_[:, f"weight_{task.name_}"]
            assert len(values) == 15 and np.isfinite(values).all()


@needs_cagrad
def test_names_and_objects_in_grid_search_clone_and_pickle():
    X, y = mixed_data()
    search = GridSearchCV(
        MultiTaskNet(**FAST),
        [{"weighting": ["equal", "gls"]}, {"weighting": [DWA()], "weighting__temperature": [1.0, 4.0]},
         {"weighting": [UPGrad(mode="parameters")]}],
        cv=2,
    ).fit(X, y)
    assert len(search.cv_results_["params"]) == 5
    assert np.isfinite(search.cv_results_["mean_test_score"]).all()
    est = MultiTaskNet(weighting=CAGrad(c=0.3), **FAST)
    twin = clone(est)
    assert twin.weighting is not est.weighting and twin.get_params()["weighting__c"] == 0.3
    est.fit(X, y)
    restored = pickle.loads(pickle.dumps(est))
    pd.testing.assert_frame_equal(restored.predict(X), est.predict(X))


def test_weight_and_loss_plots():
    pytest.importorskip("matplotlib")
    import matplotlib

    matplotlib.use("Agg")
    from skmtl.plotting import plot_task_losses, plot_task_weights

    X, y = mixed_data()
    est = MultiTaskNet(weighting="dwa", validation_fraction=0.2, **FAST).fit(X, y)
    ax = plot_task_weights(est)
    assert [line.get_label() for line in ax.get_lines()] == ["r", "c", "k"]
    np.testing.assert_allclose(ax.get_lines()[0].get_ydata(), est.history_[:, "weight_r"])
    ax = plot_task_losses(est)
    assert len(ax.get_lines()) == 6 and ax.get_yscale() == "log"
    assert ax.get_lines()[1].get_label() == "r (valid)"
