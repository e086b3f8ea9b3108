"""Task losses against torch's implementations and hand computations."""

import numpy as np
import pandas as pd
import pytest
import torch
import torch.nn.functional as F
from sklearn.base import clone

from skmtl import MultiTaskNet
from skmtl.losses import BCELoss, CrossEntropyLoss, DiceLoss, FocalLoss, HuberLoss, L1Loss, MSELoss
from skmtl.tasks import Classification, MultiLabel, Regression

torch.manual_seed(0)
LOGITS = torch.randn(8, 3)
CLASSES = torch.tensor([0, 1, 2, 2, 2, 2, 1, 2.0])[:, None]
ML_LOGITS = torch.randn(8, 4)
ML_TARGET = (torch.rand(8, 4) > 0.6).float()


def ones(target):
    """Row weights of 1 (no sample weights)."""
    return torch.ones(len(target))


def test_cross_entropy_balanced_weights_match_torch():
    loss = CrossEntropyLoss(class_weight="balanced").fit(CLASSES.numpy(), 3)
    counts = np.array([1, 2, 5])
    expected_w = 8 / (3 * counts)
    np.testing.assert_allclose(loss.weight_, expected_w, rtol=1e-6)
    value, _ = loss(LOGITS, CLASSES, ones(CLASSES))
    expected = F.cross_entropy(LOGITS, CLASSES[:, 0].long(), weight=torch.tensor(expected_w).float())
    assert value.item() == pytest.approx(expected.item(), rel=1e-5)
    assert loss is not CrossEntropyLoss(class_weight="balanced")  # fit returns a copy


def test_cross_entropy_masks_missing_and_smooths_labels():
    target = CLASSES.clone()
    target[[0, 3]] = float("nan")
    value, count = CrossEntropyLoss(label_smoothing=0.1)(LOGITS, target, ones(target))
    keep = [1, 2, 4, 5, 6, 7]
    expected = F.cross_entropy(LOGITS[keep], CLASSES[keep, 0].long(), label_smoothing=0.1)
    assert value.item() == pytest.approx(expected.item(), rel=1e-5) and int(count) == 6


def test_focal_with_gamma_zero_is_cross_entropy_and_down_weights_easy_rows():
    ce, _ = CrossEntropyLoss()(LOGITS, CLASSES, ones(CLASSES))
    focal0, _ = FocalLoss(gamma=0.0).fit(CLASSES.numpy(), 3)(LOGITS, CLASSES, ones(CLASSES))
    assert focal0.item() == pytest.approx(ce.item(), rel=1e-5)
    p = torch.softmax(LOGITS, 1).gather(1, CLASSES.long())[:, 0]
    expected = (-(1 - p) ** 2 * torch.log(p)).mean()
    focal2, _ = FocalLoss(gamma=2.0).fit(CLASSES.numpy(), 3)(LOGITS, CLASSES, ones(CLASSES))
    assert focal2.item() == pytest.approx(expected.item(), rel=1e-5)


def test_binary_focal_alpha_and_weighted_focal():
    loss = FocalLoss(gamma=0.0).fit(ML_TARGET.numpy(), 4)
    bce = F.binary_cross_entropy_with_logits(ML_LOGITS, ML_TARGET)
    assert loss(ML_LOGITS, ML_TARGET, ones(ML_TARGET))[0].item() == pytest.approx(bce.item(), rel=1e-5)
    p = torch.sigmoid(ML_LOGITS)
    p_t = torch.where(ML_TARGET > 0, p, 1 - p)
    a_t = torch.where(ML_TARGET > 0, 0.25, 0.75)
    expected = (-a_t * (1 - p_t) ** 2 * torch.log(p_t)).mean()
    value = FocalLoss(gamma=2.0, alpha=0.25).fit(ML_TARGET.numpy(), 4)(ML_LOGITS, ML_TARGET, ones(ML_TARGET))[0]
    assert value.item() == pytest.approx(expected.item(), rel=1e-5)
    weighted = FocalLoss(gamma=2.0, class_weight="balanced").fit(ML_TARGET.numpy(), 4)
    positives = ML_TARGET.sum(0)
    torch.testing.assert_close(weighted.weight_, (8 - positives) / positives.clamp(min=1))


def test_bce_balanced_pos_weight_matches_torch():
    loss = BCELoss(pos_weight="balanced").fit(ML_TARGET.numpy(), 4)
    pos_weight = (8 - ML_TARGET.sum(0)) / ML_TARGET.sum(0).clamp(min=1)
    expected = F.binary_cross_entropy_with_logits(ML_LOGITS, ML_TARGET, pos_weight=pos_weight)
    assert loss(ML_LOGITS, ML_TARGET, ones(ML_TARGET))[0].item() == pytest.approx(expected.item(), rel=1e-5)


def test_soft_dice_value():
    logits = torch.tensor([[10.0, -10.0], [10.0, 10.0], [-10.0, -10.0]])
    target = torch.tensor([[1.0, 0.0], [1.0, 1.0], [0.0, float("nan")]])
    value, count = DiceLoss(smooth=0.0)(logits, target, ones(target))
    assert value.item() == pytest.approx(0.0, abs=1e-4) and int(count) == 5
    p = torch.sigmoid(ML_LOGITS)
    dice = (2 * (p * ML_TARGET).sum(0) + 1) / (p.sum(0) + ML_TARGET.sum(0) + 1)
    assert DiceLoss()(ML_LOGITS, ML_TARGET, ones(ML_TARGET))[0].item() == pytest.approx(
        (1 - dice.mean()).item(), rel=1e-5)


def test_regression_losses_match_torch():
    out, target = torch.randn(10, 1) * 3, torch.randn(10, 1)
    assert HuberLoss(delta=0.5)(out, target, ones(target))[0].item() == pytest.approx(
        F.huber_loss(out, target, delta=0.5).item())
    target[2] = float("nan")
    keep = [i for i in range(10) if i != 2]
    assert L1Loss()(out, target, ones(target))[0].item() == pytest.approx(
        (out[keep] - target[keep]).abs().mean().item(), rel=1e-6)


def test_losses_through_task_specs_and_clone():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(200, 5))
    y = pd.DataFrame({
        "r": X[:, 0] + (rng.rand(200) < 0.05) * 20.0,  # a few outliers
        "c": np.where(X[:, 1] > 1.0, "rare", "common"),
        "a": (X[:, 2] > 0).astype(int), "b": (X[:, 3] > 0.5).astype(int),
    })
    tasks = [Regression("r", loss=HuberLoss()), Classification("c", loss=FocalLoss(class_weight="balanced")),
             MultiLabel(["a", "b"], loss=DiceLoss())]
    est = MultiTaskNet(tasks=tasks, max_epochs=30, lr=1e-2, device="cpu", random_state=0).fit(X, y)
    assert est.tasks_[1].classes_.tolist() == ["common", "rare"]
    assert est.tasks_[1].loss_.weight_[1] > est.tasks_[1].loss_.weight_[0]  # "rare" weighs more
    assert tasks[1].loss.__dict__.get("weight_") is None  # the user's spec is untouched
    scores = est.score_tasks(X, y)
    assert scores["c"] > 0.85 and scores["a+b"] > 0.85, scores
    twin = clone(est)
    assert twin.tasks[1].loss is not tasks[1].loss
    assert twin.tasks[1].loss.get_params() == {"alpha": None, "class_weight": "balanced", "gamma": 2.0}


@pytest.mark.parametrize("loss", [
    MSELoss(), HuberLoss(delta=0.5), L1Loss(), CrossEntropyLoss(),
    CrossEntropyLoss(class_weight="balanced", label_smoothing=0.1),
    CrossEntropyLoss(label_smoothing=0.2), BCELoss(), BCELoss(pos_weight="balanced"),
    FocalLoss(gamma=2.0), DiceLoss(),
], ids=lambda loss: repr(loss))
def test_dense_path_equals_the_masked_path_with_unit_weights(loss):
    """The training step's fast path (all labels, weights 1) must equal the masked loss."""
    generator = torch.Generator().manual_seed(0)
    if "regression" in loss.kinds:
        output, target = torch.randn(16, 1, generator=generator), torch.randn(16, 1, generator=generator)
    elif loss.kinds == frozenset({"multilabel"}) or isinstance(loss, BCELoss):
        output = torch.randn(16, 4, generator=generator)
        target = (torch.rand(16, 4, generator=generator) > 0.5).float()
    else:
        output = torch.randn(16, 3, generator=generator)
        target = torch.randint(0, 3, (16, 1), generator=generator).float()
    fitted = loss.fit(target.numpy(), output.shape[1])
    torch.testing.assert_close(fitted.dense(output, target), fitted(output, target, ones(target))[0])
