"""Losses of log link: ``Regression(loss="poisson")`` (counts) and ``Regression(loss="gamma")``
(positive skewed targets) against hand computations and scikit-learn, and in combination
with missing labels, every architecture and weighting, freeze, partial_fit, warm_start,
sample weights, ensembles, checkpoints and ONNX export."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch
from recording import RUNNABLE_WEIGHTINGS
from sklearn.base import clone
from sklearn.metrics import mean_gamma_deviance, mean_poisson_deviance

from skmtl import MultiTaskEnsemble, MultiTaskNet
from skmtl.architectures import ARCHITECTURES
from skmtl.losses import LOSSES, GammaLoss, PoissonLoss
from skmtl.tasks import Regression

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

FAST = dict(hidden_layer_sizes=(8,), max_epochs=2, batch_size=16, lr=1e-2, device="cpu",
            random_state=0)
SPEC = {"visits": Regression(loss="poisson"), "flag": "classification"}


def make_counts(n: int = 400, seed: int = 0, missing: float = 0.0):
    """A Poisson count ``visits`` of rate exp(x0 + 0.5 * [shop == 'a']) and a binary ``flag``.

    ``missing``: the share of ``visits`` labels removed at random (and row 5 unlabelled).
    """
    rng = np.random.RandomState(seed)
    X = pd.DataFrame({"x0": rng.normal(size=n), "x1": rng.normal(size=n),
                      "shop": rng.choice(["a", "b", "c"], n)},
                     index=pd.RangeIndex(500, 500 + n))
    rate = np.exp(X["x0"].to_numpy() + 0.5 * (X["shop"] == "a").to_numpy())
    y = pd.DataFrame({"visits": rng.poisson(rate).astype(float),
                      "flag": X["x1"].to_numpy() + 0.3 * rng.normal(size=n) > 0}, index=X.index)
    if missing:
        y["flag"] = y["flag"].astype(object)
        y.loc[rng.rand(n) < missing, "visits"] = np.nan
        y.iloc[5] = np.nan
    return X, y, rate


def make_data(loss: str, n: int = 400, seed: int = 0, missing: float = 0.0):
    """:func:`make_counts`, or with ``loss="gamma"`` its ``visits`` replaced by a positive
    amount of mean ``rate`` (Gamma noise of shape 4)."""
    X, y, rate = make_counts(n, seed, missing)
    if loss == "gamma":
        amount = np.random.RandomState(seed + 1).gamma(4.0, rate / 4.0)
        y["visits"] = np.where(y["visits"].isna(), np.nan, amount)
    return X, y, rate


def spec(loss: str) -> dict:
    return {"visits": Regression(loss=loss), "flag": "classification"}


# -- the loss ----------------------------------------------------------------------------------


def test_poisson_loss_is_scikit_learns_mean_poisson_deviance_over_labelled_rows():
    generator = torch.Generator().manual_seed(0)
    output = torch.randn(12, 1, generator=generator)
    target = torch.poisson(torch.full((12, 1), 2.0), generator=generator)
    target[[2, 7]] = float("nan")
    weight = torch.rand(12, generator=generator)
    loss, total = PoissonLoss()(output, target, weight)
    keep = ~torch.isnan(target[:, 0])
    expected = mean_poisson_deviance(target[keep, 0].numpy(), torch.exp(output[keep, 0]).numpy(),
                                     sample_weight=weight[keep].numpy())
    assert loss.item() == pytest.approx(expected, rel=1e-5)
    assert total.item() == pytest.approx(weight[keep].sum().item(), rel=1e-6)
    # 0 at a perfect prediction (zeros included), positive elsewhere, as weightings expect
    y = torch.tensor([[0.0], [1.0], [3.0]])
    perfect = torch.log(y.clamp(min=1e-8))
    assert PoissonLoss()(perfect, y, torch.ones(3))[0].item() == pytest.approx(0.0, abs=1e-6)
    assert PoissonLoss()(perfect + 0.5, y, torch.ones(3))[0].item() > 0
    assert PoissonLoss().dense(output[keep], target[keep]).item() == pytest.approx(
        PoissonLoss()(output[keep], target[keep], torch.ones(int(keep.sum())))[0].item())


def test_the_fitted_loss_is_1_for_the_constant_mean_as_standardised_squared_error_is():
    target = np.array([[0.0], [0.5], [np.nan], [2.5], [1.0]])  # encoded: mean 1
    fitted = PoissonLoss().fit(target, 1)
    labelled = target[~np.isnan(target[:, 0]), 0]
    assert fitted.null_deviance_ == pytest.approx(
        mean_poisson_deviance(labelled, np.full(len(labelled), labelled.mean())))
    assert not hasattr(PoissonLoss(), "null_deviance_")  # fit returns a copy
    t = torch.as_tensor(target, dtype=torch.float32)
    at_mean, _ = fitted(torch.zeros(5, 1), t, torch.ones(5))
    assert at_mean.item() == pytest.approx(1.0, rel=1e-5)
    # every target equal (or none labelled): the deviance itself
    assert PoissonLoss().fit(np.ones((3, 1)), 1).null_deviance_ == 1.0
    assert PoissonLoss().fit(np.full((3, 1), np.nan), 1).null_deviance_ == 1.0


def test_gamma_loss_is_scikit_learns_mean_gamma_deviance_scaled_by_the_null_deviance():
    generator = torch.Generator().manual_seed(1)
    output = torch.randn(12, 1, generator=generator)
    target = torch.rand(12, 1, generator=generator) * 3 + 0.1
    target[[4]] = float("nan")
    weight = torch.rand(12, generator=generator)
    keep = ~torch.isnan(target[:, 0])
    expected = mean_gamma_deviance(target[keep, 0].numpy(), torch.exp(output[keep, 0]).numpy(),
                                   sample_weight=weight[keep].numpy())
    assert GammaLoss()(output, target, weight)[0].item() == pytest.approx(expected, rel=1e-5)
    fitted = GammaLoss().fit(target.numpy(), 1)
    labelled = target[keep, 0].numpy().astype(np.float64)
    assert fitted.null_deviance_ == pytest.approx(
        mean_gamma_deviance(labelled, np.full(len(labelled), labelled.mean())), rel=1e-6)
    assert fitted(output, target, weight)[0].item() == pytest.approx(
        expected / fitted.null_deviance_, rel=1e-5)
    at_mean = torch.full((12, 1), float(np.log(labelled.mean())))
    assert fitted(at_mean, target, torch.ones(12))[0].item() == pytest.approx(1.0, rel=1e-5)
    assert torch.isfinite(GammaLoss()(torch.tensor([[500.0], [-500.0]]),
                                      torch.tensor([[1.0], [2.0]]), torch.ones(2))[0])
    assert LOSSES["gamma"] is GammaLoss and GammaLoss.link == "log"


def test_poisson_loss_stays_finite_for_huge_outputs_and_is_registered():
    loss, _ = PoissonLoss()(torch.tensor([[500.0], [-500.0]]), torch.tensor([[1.0], [0.0]]),
                            torch.ones(2))
    assert torch.isfinite(loss)
    assert LOSSES["poisson"] is PoissonLoss and PoissonLoss.link == "log"


# -- the task --------------------------------------------------------------------------------


def test_counts_are_divided_by_their_mean_and_predictions_are_positive():
    X, y, rate = make_counts(n=1500)
    est = MultiTaskNet(tasks=SPEC, max_epochs=30, random_state=0).fit(X, y)
    task = est.tasks_[0]
    assert task.link_ == "log" and task.mean_ == 0.0
    assert task.scale_ == pytest.approx(y["visits"].mean())
    pred = est.predict(X)
    assert pred.index.equals(X.index) and (pred["visits"] > 0).all()
    # it learns the rate: better than the constant mean by a wide margin
    constant = mean_poisson_deviance(y["visits"], np.full(len(y), y["visits"].mean()))
    learnt = mean_poisson_deviance(y["visits"], pred["visits"])
    assert learnt < 0.8 * constant, (learnt, constant)
    assert np.corrcoef(pred["visits"], rate)[0, 1] > 0.9
    # the identity link keeps its encoding
    plain = MultiTaskNet(max_epochs=2, random_state=0).fit(X, y)
    assert plain.tasks_[0].link_ == "identity"
    assert plain.tasks_[0].scale_ == pytest.approx(y["visits"].std(ddof=0))


def test_output_of_inverts_decode_for_both_links():
    X, y, _ = make_counts(n=200)
    for spec in (SPEC, "auto"):
        est = MultiTaskNet(tasks=spec, **FAST).fit(X, y)
        task = est.tasks_[0]
        values = np.array([0.5, 1.0, 7.25])
        np.testing.assert_allclose(task.decode(task.output_of(values))["visits"], values,
                                   rtol=1e-12)


def test_a_negative_count_is_refused_naming_the_task_and_column():
    X, y, _ = make_counts(n=100)
    y.loc[y.index[3], "visits"] = -2.0
    with pytest.raises(ValueError, match=r"task 'visits' has loss PoissonLoss.*non-negative.*column "
                                         r"'visits' holds 1 negative value\(s\) such as -2\.0"):
        MultiTaskNet(tasks=SPEC, **FAST).fit(X, y)
    # also in a later partial_fit chunk
    X, y, _ = make_counts(n=100)
    est = MultiTaskNet(tasks=SPEC, **FAST).partial_fit(X.iloc[:50], y.iloc[:50])
    later = y.iloc[50:].copy()
    later.iloc[0, 0] = -1.0
    with pytest.raises(ValueError, match="needs non-negative targets"):
        est.partial_fit(X.iloc[50:], later)


def test_a_zero_or_negative_amount_is_refused_by_the_gamma_loss():
    X, y, _ = make_data("gamma", n=100)
    y.loc[y.index[2], "visits"] = 0.0
    with pytest.raises(ValueError, match=r"task 'visits' has loss GammaLoss, which needs positive "
                                         r"targets, but column 'visits' holds 1 zero or negative "
                                         r"value\(s\) such as 0\.0\. Use loss='poisson' \(counts "
                                         "may be 0\\), or loss='mse'"):
        MultiTaskNet(tasks=spec("gamma"), **FAST).fit(X, y)
    y.loc[y.index[2], "visits"] = -3.0
    with pytest.raises(ValueError, match=r"holds 1 zero or negative value\(s\) such as -3\.0\. "
                                         "Use loss='mse'"):
        MultiTaskNet(tasks=spec("gamma"), **FAST).fit(X, y)


def test_gamma_learns_a_positive_skewed_amount():
    X, y, rate = make_data("gamma", n=1500)
    est = MultiTaskNet(tasks=spec("gamma"), max_epochs=30, random_state=0).fit(X, y)
    pred = est.predict(X)["visits"]
    assert (pred > 0).all() and est.tasks_[0].link_ == "log"
    constant = mean_gamma_deviance(y["visits"], np.full(len(y), y["visits"].mean()))
    assert mean_gamma_deviance(y["visits"], pred) < 0.8 * constant
    assert np.corrcoef(pred, rate)[0, 1] > 0.9


def test_the_scale_is_the_weighted_mean_under_sample_weight():
    X, y, _ = make_counts(n=200)
    w = np.where(np.arange(200) < 100, 3.0, 1.0)
    est = MultiTaskNet(tasks=SPEC, **FAST).fit(X, y, sample_weight=w)
    assert est.tasks_[0].scale_ == pytest.approx(np.average(y["visits"], weights=w))
    assert est.tasks_[0].mean_ == 0.0


def test_partial_fit_whose_first_call_lacks_the_counts_learns_their_mean_later():
    X, y, _ = make_counts(n=200)
    first = y.iloc[:60].copy()
    first["visits"] = np.nan
    est = MultiTaskNet(tasks=SPEC, **FAST)
    est.partial_fit(X.iloc[:60], first, classes={"flag": [False, True]})
    assert not est.tasks_[0].labelled_ and est.tasks_[0].scale_ == 1.0
    est.partial_fit(X.iloc[60:], y.iloc[60:])
    assert est.tasks_[0].scale_ == pytest.approx(y["visits"].iloc[60:].mean())
    assert (est.predict(X)["visits"] > 0).all()


# -- combinations ------------------------------------------------------------------------------


@pytest.mark.parametrize("loss", ["poisson", "gamma"])
@pytest.mark.parametrize("architecture", sorted(ARCHITECTURES))
@pytest.mark.parametrize("freeze", [None, "trunk"])
def test_every_architecture_trains_with_missing_labels(architecture, freeze, loss):
    X, y, _ = make_data(loss, n=160, missing=0.6)
    est = MultiTaskNet(tasks=spec(loss), architecture=architecture, freeze=freeze, **FAST).fit(X, y)
    losses = np.asarray(est.history_[:, "train_loss_visits"], dtype=float)
    assert np.isfinite(losses).all() and (losses >= 0).all()
    pred = est.predict(X)
    assert pred.index.equals(X.index) and (pred["visits"] > 0).all()
    assert np.isfinite(pred["visits"]).all()


@pytest.mark.parametrize("loss", ["poisson", "gamma"])
@pytest.mark.parametrize("weighting", RUNNABLE_WEIGHTINGS)
def test_every_weighting_trains_with_missing_labels(weighting, loss):
    X, y, _ = make_data(loss, n=160, missing=0.6)
    est = MultiTaskNet(tasks=spec(loss), weighting=weighting, **FAST)
    try:
        est.fit(X, y)
    except (ValueError, TypeError) as error:  # a refusal must name the option
        assert "weighting" in str(error)
        return
    losses = np.asarray(est.history_[:, "train_loss_visits"], dtype=float)
    assert np.isfinite(losses).all() and (losses >= 0).all()
    assert (est.predict(X)["visits"] > 0).all()


def test_warm_start_keeps_the_link_and_continues():
    X, y, _ = make_counts(n=200, missing=0.3)
    est = MultiTaskNet(tasks=SPEC, warm_start=True, **FAST).fit(X, y)
    before = est.predict(X)["visits"]
    est.fit(X, y)
    assert est.tasks_[0].link_ == "log" and len(est.history_) == 4
    after = est.predict(X)["visits"]
    assert (after > 0).all() and not np.allclose(before, after)


def test_an_ensemble_averages_the_members_predicted_counts():
    X, y, _ = make_counts(n=200, missing=0.3)
    ens = MultiTaskEnsemble([MultiTaskNet(tasks=SPEC, **FAST)], cv=3, random_state=0).fit(X, y)
    members = np.mean([m.predict(X)["visits"] for m in ens.estimators_], axis=0)
    np.testing.assert_allclose(ens.predict(X)["visits"], members, rtol=1e-6)
    # members of both links: the mean of their predictions, floored at 0 when the first
    # member (whose tasks the ensemble's are) declares counts
    mixed = MultiTaskEnsemble([MultiTaskNet(tasks=SPEC, **FAST), MultiTaskNet(**FAST)]).fit(X, y)
    members = np.mean([m.predict(X)["visits"] for m in mixed.estimators_], axis=0)
    assert (members < 0).any()  # the squared-error member predicts negative counts
    np.testing.assert_allclose(mixed.predict(X)["visits"], np.maximum(members, 0), rtol=1e-6,
                               atol=1e-12)
    flipped = MultiTaskEnsemble([MultiTaskNet(**FAST), MultiTaskNet(tasks=SPEC, **FAST)]).fit(X, y)
    members = np.mean([m.predict(X)["visits"] for m in flipped.estimators_], axis=0)
    np.testing.assert_allclose(flipped.predict(X)["visits"], members, rtol=1e-6)


def test_clone_and_pickle_keep_the_poisson_loss():
    import pickle

    X, y, _ = make_counts(n=120)
    est = MultiTaskNet(tasks=SPEC, **FAST).fit(X, y)
    twin = clone(est)
    assert isinstance(twin.tasks["visits"].loss, str) and twin.tasks["visits"].loss == "poisson"
    again = pickle.loads(pickle.dumps(est))
    np.testing.assert_array_equal(again.predict(X)["visits"], est.predict(X)["visits"])


def test_a_checkpoint_of_another_loss_link_is_not_resumed(tmp_path):
    X, y, _ = make_counts(n=120)
    MultiTaskNet(tasks=SPEC, checkpoint=tmp_path, **dict(FAST, max_epochs=1)).fit(X, y)
    with pytest.raises(ValueError, match=r"different fit.*task 'visits'"):
        MultiTaskNet(checkpoint=tmp_path, **FAST).fit(X, y)
    resumed = MultiTaskNet(tasks=SPEC, checkpoint=tmp_path, **FAST).fit(X, y)
    assert len(resumed.history_) == 2 and resumed.tasks_[0].link_ == "log"


@pytest.mark.parametrize("loss", ["poisson", "gamma"])
@pytest.mark.parametrize("kind", ["net", "ensemble"])
def test_onnx_predicts_what_predict_does(kind, loss):
    ort = pytest.importorskip("onnxruntime")
    pytest.importorskip("skl2onnx")
    from skmtl.export import onnx_inputs, to_onnx

    X, y, _ = make_data(loss, n=150, missing=0.3)
    model = (MultiTaskNet(tasks=spec(loss), **FAST) if kind == "net" else MultiTaskEnsemble(
        [MultiTaskNet(tasks=spec(loss), **FAST), MultiTaskNet(**FAST)], cv=3, random_state=0))
    model.fit(X, y)
    session = ort.InferenceSession(to_onnx(model, X.iloc[:5]).SerializeToString(),
                                   providers=["CPUExecutionProvider"])
    names = [o.name for o in session.get_outputs()]
    got = dict(zip(names, session.run(None, onnx_inputs(session, X))))
    np.testing.assert_allclose(got["visits"], model.predict(X)["visits"], rtol=1e-5, atol=1e-6)
