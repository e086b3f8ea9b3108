"""batch_size="auto", the max_epochs ConvergenceWarning, lr_schedule and label_smoothing."""

import math
import pickle
import warnings

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning

from skmtl import MultiTaskClassifier, MultiTaskNet
from skmtl._build import auto_batch_size
from skmtl.callbacks._convergence import still_improving
from skmtl.callbacks._lr_schedule import lr_factor
from skmtl.tasks import Classification, MultiLabel

# the tests that check the warning record it themselves
pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

SMALL = {"hidden_layer_sizes": (16,), "random_state": 0}


def make_data(n=200, missing=True, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.normal(size=(n, 4))
    y = pd.DataFrame({
        "r": X[:, 0] + 0.1 * rng.normal(size=n),
        "c": np.where(X[:, 1] > 0, "a", "b"),
        "m": (X[:, 2] > 0.5).astype(float),
    })
    if missing:
        y.loc[::3, "r"] = np.nan
        y.loc[1::4, "c"] = None
    return X, y


def convergence_warnings(record):
    return [w for w in record if issubclass(w.category, ConvergenceWarning)]


def batch_lrs(history, start=0):
    return [b.get("lr") for row in history[start:] for b in row["batches"] if "train_loss" in b]


# -- batch_size="auto" -------------------------------------------------------------------
@pytest.mark.parametrize("n, expected", [
    (1, 32), (150, 32), (1_400, 32), (2_047, 32), (2_048, 64), (4_095, 64), (4_096, 128),
    (8_191, 128), (8_192, 256), (20_000, 256), (131_071, 256), (131_072, 512), (10**6, 512),
])
def test_auto_batch_size_rule(n, expected):
    assert auto_batch_size(n) == expected


def test_batch_size_resolved_per_call():
    X, y = make_data(n=300)
    model = MultiTaskNet(batch_size="auto", max_epochs=1, **SMALL).fit(X, y)
    assert model.batch_size_ == 32 and model.net_.batch_size == 32
    assert len(model.history_[-1]["batches"]) == math.ceil(300 / 32)
    assert model.get_params()["batch_size"] == "auto"
    model.set_params(batch_size=50).partial_fit(X, y)
    assert model.batch_size_ == 50 and len(model.history_[-1]["batches"]) == 6
    default = MultiTaskNet(max_epochs=1, **SMALL).fit(X, y)
    assert default.batch_size == "auto" and default.batch_size_ == 32
    fixed = MultiTaskNet(max_epochs=1, batch_size=256, **SMALL).fit(X, y)
    assert fixed.batch_size_ == 256


def test_auto_batch_size_in_pretraining():
    X, y = make_data(n=100)
    model = MultiTaskNet(batch_size="auto", pretrain="autoencoder", pretrain_epochs=1,
                         max_epochs=1, **SMALL).fit(X, y)
    assert model.pretrain_history_[-1]["batches"].__len__() == math.ceil(100 / 32)


# -- ConvergenceWarning ------------------------------------------------------------------
def test_still_improving_rule():
    assert still_improving([5, 4, 3, 2, 1.5, 1.0], 2, 1e-4)[0]
    assert not still_improving([5, 4, 3, 1, 1, 1], 2, 1e-4)[0]  # plateau
    assert not still_improving([5, 4, 3, 1, 1, 0.99995], 2, 1e-4)[0]  # below tol
    assert not still_improving([1.0], 10, 1e-4)[0]
    # the window is at most half of the epochs
    assert still_improving([3, 2, 1], 10, 1e-4)[0]


def test_warns_once_when_stopped_at_max_epochs_while_improving():
    X, y = make_data()
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        MultiTaskNet(max_epochs=12, batch_size=32, early_stopping=False, **SMALL).fit(X, y)
    found = convergence_warnings(record)
    assert len(found) == 1
    message = str(found[0].message)
    assert "MultiTaskNet" in message and "max_epochs=12" in message
    assert "train_loss" in message and "early_stopping=True" in message
    # without validation rows, a falling training loss may be memorisation
    assert "memorises its rows" in message
    # it points at the user's fit call (this file), not at skorch's callback loop
    assert found[0].filename == __file__


def test_warning_points_at_the_call_inside_a_search():
    from sklearn.model_selection import GridSearchCV

    X, y = make_data(missing=False)
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        GridSearchCV(MultiTaskNet(max_epochs=12, batch_size=32, **SMALL), {"lr": [1e-3]},
                     cv=2).fit(X, y)
    import os

    import skorch

    import skmtl

    libraries = tuple(os.path.dirname(m.__file__) + os.sep for m in (skmtl, skorch))
    found = convergence_warnings(record)
    assert found and not any(w.filename.startswith(libraries) for w in found), (
        [w.filename for w in found])


def test_warning_monitors_validation_loss():
    X, y = make_data()
    with pytest.warns(ConvergenceWarning, match="valid_loss") as record:
        MultiTaskNet(max_epochs=12, batch_size=32, validation_fraction=0.2, **SMALL).fit(X, y)
    # random validation rows: the warning says what grouped rows do to them
    assert "pass fit(..., groups=...) to validate on whole groups" in str(record[0].message)
    assert "memorises its rows" not in str(record[0].message)
    groups = np.arange(len(X)) // 5
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        MultiTaskNet(max_epochs=12, batch_size=32, validation_fraction=0.2, **SMALL).fit(
            X, y, groups=groups)
    assert all("groups=" not in str(w.message) for w in convergence_warnings(caught))
    with warnings.catch_warnings(record=True) as caught:  # training loss: nothing to say
        warnings.simplefilter("always")
        MultiTaskNet(max_epochs=12, batch_size=32, early_stopping=False, **SMALL).fit(X, y)
    assert all("groups=" not in str(w.message) for w in convergence_warnings(caught))


def test_no_warning_on_plateau_early_stop_or_partial_fit():
    X, y = make_data()
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        # loss flat: the weights barely move
        MultiTaskNet(max_epochs=8, lr=1e-9, **SMALL).fit(X, y)
        # stopped by early stopping before max_epochs
        rng = np.random.RandomState(1)
        noise = pd.DataFrame({"r": rng.normal(size=len(X))})
        stopped = MultiTaskNet(max_epochs=300, batch_size=16, lr=1e-2, early_stopping=True,
                               n_iter_no_change=2, **SMALL).fit(X, noise)
        assert stopped.n_epochs_ < 300
        # partial_fit: one epoch a call, never warns
        model = MultiTaskNet(batch_size=32, **SMALL)
        for _ in range(4):
            model.partial_fit(X, y)


def test_warm_start_checks_its_own_epochs():
    X, y = make_data()
    model = MultiTaskNet(max_epochs=12, batch_size=32, warm_start=True, **SMALL)
    with pytest.warns(ConvergenceWarning, match="max_epochs=12"):
        model.fit(X, y)
    model.set_params(max_epochs=6, lr=1e-9)  # flat continuation: no warning
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        model.fit(X, y)
    assert model.n_epochs_ == 18


# -- lr_schedule -------------------------------------------------------------------------
def test_lr_factor():
    assert lr_factor("constant", 7, 10) == 1.0
    assert lr_factor("cosine", 0, 10) == 1.0
    assert lr_factor("cosine", 5, 10) == pytest.approx(0.5)
    assert lr_factor("cosine", 10, 10) == pytest.approx(0.0)
    assert lr_factor("flat_cosine", 4, 10) == 1.0
    assert lr_factor("flat_cosine", 5, 10) == 1.0
    assert lr_factor("flat_cosine", 7, 10) == pytest.approx(0.5 * (1 + math.cos(math.pi * 2 / 5)))


@pytest.mark.parametrize("schedule", ["cosine", "flat_cosine"])
def test_lr_per_step(schedule):
    X, y = make_data(n=100)
    lr = 0.01
    model = MultiTaskNet(lr=lr, lr_schedule=schedule, max_epochs=3, batch_size=32,
                         weighting="uncertainty", early_stopping=False, **SMALL)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X, y)
    total = 3 * 4  # 100 rows / 32 -> 4 steps an epoch
    expected = [lr * lr_factor(schedule, t, total) for t in range(total)]
    assert batch_lrs(model.history_) == pytest.approx(expected)
    if schedule == "cosine":
        assert expected[-1] < 0.03 * lr
    # every group (the uncertainty weighting's log-variances too) is back at lr
    groups = model.net_.optimizer_.param_groups
    assert len(groups) == 2 and all(g["lr"] == lr for g in groups)


def test_lr_schedule_all_groups_follow(monkeypatch):
    X, y = make_data(n=64)
    seen = []
    original = torch.optim.Adam.step

    def step(self, *args, **kwargs):
        seen.append([g["lr"] for g in self.param_groups])
        return original(self, *args, **kwargs)

    monkeypatch.setattr(torch.optim.Adam, "step", step)
    MultiTaskNet(lr=0.01, lr_schedule="cosine", max_epochs=2, batch_size=32,
                 weighting="uncertainty", optimizer=torch.optim.Adam, **SMALL).fit(X, y)
    assert len(seen) == 4 and all(len(set(lrs)) == 1 for lrs in seen)
    assert [lrs[0] for lrs in seen] == pytest.approx([0.01 * lr_factor("cosine", t, 4) for t in range(4)])


def test_constant_schedule_records_nothing():
    X, y = make_data(n=100)
    model = MultiTaskNet(lr=0.01, max_epochs=2, batch_size=32, early_stopping=False,
                         **SMALL).fit(X, y)
    assert batch_lrs(model.history_) == [None] * 8
    assert model.net_.optimizer_.param_groups[0]["lr"] == 0.01


def test_warm_start_restarts_schedule_and_partial_fit_is_constant():
    X, y = make_data(n=100)
    model = MultiTaskNet(lr=0.01, lr_schedule="cosine", max_epochs=2, batch_size=50,
                         warm_start=True, **SMALL)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X, y)
        model.set_params(lr=0.02, max_epochs=3).fit(X, y)  # a new schedule from the new lr
    assert batch_lrs(model.history_, start=2) == pytest.approx(
        [0.02 * lr_factor("cosine", t, 6) for t in range(6)])
    model.partial_fit(X, y)
    assert batch_lrs(model.history_, start=5) == [None, None]
    assert model.net_.optimizer_.param_groups[0]["lr"] == 0.02


def test_checkpoint_resume_continues_schedule(tmp_path):
    from skorch.callbacks import Callback

    class CrashIn(Callback):
        def on_batch_end(self, net, training=False, **kwargs):
            if training and len(net.history) == 3:
                raise RuntimeError("simulated crash")

    X, y = make_data(n=100)
    params = dict(lr=0.01, lr_schedule="cosine", max_epochs=4, batch_size=50, **SMALL)
    uninterrupted = MultiTaskNet(**params).fit(X, y)
    with pytest.raises(RuntimeError, match="simulated crash"):
        MultiTaskNet(checkpoint=tmp_path, callbacks=[CrashIn()], **params).fit(X, y)
    resumed = MultiTaskNet(checkpoint=tmp_path, **params).fit(X, y)
    assert batch_lrs(resumed.history_) == pytest.approx(batch_lrs(uninterrupted.history_))
    assert resumed.history_[:, "train_loss"] == pytest.approx(uninterrupted.history_[:, "train_loss"])


# -- label_smoothing ---------------------------------------------------------------------
def test_label_smoothing_hand_computed():
    X = np.zeros((4, 2))
    y = pd.DataFrame({"c": [0, 1, 2, np.nan], "m1": [1.0, 0.0, np.nan, 1.0],
                      "m2": [0.0, 1.0, 1.0, 0.0]})
    tasks = [Classification("c"), MultiLabel(["m1", "m2"])]
    eps = 0.2
    model = MultiTaskClassifier(tasks, label_smoothing=eps, max_epochs=1, **SMALL).fit(X, y)
    criterion = model.net_.criterion_
    logits = torch.tensor([[2.0, 0.0, -1.0]] * 4)
    ml_logits = torch.tensor([[1.5, -0.5]] * 4)
    targets = torch.tensor([[0, 1, 0], [1, 0, 1], [2, np.nan, 1], [np.nan, 1, 0]],
                           dtype=torch.float32)
    y_true = torch.cat([targets, torch.ones(4, 2)], dim=1)
    smooth, counts = criterion.task_losses([logits, ml_logits], y_true, training=True)
    plain, _ = criterion.task_losses([logits, ml_logits], y_true)
    log_p = torch.log_softmax(logits[0], 0).tolist()
    ce_plain = -np.mean([log_p[0], log_p[1], log_p[2]])
    # smoothed target: 1 - eps + eps/3 on the true class, eps/3 elsewhere
    ce_smooth = np.mean([-(1 - eps) * log_p[k] - eps / 3 * sum(log_p) for k in range(3)])
    assert plain[0].item() == pytest.approx(ce_plain, rel=1e-5)
    assert smooth[0].item() == pytest.approx(ce_smooth, rel=1e-5)

    def bce(z, t):
        s = 1 / (1 + math.exp(-z))
        return -(t * math.log(s) + (1 - t) * math.log(1 - s))

    entries = [(1.5, 1), (-0.5, 0), (1.5, 0), (-0.5, 1), (-0.5, 1), (1.5, 1), (-0.5, 0)]
    assert plain[1].item() == pytest.approx(np.mean([bce(z, t) for z, t in entries]), rel=1e-5)
    assert smooth[1].item() == pytest.approx(
        np.mean([bce(z, t * (1 - eps) + eps / 2) for z, t in entries]), rel=1e-5)
    assert counts.tolist() == [3, 7]


def test_label_smoothing_keeps_predictions_and_score():
    X, y = make_data()
    kwargs = dict(tasks={"c": "classification", "m": "classification"}, max_epochs=15,
                  batch_size=32, validation_fraction=0.2, **SMALL)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        plain = MultiTaskNet(**kwargs).fit(X, y)
        smooth = MultiTaskNet(label_smoothing=0.2, **kwargs).fit(X, y)
    # the training loss is smoothed: never below the entropy of the smoothed target
    floor = -(0.9 * math.log(0.9) + 0.1 * math.log(0.1))
    assert min(smooth.history_[:, "train_loss_c"]) >= floor - 1e-6
    assert smooth.history_[-1, "train_loss_c"] > plain.history_[-1, "train_loss_c"]
    pred = smooth.predict(X)
    assert set(pred["c"].dropna()) <= {"a", "b"} and set(pred["m"].dropna()) <= {0.0, 1.0}
    proba = smooth.predict_proba(X)
    proba = proba.values() if isinstance(proba, dict) else proba
    assert all(np.allclose(np.asarray(p).sum(axis=1), 1) for p in proba)
    assert 0 < smooth.score(X, y) <= 1
    # validation steps use the unsmoothed losses
    assert smooth.net_.criterion_.train_losses[1] is not smooth.net_.criterion_.losses[1]
    assert smooth.net_.criterion_.train_losses[0] is smooth.net_.criterion_.losses[0]


def test_label_smoothing_warm_start_updates_criterion():
    X, y = make_data()
    model = MultiTaskNet(max_epochs=1, warm_start=True, **SMALL).fit(X, y)
    assert model.net_.criterion_.label_smoothing == 0
    model.set_params(label_smoothing=0.1).fit(X, y)
    assert model.net_.criterion_.label_smoothing == 0.1
    model.set_params(label_smoothing=0.0).partial_fit(X, y)
    assert model.net_.criterion_.label_smoothing == 0


# -- clone and pickle --------------------------------------------------------------------
def test_clone_and_pickle():
    X, y = make_data()
    model = MultiTaskNet(batch_size="auto", lr_schedule="flat_cosine", label_smoothing=0.1,
                         max_epochs=3, **SMALL)
    copy = clone(model)
    assert copy.get_params()["batch_size"] == "auto"
    assert copy.get_params()["lr_schedule"] == "flat_cosine"
    assert copy.get_params()["label_smoothing"] == 0.1
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X, y)
    restored = pickle.loads(pickle.dumps(model))
    pd.testing.assert_frame_equal(restored.predict(X), model.predict(X))
    assert restored.batch_size_ == model.batch_size_ == 32
    restored.partial_fit(X, y)
    assert restored.n_epochs_ == 4
    assert not hasattr(clone(model), "batch_size_")


def test_invalid_values():
    X, y = make_data(n=20)
    for params in ({"batch_size": "big"}, {"lr_schedule": "linear"}, {"label_smoothing": 1.0}):
        with pytest.raises(ValueError):
            MultiTaskNet(**params).fit(X, y)


def test_early_stopping_auto_starts_at_100_labelled_rows():
    # benchmarks/defaults.py, round 4: early stopping helped on 8 of 9 small tables (144 to
    # 602 training rows); "auto" holds out a validation split from 100 rows with a label
    from skmtl._base import EARLY_STOPPING_ROWS

    assert EARLY_STOPPING_ROWS == 100
    X, y = make_data(n=120, missing=False)
    fit = {"max_epochs": 2, **SMALL}
    assert MultiTaskNet(**fit).fit(X[:100], y[:100]).early_stopping_ is True
    small = MultiTaskNet(**fit).fit(X[:99], y[:99])
    assert small.early_stopping_ is False and "valid_loss" not in small.history_[-1]
    # rows without any label do not count: 110 rows, 11 of them unlabelled
    unlabelled = y[:110].copy()
    unlabelled.iloc[:11] = np.nan
    assert MultiTaskNet(**fit).fit(X[:110], unlabelled).early_stopping_ is False
    # nor do rows of weight 0 (an entry of weight 0 is a missing label)
    weights = np.ones(110)
    weights[:11] = 0
    assert MultiTaskNet(**fit).fit(X[:110], y[:110], sample_weight=weights).early_stopping_ is False
    # partial_fit never stops early; True / False force it either way
    assert MultiTaskNet(**fit).partial_fit(X, y).early_stopping_ is False
    assert MultiTaskNet(early_stopping=True, **fit).fit(X[:50], y[:50]).early_stopping_ is True
    assert MultiTaskNet(early_stopping=False, **fit).fit(X, y).early_stopping_ is False
