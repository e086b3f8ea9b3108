"""Training behaviour: masking, history, determinism, early stopping, data path."""

import numpy as np
import pandas as pd
import pytest
import torch

from skmtl import MultiTaskClassifier, MultiTaskNet, MultiTaskRegressor
from skmtl._device import resolve_device
from skmtl._training import TensorBatchIterator, TensorData
from skmtl.tasks import Classification, Regression

FAST = dict(hidden_layer_sizes=(16,), max_epochs=5, batch_size=32, random_state=0, device="cpu")


def encoded(est, y):
    """y as the training step sees it: encoded targets, then one weight column per task."""
    targets = est.taskset_.encode(y)
    return torch.tensor(np.concatenate([targets, np.ones((len(targets), len(est.tasks_)),
                                                         dtype=np.float32)], axis=1))


def make_data(n=200, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.normal(size=(n, 5))
    y = pd.DataFrame(
        {
            "r": X[:, 0] + 0.1 * rng.normal(size=n),
            "c": np.where(X[:, 1] > 0, "pos", "neg"),
        }
    )
    return X, y


def test_history_records_per_task_losses_each_epoch():
    X, y = make_data()
    est = MultiTaskNet(early_stopping=True, **FAST).fit(X, y)
    assert len(est.history_) == est.n_epochs_ == 5
    for key in ["train_loss", "valid_loss", "train_loss_r", "train_loss_c", "valid_loss_r",
                "valid_loss_c", "dur"]:
        values = est.history_[:, key]
        assert len(values) == 5 and np.isfinite(values).all()
    # the total is the weighted sum of the task losses (weights 1)
    row = est.history_[-1]
    assert row["train_loss"] == pytest.approx(row["train_loss_r"] + row["train_loss_c"], rel=1e-4)


@pytest.mark.parametrize("schedule", ["joint", "alternating"])
def test_mlp_attributes_count_every_epoch_of_the_network(schedule):
    """n_iter_ and loss_curve_ (MLPClassifier's names) follow the history, across a
    partial_fit continuation too."""
    X, y = make_data()
    est = MultiTaskNet(schedule=schedule, **FAST).fit(X, y)
    assert est.n_iter_ == est.n_epochs_ == 5
    assert est.loss_curve_ == pytest.approx(list(est.history_[:, "train_loss"]))
    assert all(isinstance(loss, float) for loss in est.loss_curve_)
    est.partial_fit(X, y)
    assert est.n_iter_ == 6 and len(est.loss_curve_) == 6
    assert est.loss_curve_[:5] == pytest.approx(list(est.history_[:5, "train_loss"]))
    est.fit(X, y)  # a new network starts a new count
    assert est.n_iter_ == 5 and len(est.loss_curve_) == 5


def test_task_weight_scales_its_share_of_the_total_loss():
    X, y = make_data()
    est = MultiTaskNet(tasks=[Regression("r", weight=3.0)], **FAST).fit(X, y)
    row = est.history_[0]
    assert row["train_loss"] == pytest.approx(3 * row["train_loss_r"] + row["train_loss_c"], rel=1e-4)


def test_missing_labels_do_not_reach_the_loss():
    """Changing the features of rows whose label is missing leaves that task's loss alone."""
    X, y = make_data(n=64)
    y.loc[:31, "r"] = np.nan  # first half unlabelled for r
    est = MultiTaskNet(**FAST).fit(X, y)
    crit, module = est.net_.criterion_, est.net_.module_
    Xt = torch.tensor(X, dtype=torch.float32)
    target = encoded(est, y)
    loss_r = crit.task_losses(module(Xt), target)[0][0]
    X2 = Xt.clone()
    X2[:32] = 100.0
    loss_r2, loss_c2 = crit.task_losses(module(X2), target)[0]
    assert loss_r2.item() == pytest.approx(loss_r.item(), rel=1e-6)
    assert loss_c2.item() != pytest.approx(crit.task_losses(module(Xt), target)[0][1].item())


def test_masked_mean_matches_mean_over_labelled_rows():
    X, y = make_data(n=40)
    y.loc[::3, "r"] = np.nan
    est = MultiTaskNet(**FAST).fit(X, y)
    crit, module = est.net_.criterion_, est.net_.module_
    out = module(torch.tensor(X, dtype=torch.float32))
    target = encoded(est, y)
    losses, counts = crit.task_losses(out, target)
    labelled = ~torch.isnan(target[:, 0])
    expected = ((out[0][labelled, 0] - target[labelled, 0]) ** 2).mean()
    assert losses[0].item() == pytest.approx(expected.item(), rel=1e-5)
    assert counts.tolist() == [labelled.sum().item(), 40]


def test_rows_and_tasks_from_different_datasets():
    """Two datasets stacked: each labels one task; some rows label nothing."""
    X, y = make_data(n=300)
    y.loc[:149, "c"] = None
    y.loc[150:, "r"] = np.nan
    y.loc[140:159, ["r", "c"]] = np.nan  # 20 rows without any label
    est = MultiTaskNet(**{**FAST, "max_epochs": 40}).fit(X, y)
    scores = est.score_tasks(X, y)
    assert scores["r"] > 0.8 and scores["c"] > 0.8


def test_random_state_gives_identical_fits_and_leaves_global_rng_alone():
    X, y = make_data()
    torch.manual_seed(123)
    before = torch.rand(1)
    torch.manual_seed(123)
    a = MultiTaskNet(dropout=0.2, **FAST).fit(X, y)
    after = torch.rand(1)
    b = MultiTaskNet(dropout=0.2, **FAST).fit(X, y)
    assert before.item() == after.item()
    pd.testing.assert_frame_equal(a.predict(X), b.predict(X))
    for pa, pb in zip(a.predict_proba(X), b.predict_proba(X)):
        np.testing.assert_array_equal(pa, pb)
    c = MultiTaskNet(dropout=0.2, **{**FAST, "random_state": 1}).fit(X, y)
    assert not np.array_equal(a.predict_proba(X)[0], c.predict_proba(X)[0])


def test_early_stopping_stops_and_restores_best_weights():
    X, y = make_data(n=200)
    est = MultiTaskRegressor(
        hidden_layer_sizes=(64,), lr=0.05, max_epochs=200, early_stopping=True, n_iter_no_change=3,
        batch_size=32, random_state=0, device="cpu",
    ).fit(X, y[["r"]])
    valid = est.history_[:, "valid_loss"]
    assert est.n_epochs_ < 200
    best = int(np.argmin(valid))
    assert len(valid) - 1 - best == 3  # stopped n_iter_no_change epochs after the best


def test_early_stopping_restores_weights_of_best_epoch():
    X, y = make_data(n=200)
    from skorch.callbacks import Callback

    class RecordValid(Callback):
        def initialize(self):
            self.states = []
            return self

        def on_epoch_end(self, net, **kwargs):
            self.states.append({k: v.clone() for k, v in net.module_.state_dict().items()})

    recorder = RecordValid()
    est = MultiTaskRegressor(
        hidden_layer_sizes=(64,), lr=0.05, max_epochs=200, early_stopping=True, n_iter_no_change=3,
        batch_size=32, random_state=0, device="cpu", callbacks=[("rec", recorder)],
    ).fit(X, y[["r"]])
    rec = dict(est.net_.callbacks_)["rec"]
    best = int(np.argmin(est.history_[:, "valid_loss"]))
    final = est.net_.module_.state_dict()
    for key, value in final.items():
        torch.testing.assert_close(value, rec.states[best][key])
    assert recorder.__dict__.get("states") is None  # the user's callback was cloned, not mutated


def test_verbose_prints_a_per_epoch_table(capsys):
    X, y = make_data()
    MultiTaskNet(verbose=1, **FAST).fit(X, y)
    out = capsys.readouterr().out
    assert "train_loss_r" in out and "train_loss_c" in out
    assert len([line for line in out.splitlines() if line.strip()[:1].isdigit()]) == 5
    MultiTaskNet(verbose=0, **FAST).fit(X, y)
    assert capsys.readouterr().out == ""


def test_verbose_set_between_calls_is_followed(capsys):
    """Silent fits leave skorch's PrintLog out (it formats a table every epoch); a verbose
    set before a later partial_fit or warm start brings the table back, and back out."""
    X, y = make_data()
    est = MultiTaskNet(verbose=0, **FAST).fit(X, y)
    assert "print_log" not in dict(est.net_.callbacks_)
    est.set_params(verbose=1).partial_fit(X, y)
    out = capsys.readouterr().out
    assert "train_loss_r" in out
    assert len([line for line in out.splitlines() if line.strip()[:1].isdigit()]) == 1
    est.set_params(verbose=0, warm_start=True).fit(X, y)
    assert capsys.readouterr().out == ""
    assert "print_log" not in dict(est.net_.callbacks_)
    assert len(est.history_) == 5 + 1 + 5


def test_device_auto_resolution(monkeypatch):
    assert resolve_device("cpu") == "cpu"
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert resolve_device("auto") == "cuda"
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: False)
    assert resolve_device("auto") == "cpu"
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: True)
    assert resolve_device("auto") == "mps"


def test_batches_are_index_slices_of_one_permutation_per_epoch():
    X = torch.arange(10, dtype=torch.float32)[:, None]
    y = torch.arange(10, dtype=torch.float32)[:, None] * 2
    it = TensorBatchIterator(TensorData(X, y), batch_size=4, shuffle=True)
    batches = list(it)
    assert [len(b[0]) for b in batches] == [4, 4, 2]
    seen = torch.cat([b[0] for b in batches])[:, 0]
    assert sorted(seen.tolist()) == list(range(10))  # a permutation: each row once
    for xb, yb in batches:
        torch.testing.assert_close(yb, xb * 2)  # rows of X and y stay aligned
    ordered = list(TensorBatchIterator(TensorData(X, y), batch_size=4))
    assert ordered[0][0].data_ptr() == X.data_ptr()  # unshuffled batches are views


def test_training_uses_no_dataloader(monkeypatch):
    import torch.utils.data

    def forbidden(*args, **kwargs):
        raise AssertionError("DataLoader used in the training loop")

    monkeypatch.setattr(torch.utils.data.DataLoader, "__iter__", forbidden)
    X, y = make_data()
    est = MultiTaskNet(early_stopping=True, **FAST).fit(X, y)
    assert est.predict(X).shape == (200, 2)


def test_classifier_classes_and_single_task_proba():
    X, y = make_data()
    clf = MultiTaskClassifier(**FAST).fit(X, y["c"])
    assert clf.classes_.tolist() == ["neg", "pos"]
    proba = clf.predict_proba(X)
    assert proba.shape == (200, 2)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    clf2 = MultiTaskClassifier(**FAST).fit(X, pd.DataFrame({"c": y["c"], "k": X[:, 2] > 0}))
    assert [c.tolist() for c in clf2.classes_] == [["neg", "pos"], [False, True]]


def test_regressor_treats_integer_columns_as_regression():
    X, _ = make_data()
    y = (X[:, 0] * 10).round().astype(int)
    reg = MultiTaskRegressor(**FAST).fit(X, y)
    assert isinstance(reg.tasks_[0], Regression)
    assert reg.predict(X).dtype == np.float64
    clf = MultiTaskClassifier(**FAST).fit(X, y % 3)
    assert isinstance(clf.tasks_[0], Classification)


def test_validation_split_without_early_stopping_records_valid_losses():
    X, y = make_data()
    est = MultiTaskNet(validation_fraction=0.2, early_stopping=False, **FAST).fit(X, y)
    assert est.n_epochs_ == 5  # no stopping
    assert np.isfinite(est.history_[:, "valid_loss_r"]).all()
    assert est.history_[-1]["valid_batch_count"] == 2  # 40 held-out rows, batches of 32
    default = MultiTaskNet(early_stopping=False, **FAST).fit(X, y)
    assert "valid_loss" not in default.history_[-1]
    assert default.history_[-1]["train_batch_count"] == 7  # all 200 rows trained on
