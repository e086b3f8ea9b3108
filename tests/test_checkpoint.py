"""Resumable fits: ``checkpoint=`` saves each epoch, and a fit on the same directory resumes."""

import json
import os
import pickle
import re
import shutil
import signal
import subprocess
import sys
import textwrap

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.base import clone
from sklearn.model_selection import KFold, cross_validate
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from skorch.callbacks import Callback, Checkpoint

from skmtl import MultiTaskEnsemble, MultiTaskNet, TaskGrouping
from skmtl.callbacks._resume import CHECKPOINT_FILE, read_checkpoint
from skmtl.model_selection import cross_val_predict
from skmtl.weighting import NashMTL
from skmtl.weighting._torchjd import missing_solvers

FAST = dict(hidden_layer_sizes=(8,), max_epochs=6, batch_size=32, device="cpu")


def make_data(n=120, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.normal(size=(n, 5))
    y = pd.DataFrame({"r": X[:, 0] + 0.1 * rng.normal(size=n),
                      "c": np.where(X[:, 1] > 0, "pos", "neg")})
    return X, y


def saved_state(directory):
    return torch.load(os.path.join(directory, CHECKPOINT_FILE), weights_only=True)


def saved_history(directory):
    return json.loads(saved_state(directory)["history"])


def assert_same_predictions(a, b, X):
    pa, pb = a.predict(X), b.predict(X)
    np.testing.assert_array_equal(pa["r"], pb["r"])
    np.testing.assert_array_equal(pa["c"], pb["c"])


class CrashIn(Callback):
    """Raise during a training batch of epoch ``epoch`` (a crash after epoch - 1 was saved)."""

    def __init__(self, epoch):
        self.epoch = epoch

    def on_batch_end(self, net, training=False, **kwargs):
        if training and len(net.history) == self.epoch:
            raise RuntimeError("simulated crash")


class EpochCounter(Callback):
    def initialize(self):
        self.epochs_ = 0
        return self

    def on_epoch_begin(self, net, **kwargs):
        self.epochs_ += 1


def epochs_run(est):
    return dict(est.net_.callbacks_)["EpochCounter"].epochs_


def test_refit_on_finished_checkpoint_trains_nothing_and_returns_the_same_model(tmp_path):
    X, y = make_data()
    # random_state=None: the second fit must take the seeds from the checkpoint
    first = MultiTaskNet(checkpoint=tmp_path, **FAST).fit(X, y)
    assert os.listdir(tmp_path) == [CHECKPOINT_FILE]  # no temporary file left behind
    second = MultiTaskNet(checkpoint=str(tmp_path), callbacks=[EpochCounter()], **FAST).fit(X, y)
    assert epochs_run(second) == 0
    assert (second.seed_, second.split_seed_) == (first.seed_, first.split_seed_)
    assert len(second.history_) == 6
    assert second.history_[:, "train_loss"] == first.history_[:, "train_loss"]
    assert_same_predictions(first, second, X)
    # a larger max_epochs trains only the missing epochs
    longer = MultiTaskNet(checkpoint=tmp_path, callbacks=[EpochCounter()],
                          **dict(FAST, max_epochs=8)).fit(X, y)
    assert epochs_run(longer) == 2 and len(longer.history_) == 8


KILLED_SCRIPT = """
import os, signal, sys
import numpy as np, pandas as pd, torch
torch.set_num_threads(1)
from skorch.callbacks import Callback
from skmtl import MultiTaskNet

class KillIn(Callback):
    def __init__(self, epoch):
        self.epoch = epoch

    def on_batch_end(self, net, training=False, **kwargs):
        if training and len(net.history) == self.epoch and len(net.history[-1]["batches"]) == 2:
            os.kill(os.getpid(), signal.SIGKILL)

directory = sys.argv[1]
data = np.load(sys.argv[2])
X, y = data["X"], pd.DataFrame({"r": data["r"], "c": data["c"]})
MultiTaskNet(checkpoint=directory, callbacks=[KillIn(4)], random_state=0,
             **{FAST}).fit(X, y)
print("not killed")
"""


def test_process_killed_mid_epoch_resumes_and_loses_at_most_one_epoch(tmp_path):
    X, y = make_data()
    np.savez(tmp_path / "data.npz", X=X, r=y["r"].to_numpy(), c=y["c"].to_numpy(str))
    directory = tmp_path / "checkpoint"
    script = textwrap.dedent(KILLED_SCRIPT).replace("{FAST}", repr(FAST))
    env = dict(os.environ, OMP_NUM_THREADS="1")
    proc = subprocess.run([sys.executable, "-c", script, str(directory),
                           str(tmp_path / "data.npz")], capture_output=True,
                          text=True, env=env, timeout=120)
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    assert "not killed" not in proc.stdout
    saved = saved_history(directory)
    assert len(saved) == 3  # epochs 1-3 saved, the 4th (killed mid-way) lost
    assert sorted(os.listdir(directory)) == [CHECKPOINT_FILE]

    resumed = MultiTaskNet(checkpoint=directory, callbacks=[EpochCounter()], random_state=0,
                           **FAST).fit(X, y)
    assert len(resumed.history_) == 6 and epochs_run(resumed) == 3
    assert resumed.history_[:3, "train_loss"] == [row["train_loss"] for row in saved]
    # the RNG, optimizer and weights are restored: the resumed fit is the uninterrupted one
    # (measured: identical predictions and losses, max abs difference 0.0, on CPU)
    uninterrupted = MultiTaskNet(random_state=0, **FAST).fit(X, y)
    assert resumed.history_[:, "train_loss"] == uninterrupted.history_[:, "train_loss"]
    assert_same_predictions(resumed, uninterrupted, X)


class Evil:
    def __reduce__(self):
        return (os.mkdir, (self.target,))


@pytest.mark.parametrize("writer", ["torch.save", "pickle.dump"])
def test_tampered_checkpoint_is_refused_without_running_code(tmp_path, writer):
    X, y = make_data()
    MultiTaskNet(checkpoint=tmp_path, **dict(FAST, max_epochs=1)).fit(X, y)
    evil = Evil()
    evil.target = str(tmp_path / "pwned")
    payload = {"format": "skmtl-checkpoint", "version": 1, "module": evil}
    with open(tmp_path / CHECKPOINT_FILE, "wb") as file:
        torch.save(payload, file) if writer == "torch.save" else pickle.dump(payload, file, 2)
    with pytest.raises(ValueError, match=r"Refusing to load the checkpoint.*weights_only=True\) "
                                         r"rejected it.*Nothing in it was run"):
        MultiTaskNet(checkpoint=tmp_path, **FAST).fit(X, y)
    assert not (tmp_path / "pwned").exists()


def test_corrupt_or_foreign_checkpoint_is_a_clear_error(tmp_path):
    X, y = make_data()
    path = tmp_path / CHECKPOINT_FILE
    path.write_bytes(b"not a checkpoint")
    with pytest.raises(ValueError, match="Refusing to load the checkpoint.*damaged"):
        MultiTaskNet(checkpoint=tmp_path, **FAST).fit(X, y)
    torch.save({"weights": torch.zeros(2)}, path)
    with pytest.raises(ValueError, match="is not an skmtl checkpoint"):
        read_checkpoint(str(path))


def test_stale_temporary_file_from_a_killed_write_is_ignored(tmp_path):
    X, y = make_data()
    first = MultiTaskNet(checkpoint=tmp_path, **FAST).fit(X, y)
    stale = tmp_path / f"{CHECKPOINT_FILE}.abc123.tmp"
    stale.write_bytes(b"half a file")
    second = MultiTaskNet(checkpoint=tmp_path, **FAST).fit(X, y)
    assert_same_predictions(first, second, X)
    assert sorted(os.listdir(tmp_path)) == [CHECKPOINT_FILE]


def test_different_tasks_or_network_refuse_to_resume(tmp_path):
    X, y = make_data()
    MultiTaskNet(checkpoint=tmp_path, **dict(FAST, max_epochs=1)).fit(X, y)
    other = y.assign(c=np.where(X[:, 1] > 0, "up", "down"))
    with pytest.raises(ValueError, match=r"different fit.*task 'c': classes \['neg', 'pos'\] "
                                         r"in the checkpoint, \['down', 'up'\] now.*"
                                         "another checkpoint directory or delete"):
        MultiTaskNet(checkpoint=tmp_path, **FAST).fit(X, other)
    with pytest.raises(ValueError, match=r"tasks \['r', 'c'\] in the checkpoint, \['r'\] now"):
        MultiTaskNet(checkpoint=tmp_path, **FAST).fit(X, y[["r"]])
    with pytest.raises(ValueError, match="task 'r': mean"):
        MultiTaskNet(checkpoint=tmp_path, **FAST).fit(X, y.assign(r=y["r"] + 1))
    with pytest.raises(ValueError, match=re.escape(
            "hidden_layer_sizes=(8,) in the checkpoint, (4,) now")):
        MultiTaskNet(checkpoint=tmp_path, **dict(FAST, hidden_layer_sizes=(4,))).fit(X, y)
    # another learning rate or weighting is another fit, even with the same network
    with pytest.raises(ValueError, match=re.escape(
            "lr=0.001 in the checkpoint, 0.01 now; weighting='equal' in the checkpoint, "
            "'uncertainty' now")):
        MultiTaskNet(checkpoint=tmp_path, lr=0.01, weighting="uncertainty", **FAST).fit(X, y)
    # what a resume may change: how long it trains, what it prints and calls back
    resumed = MultiTaskNet(checkpoint=tmp_path, verbose=0, callbacks=[EpochCounter()],
                           **FAST).fit(X, y)
    assert epochs_run(resumed) == 5 and len(resumed.history_) == 6
    with pytest.raises(ValueError, match="partial_fit"):
        MultiTaskNet(checkpoint=tmp_path, **FAST).partial_fit(X, y)


def test_resume_with_missing_labels_uncertainty_and_early_stopping(tmp_path):
    X, y = make_data()
    y.loc[::3, "r"] = np.nan
    y.loc[1::4, "c"] = None
    params = dict(FAST, weighting="uncertainty", early_stopping=True, random_state=0)
    with pytest.raises(RuntimeError, match="simulated crash"):
        MultiTaskNet(checkpoint=tmp_path, callbacks=[CrashIn(4)], **params).fit(X, y)
    saved = saved_state(tmp_path)
    assert len(json.loads(saved["history"])) == 3
    assert saved["balancer"]["log_vars"].abs().sum() > 0  # trained, so restoring matters

    resumed = MultiTaskNet(checkpoint=tmp_path, callbacks=[EpochCounter()], **params).fit(X, y)
    uninterrupted = MultiTaskNet(**params).fit(X, y)
    assert epochs_run(resumed) == 3 and len(resumed.history_) == 6
    torch.testing.assert_close(resumed.net_.train_split.valid_index_,
                               uninterrupted.net_.train_split.valid_index_, rtol=0, atol=0)
    for key in ("train_loss", "valid_loss", "train_loss_r", "valid_loss_c"):
        assert resumed.history_[:, key] == uninterrupted.history_[:, key]
    torch.testing.assert_close(resumed.net_.balancer_.log_vars,
                               uninterrupted.net_.balancer_.log_vars, rtol=0, atol=0)
    assert_same_predictions(resumed, uninterrupted, X)


@pytest.mark.skipif(bool(missing_solvers("nash_mtl")), reason="needs skmtl[nash]")
def test_stateful_aggregator_resumes_where_it_stopped(tmp_path):
    """torchjd's NashMTL starts each solve from its last solution and counts steps for
    update_weights_every: the checkpoint keeps that state for every set of present tasks,
    so the resumed fit is the uninterrupted one (without it: 0.026 apart, update every 4)."""
    X, y = make_data(n=160)
    y["k"] = X[:, 2]
    y.loc[y.index % 10 != 0, "k"] = np.nan  # batches without k: an aggregator of their own
    params = dict(FAST, batch_size=8, weighting=NashMTL(update_weights_every=4),
                  random_state=0)
    with pytest.raises(RuntimeError, match="simulated crash"):
        MultiTaskNet(checkpoint=tmp_path, callbacks=[CrashIn(4)], **params).fit(X, y)
    saved = saved_state(tmp_path)["balancer"]["_extra_state"]
    assert set(saved) == {"0,1,2", "0,1"}  # keyed by the tasks present
    assert all(state["step"] > 0 for state in saved.values())

    resumed = MultiTaskNet(checkpoint=tmp_path, **params).fit(X, y)
    uninterrupted = MultiTaskNet(**params).fit(X, y)
    assert resumed.history_[:, "train_loss"] == uninterrupted.history_[:, "train_loss"]
    assert_same_predictions(resumed, uninterrupted, X)
    for tasks, aggregator in uninterrupted.net_.balancer_._aggregators.items():
        restored = resumed.net_.balancer_._aggregators[tasks].weighting
        assert restored.step == aggregator.weighting.step
        np.testing.assert_array_equal(restored.prvs_alpha, aggregator.weighting.prvs_alpha)

    # a checkpoint written before the aggregators' states, the data's fingerprint, the
    # seed and the parameters were saved still resumes
    state = saved_state(tmp_path)
    del state["balancer"]["_extra_state"]
    description = json.loads(state["description"])
    assert description["data"] and description["params"]["lr"] == "0.001"
    for key in ("data", "random_state", "params"):
        del description[key]
    state["description"] = json.dumps(description)
    state["epochs"], state["stopped_early"] = 3, False
    state["history"] = json.dumps(json.loads(state["history"])[:3])
    torch.save(state, tmp_path / CHECKPOINT_FILE)
    again = MultiTaskNet(checkpoint=tmp_path, callbacks=[EpochCounter()], **params).fit(X, y)
    assert epochs_run(again) == 3 and len(again.history_) == 6


def test_a_fit_on_other_rows_or_another_seed_refuses_the_checkpoint(tmp_path):
    """A classification-only model of equal-sized folds has the same tasks and shapes in
    every fold: the data's fingerprint tells the folds apart (before, the second fold
    resumed the first fold's finished model and scored it), and an int random_state
    that differs from the checkpoint's is another fit too."""
    X, y = make_data(n=160)
    y = y[["c"]]
    folds = KFold(4)
    with pytest.raises(ValueError, match=re.escape(
            "the training data (X, y, sample_weight or groups) differ")) as caught:
        cross_validate(MultiTaskNet(checkpoint=tmp_path / "cv", **FAST), X, y, cv=folds,
                       error_score="raise")
    assert "give them checkpoint=None" in str(caught.value)
    MultiTaskNet(checkpoint=tmp_path / "w", **FAST).fit(X, y)
    with pytest.raises(ValueError, match=re.escape("the training data")):
        MultiTaskNet(checkpoint=tmp_path / "w", **FAST).fit(X, y, sample_weight=np.arange(160.0))
    # the groups choose the validation rows: other groups, another fit
    MultiTaskNet(checkpoint=tmp_path / "g", **FAST).fit(X, y, groups=np.arange(160) // 4)
    with pytest.raises(ValueError, match=re.escape("the training data")):
        MultiTaskNet(checkpoint=tmp_path / "g", **FAST).fit(X, y, groups=np.arange(160) // 8)
    MultiTaskNet(checkpoint=tmp_path / "g", **FAST).fit(X, y, groups=(np.arange(160) // 4)
                                                        .astype(str).astype(object))
    MultiTaskNet(checkpoint=tmp_path / "s", random_state=0, **FAST).fit(X, y)
    with pytest.raises(ValueError, match=re.escape("random_state 0 in the checkpoint, 1 now")):
        MultiTaskNet(checkpoint=tmp_path / "s", random_state=1, **FAST).fit(X, y)
    # the same data (a copy) and seed resume; random_state=None takes the checkpoint's seeds
    again = MultiTaskNet(checkpoint=tmp_path / "s", random_state=0, callbacks=[EpochCounter()],
                         **FAST).fit(X.copy(), y.copy())
    assert epochs_run(again) == 0
    assert MultiTaskNet(checkpoint=tmp_path / "s", **FAST).fit(X, y).seed_ == again.seed_


def test_ensemble_and_grouping_members_checkpoint_in_subdirectories(tmp_path):
    """Each network of a MultiTaskEnsemble or TaskGrouping is one fit: it gets a
    subdirectory of the checkpoint (before, they shared one file, and every member after
    the first resumed the first's finished fit: an ensemble of copies)."""
    X, y = make_data()
    base = MultiTaskNet(checkpoint=tmp_path / "ens", **FAST)
    ensemble = MultiTaskEnsemble(base, n_seeds=3, random_state=0).fit(X, y)
    assert sorted(os.listdir(tmp_path / "ens")) == ["member0", "member1", "member2"]
    first, *others = [m.predict(X)["r"] for m in ensemble.estimators_]
    assert all(np.abs(first - other).max() > 1e-3 for other in others)
    # a crash in member 1: member 0 is read back, member 1 resumes, member 2 trains
    crashing = MultiTaskEnsemble(clone(base), n_seeds=3, random_state=0)
    shutil.rmtree(tmp_path / "ens" / "member1")
    shutil.rmtree(tmp_path / "ens" / "member2")
    with pytest.raises(RuntimeError, match="simulated crash"):
        crashing.set_params(estimators__callbacks=[CrashIn(4)]).fit(X, y)
    assert len(saved_history(tmp_path / "ens" / "member1")) == 3
    resumed = MultiTaskEnsemble(base, n_seeds=3, random_state=0).fit(X, y)
    for ours, theirs in zip(resumed.estimators_, ensemble.estimators_):
        assert_same_predictions(ours, theirs, X)
    # unseeded, the members draw their seeds, and a second fit takes them back
    unseeded = MultiTaskEnsemble(MultiTaskNet(checkpoint=tmp_path / "any", **FAST), n_seeds=2)
    first = unseeded.fit(X, y).estimators_
    assert first[0].seed_ != first[1].seed_
    counted = MultiTaskNet(checkpoint=tmp_path / "any", callbacks=[EpochCounter()], **FAST)
    second = MultiTaskEnsemble(counted, n_seeds=2).fit(X, y).estimators_
    assert [epochs_run(m) for m in second] == [0, 0]
    for ours, theirs in zip(second, first):
        assert_same_predictions(ours, theirs, X)
    grouping = TaskGrouping(MultiTaskNet(checkpoint=tmp_path / "grp", **FAST), n_groups=2,
                            random_state=0).fit(X, y)
    assert sorted(os.listdir(tmp_path / "grp")) == ["group0", "group1"]  # no trial run saved
    assert [saved_state(tmp_path / "grp" / f"group{k}")["epochs"] for k in (0, 1)] == [6, 6]
    again = TaskGrouping(MultiTaskNet(checkpoint=tmp_path / "grp", **FAST), n_groups=2,
                         random_state=0).fit(X, y)
    for ours, theirs in zip(again.estimators_, grouping.estimators_):
        np.testing.assert_array_equal(ours.predict(X), theirs.predict(X))


def test_cross_val_predict_checkpoints_each_fold_and_a_rerun_resumes(tmp_path):
    X, y = make_data()
    counted = MultiTaskNet(checkpoint=tmp_path / "cv", callbacks=[EpochCounter()],
                           random_state=0, **FAST)
    first = cross_val_predict(counted, X, y, cv=3)
    assert sorted(os.listdir(tmp_path / "cv")) == ["fold0", "fold1", "fold2"]
    np.testing.assert_array_equal(
        first["r"], cross_val_predict(MultiTaskNet(random_state=0, **FAST), X, y, cv=3)["r"])
    # rerun: every fold reads its finished fit back (no epoch trained); through a Pipeline
    # and an ensemble, the nested checkpoints get their fold's subdirectory too
    fitted = []
    original = MultiTaskNet.fit

    def spy(self, *args, **kwargs):
        fitted.append(self)
        return original(self, *args, **kwargs)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(MultiTaskNet, "fit", spy)
        again = cross_val_predict(counted, X, y, cv=3)
    assert [epochs_run(model) for model in fitted] == [0, 0, 0]
    pd.testing.assert_frame_equal(again, first)
    ensemble = MultiTaskEnsemble(MultiTaskNet(checkpoint=tmp_path / "ens", **FAST), n_seeds=2,
                                 random_state=0)
    cross_val_predict(make_pipeline(StandardScaler(), ensemble), X, y, cv=2)
    assert sorted(os.listdir(tmp_path / "ens" / "fold1")) == ["member0", "member1"]


def test_early_stopping_state_survives_a_crash(tmp_path):
    """Patience already used up before the crash counts: the resumed fit stops where an
    uninterrupted one does, restores the same best weights, and is then finished."""
    X, y = make_data()
    # tol=10: only epoch 1 improves, so training stops after epoch 4 (3 epochs without gain)
    params = dict(FAST, max_epochs=8, early_stopping=True, tol=10.0, n_iter_no_change=3,
                  random_state=0)
    uninterrupted = MultiTaskNet(**params).fit(X, y)
    assert len(uninterrupted.history_) == 4
    with pytest.raises(RuntimeError):
        MultiTaskNet(checkpoint=tmp_path, callbacks=[CrashIn(3)], **params).fit(X, y)
    resumed = MultiTaskNet(checkpoint=tmp_path, **params).fit(X, y)
    assert len(resumed.history_) == 4
    assert_same_predictions(resumed, uninterrupted, X)
    assert saved_state(tmp_path)["stopped_early"]
    again = MultiTaskNet(checkpoint=tmp_path, callbacks=[EpochCounter()], **params).fit(X, y)
    assert epochs_run(again) == 0 and len(again.history_) == 4
    assert_same_predictions(again, uninterrupted, X)


def test_skorch_checkpoint_saves_at_best_validation(tmp_path):
    X, y = make_data()
    directory = tmp_path / "best"
    params = dict(FAST, validation_fraction=0.2, random_state=0)
    est = MultiTaskNet(checkpoint=Checkpoint(dirname=str(directory), fn_prefix="run1_"),
                       **params).fit(X, y)
    assert os.listdir(directory) == [f"run1_{CHECKPOINT_FILE}"]
    assert est.history_[-1]["epoch"] == 6  # the finished fit is saved at the end
    with pytest.raises(ValueError, match="'valid_loss_best'.*no validation split"):
        MultiTaskNet(checkpoint=Checkpoint(dirname=str(tmp_path / "x")), early_stopping=False,
                     **FAST).fit(X, y)


def test_history_values_are_stored_as_plain_json(tmp_path):
    class Record(Callback):
        def on_epoch_end(self, net, **kwargs):
            net.history.record("np_value", np.float32(1.5))
            net.history.record("tensor_value", torch.tensor(2.5))
            net.history.record("array", np.arange(2))

    X, y = make_data()
    MultiTaskNet(checkpoint=tmp_path, callbacks=[Record()], **dict(FAST, max_epochs=2)).fit(X, y)
    row = saved_history(tmp_path)[-1]
    assert (row["np_value"], row["tensor_value"], row["array"]) == (1.5, 2.5, [0, 1])

    class Bad(Callback):
        def on_epoch_end(self, net, **kwargs):
            net.history.record("thing", object())

    with pytest.raises(TypeError, match=r"History entry history\[0\]\['thing'\] is a object"):
        MultiTaskNet(checkpoint=tmp_path / "bad", callbacks=[Bad()], **FAST).fit(X, y)
