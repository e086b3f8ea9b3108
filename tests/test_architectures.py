"""Architectures: structure (who gets gradient from whom), gates, parameter counts, trunks."""

import copy
import pickle
import warnings

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.base import clone
from sklearn.datasets import load_digits
from sklearn.model_selection import GridSearchCV, train_test_split
from skorch.helper import SliceDict
from torch import nn

from skmtl import MultiTaskClassifier, MultiTaskEnsemble, MultiTaskNet, MultiTaskRegressor
from skmtl.architectures import (
    ARCHITECTURES,
    CGC,
    PLE,
    CrossStitch,
    LayerSettings,
    MMoE,
    MultiInput,
    Separate,
    SharedBottom,
)
from skmtl.architectures._cross_stitch import SELF_WEIGHT
from skmtl.transfer import shared_trunk

N_FEATURES, HEAD_OUTPUTS = 7, [1, 3, 2]
SETTINGS = LayerSettings(hidden_layer_sizes=(12, 10), head_layer_sizes=(6,))


def build(spec):
    torch.manual_seed(0)
    return spec.build(N_FEATURES, HEAD_OUTPUTS, SETTINGS)


def touched_by(module, task, X=None):
    """Ids of the parameters that task ``task``'s output puts nonzero gradient on."""
    X = torch.randn(16, N_FEATURES) if X is None else X
    module.zero_grad(set_to_none=True)
    module(X)[task].pow(2).sum().backward()
    return {id(p) for p in module.parameters() if p.grad is not None and p.grad.abs().sum() > 0}


def ids(params):
    return {id(p) for p in params}


def P(n_in, sizes):
    """Parameters of dense layers n_in -> sizes[0] -> ... (weights and biases)."""
    total = 0
    for size in sizes:
        total += (n_in + 1) * size
        n_in = size
    return total


def n_params(module):
    return sum(p.numel() for p in module.parameters())


# -- structure -------------------------------------------------------------------------


def test_separate_shares_nothing_and_tasks_do_not_touch_each_other():
    module = build(Separate())
    assert list(module.shared_parameters()) == []
    own = [ids(module.task_parameters(t)) for t in range(3)]
    assert set().union(*own) == ids(module.parameters())
    for t in range(3):
        assert touched_by(module, t) == own[t]  # all of its own, nothing of the others


def test_shared_bottom_trunk_gets_every_task_heads_only_their_own():
    module = build(SharedBottom())
    trunk = ids(module.trunk.parameters())
    assert ids(module.shared_parameters()) == trunk
    for t in range(3):
        touched = touched_by(module, t)
        assert trunk <= touched
        assert touched - trunk == ids(module.task_parameters(t))


@pytest.mark.parametrize("spec", [MMoE(), CGC(), PLE(), PLE(n_levels=3, n_task_experts=2)],
                         ids=["mmoe", "cgc", "ple", "ple3"])
def test_gates_sum_to_one_per_row_and_task(spec):
    module = build(spec)
    gates = module.gate_outputs(torch.randn(20, N_FEATURES))
    assert len(gates) >= 3
    for name, weights in gates.items():
        assert (weights >= 0).all(), name
        torch.testing.assert_close(weights.sum(dim=1), torch.ones(20))


@pytest.mark.parametrize("spec", [MMoE(), CGC(), PLE(), CrossStitch()],
                         ids=["mmoe", "cgc", "ple", "cross_stitch"])
def test_task_parameters_get_no_gradient_from_other_tasks(spec):
    module = build(spec)
    for t in range(3):
        touched = touched_by(module, t)
        assert ids(module.task_parameters(t)) <= touched
        for other in range(3):
            if other != t:
                assert not touched & ids(module.task_parameters(other))


def test_cgc_task_experts_receive_gradient_from_their_task_only():
    module = build(CGC(n_task_experts=2))
    for t in range(3):
        touched = touched_by(module, t)
        for other in range(3):
            experts = ids(module.task_experts[0][other].parameters())
            assert (experts <= touched) if other == t else not (experts & touched)


def test_ple_lower_level_task_experts_feed_the_shared_gate():
    """As in Tang et al. (2020): below the last level, the shared gate mixes every
    expert, so a task's lower-level experts also receive the other tasks' gradient;
    its last-level experts only its own."""
    module = build(PLE(n_levels=2))
    touched = touched_by(module, 0)
    assert ids(module.task_experts[0][1].parameters()) <= touched
    assert not ids(module.task_experts[1][1].parameters()) & touched


def test_cross_stitch_starts_near_identity_and_learns_the_mixing():
    module = build(CrossStitch())
    assert len(module.stitches) == 2
    for stitch in module.stitches:
        assert stitch.requires_grad
        torch.testing.assert_close(torch.diagonal(stitch), torch.full((3,), SELF_WEIGHT))
        torch.testing.assert_close(stitch.sum(dim=1), torch.ones(3))
    X, y = _mixed_data()
    est = MultiTaskNet(architecture="cross_stitch", max_epochs=20, lr=1e-2, device="cpu",
                       random_state=0, numeric_embedding=None).fit(X, y)
    initial = module.stitches[0].detach()
    learned = est.net_.module_.stitches[0].detach().clone()
    assert (learned - initial).abs().max() > 1e-3  # the mixing was trained
    off_diagonal = learned - torch.diag(learned.diagonal())
    assert (learned.diagonal() > off_diagonal.max(dim=1).values).all()  # still column-dominant


# -- parameter counts match the docstring formulas ---------------------------------------


def _towers(width, head_sizes=(6,)):
    return sum(P(width, (*head_sizes, o)) for o in HEAD_OUTPUTS)


def test_parameter_counts_match_docstring_formulas():
    d, h, T = N_FEATURES, (12, 10), 3
    w = h[-1]
    assert n_params(build(SharedBottom())) == P(d, h) + _towers(w)
    assert n_params(build(Separate())) == T * P(d, h) + _towers(w)
    E = 5
    assert n_params(build(MMoE(n_experts=E))) == E * P(d, h) + T * (d + 1) * E + _towers(w)
    m_t, m_s = 2, 3
    assert n_params(build(CGC(n_task_experts=m_t, n_shared_experts=m_s))) == (
        (T * m_t + m_s) * P(d, h) + T * (m_t + m_s) * (d + 1) + _towers(w)
    )
    for L in (2, 3):
        expected = (
            (T * m_t + m_s) * (P(d, h) + (L - 1) * P(w, h))
            + T * (m_t + m_s) * ((d + 1) + (L - 1) * (w + 1))
            + (T * m_t + m_s) * ((d + 1) + (L - 2) * (w + 1))
            + _towers(w)
        )
        assert n_params(build(PLE(n_levels=L, n_task_experts=m_t, n_shared_experts=m_s))) == expected
    assert n_params(build(CrossStitch())) == T * P(d, h) + len(h) * T**2 + _towers(w)


def test_architecture_hyperparameters_override_estimator_layers():
    module = build(MMoE(n_experts=2, expert_layer_sizes=(4,), tower_layer_sizes=()))
    assert len(module.experts) == 2
    assert module.experts[0][0].out_features == 4
    assert isinstance(module.towers[0][0], nn.Linear) and module.towers[0][0].in_features == 4


# -- through the estimators ----------------------------------------------------------------


def _mixed_data(n=240, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.normal(size=(n, 6))
    y = pd.DataFrame({
        "r": X[:, 0] + 0.5 * X[:, 1] + 0.1 * rng.normal(size=n),
        "c": np.where(X[:, 1] + X[:, 2] > 0, "up", "down"),
        "k": (X[:, 3] > 0).astype(int) + (X[:, 4] > 0),
    })
    return X, y


@pytest.mark.parametrize("name", sorted(ARCHITECTURES))
def test_every_architecture_learns_and_round_trips_through_pickle(name):
    X, y = _mixed_data()
    est = MultiTaskNet(architecture=name, hidden_layer_sizes=(32,), max_epochs=40, lr=1e-2,
                       device="cpu", random_state=0).fit(X, y)
    scores = est.score_tasks(X, y)
    assert scores["r"] > 0.8 and scores["c"] > 0.85 and scores["k"] > 0.6, scores
    restored = pickle.loads(pickle.dumps(est))
    pd.testing.assert_frame_equal(restored.predict(X), est.predict(X))
    for a, b in zip(restored.predict_proba(X), est.predict_proba(X)):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("Estimator", [MultiTaskClassifier, MultiTaskRegressor])
@pytest.mark.parametrize("name", sorted(ARCHITECTURES))
def test_every_architecture_through_classifier_and_regressor(Estimator, name):
    X, y = _mixed_data(n=120)
    target = y[["c", "k"]] if Estimator is MultiTaskClassifier else y[["r"]].assign(s=X[:, 2])
    est = Estimator(architecture=name, hidden_layer_sizes=(16,), max_epochs=30, lr=1e-2,
                    device="cpu", random_state=0).fit(X, target)
    assert est.score(X, target) > 0.6


def test_names_and_objects_in_one_grid_search_and_faithful_clone():
    X, y = _mixed_data(n=160)
    est = MultiTaskNet(hidden_layer_sizes=(16,), max_epochs=10, lr=1e-2, device="cpu",
                       random_state=0)
    grid = [
        {"architecture": ["shared_bottom", "separate"]},
        {"architecture": [MMoE()], "architecture__n_experts": [2, 3]},
        {"architecture": [PLE(n_levels=1)], "architecture__expert_layer_sizes": [(8,), (16,)]},
    ]
    search = GridSearchCV(est, grid, cv=2).fit(X, y)
    assert len(search.cv_results_["params"]) == 6
    assert np.isfinite(search.cv_results_["mean_test_score"]).all()
    assert {str(p["architecture"]) for p in search.cv_results_["params"]} >= {
        "shared_bottom", "separate", "MMoE()", "PLE(n_levels=1)"}
    tuned = MultiTaskNet(architecture=MMoE(n_experts=3, expert_layer_sizes=(8,)))
    twin = clone(tuned)
    assert twin.architecture is not tuned.architecture
    assert twin.get_params()["architecture__n_experts"] == 3
    assert twin.get_params()["architecture__expert_layer_sizes"] == (8,)
    twin.set_params(architecture__n_experts=6)
    assert tuned.architecture.n_experts == 3


def test_unknown_architecture_is_rejected():
    X, y = _mixed_data(n=40)
    with pytest.raises(ValueError, match="architecture"):
        MultiTaskNet(architecture="transformer", device="cpu").fit(X, y)


# -- user trunks ----------------------------------------------------------------------------


class SmallCNN(nn.Module):
    """A tiny CNN for 8x8 grey images: (n, 1, 8, 8) -> (n, 32)."""

    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(
            nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(1),
        )

    def forward(self, X):
        return self.net(X)


@pytest.fixture(scope="module")
def digits():
    data = load_digits()
    images = (data.images / 16.0).astype(np.float32)[:, None]  # (n, 1, 8, 8)
    y = pd.DataFrame({
        "digit": data.target,
        "parity": np.where(data.target % 2 == 0, "even", "odd"),
        "big": data.target >= 5,
    })
    return train_test_split(images, y, test_size=0.3, random_state=0, stratify=data.target)


def _seeded(cls: type, seed: int = 0) -> torch.nn.Module:
    """An instance of ``cls`` whose initial weights do not depend on the global random state
    at import (which the test modules imported before this one change)."""
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        return cls()


@pytest.mark.parametrize("trunk", [SmallCNN, _seeded(SmallCNN)], ids=["class", "instance"])
def test_cnn_trunk_on_digit_images(digits, trunk):
    X_train, X_test, y_train, y_test = digits
    before = pickle.dumps(trunk)
    est = MultiTaskNet(trunk=trunk, max_epochs=30, lr=1e-2, batch_size=32, device="cpu",
                       random_state=0).fit(X_train, y_train)
    assert pickle.dumps(trunk) == before  # the user's trunk is copied, not trained
    module = est.net_.module_
    assert isinstance(module.trunk, SmallCNN)
    assert [h[-1].in_features for h in module.heads] == [32, 32, 32]  # heads sized from the trunk
    assert [h[-1].out_features for h in module.heads] == [10, 2, 2]
    scores = est.score_tasks(X_test, y_test)
    assert scores["digit"] > 0.9 and scores["parity"] > 0.9 and scores["big"] > 0.9, scores
    with pytest.raises(ValueError, match="shape"):
        est.predict(X_test[:, :, :4, :])


def test_trunk_under_separate_is_copied_per_task(digits):
    X_train, _, y_train, _ = digits
    est = MultiTaskNet(architecture="separate", trunk=SmallCNN, max_epochs=1, device="cpu",
                       random_state=0).fit(X_train[:100], y_train[:100])
    module = est.net_.module_
    assert list(module.shared_parameters()) == []
    first, second = module.towers[0].module, module.towers[1].module
    assert first is not second and isinstance(first, SmallCNN)


def test_trunk_under_mmoe_is_a_shared_encoder(digits):
    X_train, X_test, y_train, y_test = digits
    est = MultiTaskNet(architecture=MMoE(n_experts=3, expert_layer_sizes=(32,)), trunk=SmallCNN,
                       max_epochs=30, lr=1e-2, batch_size=32, device="cpu", random_state=0)
    est.fit(X_train, y_train)
    module = est.net_.module_
    assert ids(module.encoder.parameters()) <= ids(module.shared_parameters())
    assert module.body.experts[0][0].in_features == 32
    assert est.score(X_test, y_test) > 0.85


def test_nd_input_without_trunk_is_rejected(digits):
    X_train, _, y_train, _ = digits
    with pytest.raises(ValueError, match="trunk"):
        MultiTaskNet(device="cpu").fit(X_train, y_train)


def _multi_input_data(digits, n=600):
    X_train, _, y_train, _ = digits
    rng = np.random.RandomState(0)
    tab = rng.normal(size=(n, 3))
    X = SliceDict(img=X_train[:n], tab=tab)
    y = y_train[:n].reset_index(drop=True).assign(score=2 * tab[:, 0] - tab[:, 1])
    return X, y


@pytest.mark.parametrize("encoder", ["none", "flatten", "batchnorm"])
@pytest.mark.parametrize("scale", [1.0, 50.0])
def test_multi_input_warns_of_an_unscaled_input_it_passes_as_it_is(digits, encoder, scale):
    """A table beside images through encoder None reaches the dense layers as it is: a
    feature far from unit scale gets a warning naming the input, the feature, its mean and
    spread and the remedy; a standardised one, or one behind a normalising encoder, none."""
    X, y = _multi_input_data(digits, n=200)
    tab = X["tab"].copy()
    tab[:, 1] = tab[:, 1] * scale + 3 * scale  # mean 3 * scale, std about scale
    X = SliceDict(img=X["img"], tab=tab)
    tab_encoder = {"none": None, "flatten": nn.Flatten(),
                   "batchnorm": nn.Sequential(nn.Flatten(), nn.BatchNorm1d(3))}[encoder]
    est = MultiTaskNet(trunk=MultiInput({"img": SmallCNN, "tab": tab_encoder}),
                       max_epochs=1, device="cpu", random_state=0)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        est.fit(X, y)
        est.predict(X)
        est.set_params(warm_start=True).fit(X, y)  # continuing: said once, at the start
    said = [str(w.message) for w in caught if "reaches the network as it is" in str(w.message)]
    if scale == 1.0 or encoder == "batchnorm":
        assert said == []
        return
    assert len(said) == 1
    mean, std = tab[:, 1].mean(), tab[:, 1].std()
    assert ("MultiTaskNet: input 'tab' reaches" in said[0] and "its feature 1 has mean "
            f"{mean:.4g} and standard deviation {std:.4g}" in said[0]), said[0]
    assert "nn.BatchNorm1d(3)" in said[0] and "StandardScaler" in said[0]
    assert caught[[str(w.message) for w in caught].index(said[0])].filename == __file__


def _trunk_state(est) -> dict:
    return {k: v.clone() for k, v in shared_trunk(est).state_dict().items()}


def _same(a: dict, b: dict, prefix: str = "") -> bool:
    keys = [k for k in a if k.startswith(prefix)]
    assert keys and keys == [k for k in b if k.startswith(prefix)]
    return all(torch.equal(a[k], b[k]) for k in keys)


def test_multi_input_builds_its_own_parts_under_the_estimators_seed(digits):
    """Encoders given as classes (and the shared layers) start from weights that the
    estimator's random_state decides, not the global torch state when MultiInput was
    made; encoders given as instances, and a trunk taken from a fitted model, keep their
    weights.
    ``freeze="trunk"`` keeps every trunk weight at its initial value, so the fitted
    trunks show where each fit started."""
    X, y = _multi_input_data(digits, n=120)
    cnn = _seeded(SmallCNN, seed=7)

    def trunk(global_seed: int, img=SmallCNN) -> MultiInput:
        with torch.random.fork_rng():
            torch.manual_seed(global_seed)
            return MultiInput({"img": img, "tab": None}, hidden_layer_sizes=(16,))

    def start(trunk, seed: int, **kwargs) -> dict:
        est = MultiTaskNet(trunk=trunk, freeze="trunk", max_epochs=1, device="cpu",
                           random_state=seed, **kwargs).fit(X, y)
        return _trunk_state(est)

    made_under_1, made_under_2 = trunk(1), trunk(2)
    before = pickle.dumps(made_under_1)
    first = start(made_under_1, seed=0)
    assert pickle.dumps(made_under_1) == before  # the user's instance is left as it was
    assert _same(first, start(made_under_2, seed=0))  # where it was made does not matter
    other = start(made_under_1, seed=1)
    assert not _same(first, other, "encoders.img") and not _same(first, other, "shared")
    # an encoder given as an instance keeps its weights, whatever the seed
    for seed in (0, 1):
        kept = start(trunk(seed, img=cnn), seed=seed)
        assert _same({f"encoders.img.{k}": v for k, v in cnn.state_dict().items()}, kept,
                     "encoders.img")
    # the members of an ensemble of seeds start apart
    ensemble = MultiTaskEnsemble(MultiTaskNet(trunk=made_under_1, freeze="trunk", max_epochs=1,
                                              device="cpu"), n_seeds=2, random_state=0)
    members = [_trunk_state(m) for m in ensemble.fit(X, y).estimators_]
    assert not _same(*members, "encoders.img")
    # a trunk transferred from a fitted model keeps the weights it was trained to
    source = MultiTaskNet(trunk=made_under_1, max_epochs=2, lr=1e-2, device="cpu",
                          random_state=0).fit(X, y)
    transferred = shared_trunk(source)
    target = MultiTaskNet(trunk=transferred, freeze="trunk", max_epochs=1, device="cpu",
                          random_state=3).fit(X, y[["parity"]])
    assert _same(_trunk_state(source), _trunk_state(target))
    by_hand = copy.deepcopy(source.net_.module_.trunk)  # taken without shared_trunk
    target = MultiTaskNet(trunk=by_hand, freeze="trunk", max_epochs=1, device="cpu",
                          random_state=3).fit(X, y[["parity"]])
    assert _same(_trunk_state(source), _trunk_state(target))
    assert not _same(_trunk_state(source), first, "encoders.img")  # the source trained


def test_multi_input_slicedict_in_grid_search(digits):
    X, y = _multi_input_data(digits)
    est = MultiTaskNet(
        trunk=MultiInput({"img": SmallCNN, "tab": None}, hidden_layer_sizes=(32,)),
        max_epochs=30, lr=1e-2, batch_size=32, device="cpu", random_state=0,
    )
    search = GridSearchCV(est, {"architecture": ["shared_bottom", "mmoe"], "dropout": [0.0, 0.1]},
                          cv=2).fit(X, y)
    assert search.best_params_["architecture"] in {"shared_bottom", "mmoe"}
    assert np.isfinite(search.cv_results_["mean_test_score"]).all()
    best = search.best_estimator_
    scores = best.score_tasks(X, y)
    # both modalities are used: "score" comes from the table, "parity" from the images
    assert scores["score"] > 0.8 and scores["parity"] > 0.8, scores
    assert best.input_shapes_ == {"img": (1, 8, 8), "tab": (3,)}
    with pytest.raises(ValueError, match="shapes"):
        best.predict(SliceDict(img=X["img"][:5], tab=X["tab"][:5, :2]))
