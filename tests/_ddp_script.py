"""Data-parallel fits for tests/test_distributed.py (a helper, not a test module).

Launched as ``python -m torch.distributed.run --standalone --nproc_per_node 2
tests/_ddp_script.py OUT``: every process fits the same 3-task models on all the rows
(skmtl joins the launcher's gloo process group itself) and writes its history to
``OUT/rank<r>_<config>.json``; rank 0 also pickles each fitted model and saves its
predictions. The test imports :func:`make_data`, :func:`make_estimator` and
:data:`CONFIGS` to make the single-process fits it compares with.
"""

from __future__ import annotations

import json
import os
import pickle
import sys

import numpy as np
import pandas as pd
import torch

from skmtl import MultiTaskNet

#: name -> (weighting, whether some labels are missing)
CONFIGS: dict[str, tuple[str, bool]] = {
    "equal": ("equal", False),
    "uncertainty": ("uncertainty", True),
    "upgrad": ("upgrad", True),
    "grouped": ("equal", True),  # validation rows: whole groups (fit_params)
}
#: 471 rows: 94 validation and 377 = 8 x 47 + 1 training rows, so each batch of 47 is
#: split 24 / 23 between the processes, and the last one (1 row) 1 / 0: one process's
#: share is empty.
N_ROWS, BATCH_SIZE = 471, 47


def make_data(missing: bool) -> tuple[np.ndarray, pd.DataFrame]:
    """A regression, a binary and a 3-class task on 6 features (some labels missing)."""
    rng = np.random.RandomState(0)
    X = rng.normal(size=(N_ROWS, 6))
    y = pd.DataFrame({
        "r": X[:, 0] - X[:, 1] + 0.1 * rng.normal(size=N_ROWS),
        "c": np.where(X[:, 2] + 0.3 * rng.normal(size=N_ROWS) > 0, "yes", "no").astype(object),
        "m": np.array(["a", "b", "c"], dtype=object)[np.digitize(X[:, 3], [-0.5, 0.5])],
    })
    if missing:
        y.loc[rng.rand(N_ROWS) < 0.3, "r"] = np.nan
        y.loc[rng.rand(N_ROWS) < 0.2, "c"] = None
        y.loc[rng.rand(N_ROWS) < 0.4, "m"] = None
    return X, y


def fit_params(name: str, n: int) -> dict:
    """More arguments of ``fit`` for config ``name``: groups of 7 rows for "grouped"."""
    return {"groups": np.arange(n) // 7} if name == "grouped" else {}


def make_estimator(weighting: str, **params) -> MultiTaskNet:
    """The model fitted in one process and in two (measuring the gradient affinity at
    every step, which must not change the training)."""
    return MultiTaskNet(weighting=weighting, hidden_layer_sizes=(16,), max_epochs=6,
                        batch_size=BATCH_SIZE, early_stopping=True, validation_fraction=0.2,
                        n_iter_no_change=3, numeric_embedding=None, random_state=0,
                        device="cpu", task_affinity=True, affinity_interval=1, **params)


def summary(est: MultiTaskNet) -> dict:
    """What the processes must agree on, and what the test compares across fits."""
    history = est.history_
    return {
        "train_loss": list(history[:, "train_loss"]),
        "valid_loss": list(history[:, "valid_loss"]),
        "task_losses": [[row[f"train_loss_{t}"] for t in ("r", "c", "m")] for row in history],
        "task_weights": [[row.get(f"weight_{t}") for t in ("r", "c", "m")] for row in history],
        "affinity": list(history[:, "task_affinity"]),
        "affinity_counts": list(history[:, "task_affinity_n"]),
        "parameters": [p.detach().double().reshape(-1).tolist()
                       for p in est.net_.module_.parameters()],
    }


def fit_continued(X: np.ndarray, y: pd.DataFrame) -> MultiTaskNet:
    """A fit with learned task weights, a warm-started fit of 2 more epochs, then a
    ``partial_fit`` whose labels of "r" are missing on a third of the rows."""
    est = make_estimator("uncertainty").fit(X, y)
    est.set_params(warm_start=True, max_epochs=2)
    est.fit(X, y)
    late = y.copy()
    late.loc[late.index[::3], "r"] = np.nan
    return est.partial_fit(X, late)


def main(out: str) -> None:
    torch.set_num_threads(1)
    for name, (weighting, missing) in CONFIGS.items():
        X, y = make_data(missing)
        # the first fit prints its epochs and saves a checkpoint: only rank 0 may
        params = {"verbose": 1, "checkpoint": os.path.join(out, "checkpoint")} if name == "equal" else {}
        est = make_estimator(weighting, **params).fit(X, y, **fit_params(name, len(X)))
        rank = torch.distributed.get_rank()
        with open(os.path.join(out, f"rank{rank}_{name}.json"), "w") as f:
            json.dump(summary(est), f)
        if rank == 0:
            with open(os.path.join(out, f"model_{name}.pkl"), "wb") as f:
                pickle.dump(est, f)
            predictions = est.predict(X)
            predictions.to_pickle(os.path.join(out, f"predictions_{name}.pkl"))
    # warm start and partial_fit continue data-parallel training
    est = fit_continued(*make_data(True))
    with open(os.path.join(out, f"rank{torch.distributed.get_rank()}_continued.json"), "w") as f:
        json.dump(summary(est), f)
    # every process must hold all the rows: a mismatch is an error in every process
    X, y = make_data(False)
    rank = torch.distributed.get_rank()
    try:
        make_estimator("equal").fit(X[:N_ROWS - rank], y[:N_ROWS - rank])
        message = None
    except ValueError as error:
        message = str(error)
    with open(os.path.join(out, f"rank{rank}_mismatch.txt"), "w") as f:
        f.write(repr(message))
    # every process is done with the collectives before the group is torn down
    torch.distributed.barrier()
    torch.distributed.destroy_process_group()
    with open(os.path.join(out, f"rank{rank}_done.txt"), "w") as f:
        f.write("done")


if __name__ == "__main__":
    main(sys.argv[1])
