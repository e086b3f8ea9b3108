"""Resumable fits: save everything a fit needs to continue, and restore it.

One file per checkpoint directory holds the module's weights, the optimizer's and the
balancer's state, the History (as JSON text), the torch random state, the state of the
early-stopping and weight-averaging callbacks, the estimator's seeds and a description of the fit (tasks,
data shape, network parameters) that a resuming fit must match. Everything in it is a
tensor or a plain Python value, so it loads with ``torch.load(weights_only=True)``,
which refuses (instead of running) any other pickled object. The file is written to a
temporary file in the same directory and moved into place with ``os.replace``, so a
process killed while writing leaves the previous checkpoint intact.
"""

from __future__ import annotations

import contextlib
import copy
import glob
import hashlib
import json
import math
import os
import pickle
import re
import tempfile
from typing import Any

import numpy as np
import torch
from scipy import sparse
from skorch.callbacks import Callback, Checkpoint, EarlyStopping
from skorch.history import History
from skorch.utils import noop

from ._weight_averaging import WeightAveraging

#: Name of the checkpoint file in its directory (after the optional ``fn_prefix``).
CHECKPOINT_FILE = "skmtl_checkpoint.pt"
#: Name of the callback in the net's callbacks.
CALLBACK_NAME = "resume_checkpoint"
_FORMAT = "skmtl-checkpoint"
_VERSION = 1
_EARLY_STOPPING_STATE = ("misses_", "dynamic_threshold_", "best_epoch_")


class ResumeCheckpoint(Callback):
    """Save the state of a fit so that a later ``fit`` resumes it.

    Added by the estimators when ``checkpoint`` is set; it must be the last callback,
    so that what it saves includes the other callbacks' work for the epoch. It writes
    one file, ``<dirname>/<fn_prefix>skmtl_checkpoint.pt``, atomically (a temporary file
    in the same directory, then ``os.replace``): at the end of every epoch when
    ``monitor`` is None, else at the end of the epochs ``monitor`` selects, and at the
    end of training (so the file then holds the finished fit).

    Parameters
    ----------
    dirname : str or path-like
        Directory of the checkpoint (created when missing); ``""`` is the current one.
    fn_prefix : str, default=""
        Prefix of the file name.
    monitor : str, callable or None, default=None
        None saves every epoch; a string names a History key whose truthy value
        selects the epochs to save (e.g. ``"valid_loss_best"``); a callable receives
        the net and returns whether to save.
    sink : callable, default=skorch.utils.noop
        Receives a message when a fit resumes.
    """

    def __init__(self, dirname, fn_prefix: str = "", monitor=None, sink=noop):
        self.dirname = dirname
        self.fn_prefix = fn_prefix
        self.monitor = monitor
        self.sink = sink

    @classmethod
    def from_param(cls, checkpoint, sink=noop) -> ResumeCheckpoint:
        """The callback for an estimator's ``checkpoint`` parameter.

        Parameters
        ----------
        checkpoint : str, path-like or skorch.callbacks.Checkpoint
            A directory, or a skorch ``Checkpoint`` whose ``dirname``, ``fn_prefix``,
            ``monitor`` and ``sink`` are used (its ``f_*`` file names are not: all the
            state goes to one file, so that it is always from a single epoch).
        sink : callable, default=skorch.utils.noop
            Used with a directory.

        Returns
        -------
        ResumeCheckpoint
        """
        if isinstance(checkpoint, Checkpoint):
            return cls(checkpoint.dirname, fn_prefix=checkpoint.fn_prefix,
                       monitor=checkpoint.monitor, sink=checkpoint.sink)
        return cls(checkpoint, sink=sink)

    @property
    def path(self) -> str:
        """Path of the checkpoint file."""
        return checkpoint_path(self.dirname, self.fn_prefix)

    def initialize(self):
        """Reset the run state (nothing saved yet, nothing to restore)."""
        self.dirty_ = False
        self.pending_callbacks_: dict | None = None
        if not hasattr(self, "description_"):
            self.description_, self.seeds_ = {}, {}
        return self

    def bind(self, description: dict, seeds: dict) -> None:
        """Give the description of the fit and the estimator's seeds to save.

        Parameters
        ----------
        description : dict
            From :func:`describe_fit`.
        seeds : dict
            ``seed_`` and ``split_seed_``.
        """
        self.description_ = description
        self.seeds_ = {key: int(value) for key, value in seeds.items()}

    def on_train_begin(self, net, **kwargs):
        """Check ``monitor``, remove stale temporary files, restore callback states."""
        monitor = self.monitor
        if isinstance(monitor, str) and monitor.startswith("valid") and net.train_split is None:
            raise ValueError(
                f"The checkpoint saves when {monitor!r} is true, but no validation split is "
                "held out. Set early_stopping=True or validation_fraction, or use "
                "Checkpoint(monitor=None) (or a directory) to save every epoch."
            )
        for stale in glob.glob(glob.escape(self.path) + ".*.tmp"):
            with contextlib.suppress(OSError):
                os.remove(stale)
        pending, self.pending_callbacks_ = self.pending_callbacks_, None
        callbacks = dict(net.callbacks_)
        for name, state in (pending or {}).items():
            callback = callbacks.get(name)
            if isinstance(callback, EarlyStopping):
                for key, value in state.items():
                    setattr(callback, key, value)
            elif isinstance(callback, WeightAveraging):
                callback.load_state(state)

    def on_epoch_begin(self, net, **kwargs):
        """Mark the checkpoint as behind the net."""
        self.dirty_ = True

    def on_epoch_end(self, net, **kwargs):
        """Save when ``monitor`` selects this epoch (every epoch when it is None)."""
        if self._selected(net):
            self.save(net)

    def on_train_end(self, net, **kwargs):
        """Save the finished fit, unless its last epoch is saved or was interrupted."""
        if self.dirty_ and len(net.history) and "dur" in net.history[-1]:
            self.save(net)

    def _selected(self, net) -> bool:
        if self.monitor is None:
            return True
        if callable(self.monitor):
            return bool(self.monitor(net))
        row = net.history[-1]
        if self.monitor not in row:
            raise ValueError(
                f"The checkpoint saves when {self.monitor!r} is true, but the History has no "
                f"such key (it has {sorted(k for k in row if k != 'batches')})."
            )
        return bool(row[self.monitor])

    def save(self, net) -> None:
        """Write the net's state atomically.

        Parameters
        ----------
        net : MultiTaskNeuralNet
        """
        stopped = any(isinstance(cb, EarlyStopping) and getattr(cb, "misses_", 0) >= cb.patience
                      for _, cb in net.callbacks_)
        description = dict(self.description_, network=describe_network(net))
        payload = {
            "format": _FORMAT,
            "version": _VERSION,
            "description": json.dumps(description),
            **self.seeds_,
            "epochs": len(net.history),
            "stopped_early": bool(stopped),
            "steps_done": int(getattr(net, "steps_done_", 0)),
            "history": history_to_json(net.history),
            "module": net.module_.state_dict(),
            "optimizer": net.optimizer_.state_dict(),
            "balancer": net.balancer_.state_dict(),
            "rng": _rng_state(net.device),
            "callbacks": _callback_states(net),
        }
        _atomic_save(payload, self.path)
        self.dirty_ = False


# -- paths, reading, writing -------------------------------------------------------------
def checkpoint_path(dirname, fn_prefix: str = "") -> str:
    """Path of the checkpoint file in ``dirname``.

    Parameters
    ----------
    dirname : str or path-like
    fn_prefix : str, default=""

    Returns
    -------
    str
    """
    directory = os.fspath(dirname) or "."
    if os.path.exists(directory) and not os.path.isdir(directory):
        raise ValueError(f"checkpoint={directory!r} is a file; give a directory.")
    return os.path.join(directory, f"{fn_prefix}{CHECKPOINT_FILE}")


def _atomic_save(payload: dict, path: str) -> None:
    directory = os.path.dirname(path)
    os.makedirs(directory, exist_ok=True)
    fd, temporary = tempfile.mkstemp(prefix=os.path.basename(path) + ".", suffix=".tmp",
                                     dir=directory)
    try:
        with os.fdopen(fd, "wb") as file:
            torch.save(payload, file)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.remove(temporary)
        raise
    with contextlib.suppress(OSError, AttributeError):  # make the rename durable (POSIX)
        dir_fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)


_REQUIRED = {"description": str, "seed_": int, "split_seed_": int, "epochs": int,
             "stopped_early": bool, "steps_done": int, "history": str, "module": dict,
             "optimizer": dict, "balancer": dict, "rng": dict, "callbacks": dict}


def read_checkpoint(path: str) -> dict | None:
    """Load a checkpoint file, or None when there is none.

    Only tensors and plain Python values are loaded (``torch.load(weights_only=True)``):
    a file holding anything else is refused, never executed.

    Parameters
    ----------
    path : str

    Returns
    -------
    dict or None
    """
    if not os.path.exists(path):
        return None
    advice = "Delete it or use another checkpoint directory."
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as error:
        boilerplate = ("Weights only load failed", "Please file an issue", "Check the documentation")
        lines = [line.strip() for line in str(error).splitlines()]
        reason = next((line for line in lines if line and not line.startswith(boilerplate)), "")
        raise ValueError(
            f"Refusing to load the checkpoint {path!r}: torch.load(weights_only=True) rejected "
            f"it{f' ({reason})' if reason else ''}, so it holds something other than tensors "
            "and plain Python values: it was not written by skmtl, or was altered or damaged. "
            f"Nothing in it was run. {advice}"
        ) from error
    except (RuntimeError, EOFError, ValueError) as error:
        raise ValueError(f"The checkpoint {path!r} is not readable ({error}). {advice}") from error
    if not (isinstance(payload, dict) and payload.get("format") == _FORMAT):
        raise ValueError(f"{path!r} is not an skmtl checkpoint. {advice}")
    if payload.get("version") != _VERSION:
        raise ValueError(f"The checkpoint {path!r} has format version {payload.get('version')!r}; "
                         f"this skmtl reads version {_VERSION}. {advice}")
    wrong = [key for key, kind in _REQUIRED.items() if not isinstance(payload.get(key), kind)]
    if wrong:
        raise ValueError(f"The checkpoint {path!r} lacks or has invalid {wrong}. {advice}")
    payload["description"] = json.loads(payload["description"])
    return payload


# -- describing a fit ----------------------------------------------------------------------
def _plain(value: Any) -> Any:
    """``value`` as JSON-able plain Python (labels, column names)."""
    if isinstance(value, (list, tuple, np.ndarray)):
        return [_plain(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return str(value)


def fingerprint(*arrays: Any) -> str | None:
    """A digest of the training data, so that a checkpoint resumes only the same fit.

    Parameters
    ----------
    *arrays : ndarray, scipy sparse matrix, torch.Tensor or dict of them
        The checked inputs, the encoded targets, the weights.

    Returns
    -------
    str or None
        The hex digest; None when an input is of another kind (an object array, a
        dataset read by a user trunk), which is then not compared.
    """
    digest = hashlib.blake2b(digest_size=16)

    def add(value: Any) -> bool:
        if isinstance(value, dict):
            return all(digest.update(repr(key).encode()) or add(value[key])
                       for key in sorted(value, key=repr))
        if sparse.issparse(value):
            value = sparse.csr_matrix(value)
            digest.update(repr(value.shape).encode())
            return all(add(part) for part in (value.data, value.indices, value.indptr))
        if isinstance(value, torch.Tensor):
            value = value.detach().cpu().numpy()
        if not isinstance(value, np.ndarray) or value.dtype.hasobject:
            return False
        digest.update(f"{value.dtype.str}{value.shape}".encode())
        digest.update(np.ascontiguousarray(value).view(np.uint8).data)
        return True

    return digest.hexdigest() if all(add(value) for value in arrays) else None


#: Parameters that a fit resuming a checkpoint may change: how long it trains, what it
#: prints or calls back, where and how fast it runs; ``random_state`` is compared apart
#: (only an int), and ``checkpoint`` names the file itself.
RESUMABLE_PARAMS = frozenset({"max_epochs", "verbose", "callbacks", "device", "compile",
                              "checkpoint", "random_state", "warm_start"})


def param_text(value: Any) -> str:
    """A parameter's value as text to compare, without memory addresses (``<function f
    at 0x...>``), which differ from one process to the next."""
    return re.sub(r" at 0x[0-9a-fA-F]+", "", repr(value))


def describe_params(estimator: Any) -> dict[str, str]:
    """The estimator's parameters that a resuming fit must share, as text.

    Parameters
    ----------
    estimator : BaseEstimator

    Returns
    -------
    dict of str to str
    """
    return {name: param_text(value) for name, value in estimator.get_params(deep=False).items()
            if name not in RESUMABLE_PARAMS}


def describe_fit(taskset, X: Any, data: str | None = None, random_state: Any = None,
                 params: dict | None = None) -> dict:
    """What a resuming fit must share with the checkpoint: tasks, data, seed, parameters.

    Parameters
    ----------
    taskset : TaskSet
        The fitted tasks.
    X : ndarray or dict of ndarray
        The checked inputs.
    data : str or None, default=None
        :func:`fingerprint` of the inputs, targets and weights.
    random_state : object, default=None
        The estimator's ``random_state``: recorded when it is an int.
    params : dict or None, default=None
        :func:`describe_params` of the estimator.

    Returns
    -------
    dict
        JSON-able: ``tasks`` (name, type, kind, columns, classes, regression mean and
        scale, and link when it is not the identity), ``n_samples``, ``input_shape``,
        ``data``, ``random_state`` (None for anything but an int) and ``params``.
    """
    tasks = []
    for task in taskset.tasks_:
        entry = {"name": _plain(task.name_), "type": type(task).__name__, "kind": task.kind,
                 "columns": _plain(task.columns_)}
        for attribute in ("classes_", "mean_", "scale_"):
            if hasattr(task, attribute):
                entry[attribute.rstrip("_")] = _plain(getattr(task, attribute))
        if getattr(task, "link_", "identity") != "identity":  # a loss of log link
            entry["link"] = task.link_
        tasks.append(entry)
    if isinstance(X, dict):
        shape = {str(key): list(value.shape[1:]) for key, value in X.items()}
        n_samples = len(next(iter(X.values())))
    else:
        shape, n_samples = list(X.shape[1:]), X.shape[0]
    seed = int(random_state) if isinstance(random_state, (int, np.integer)) else None
    return json.loads(json.dumps({"tasks": tasks, "n_samples": n_samples, "input_shape": shape,
                                  "data": data, "random_state": seed, "params": params}))


def resume_keys(saved: dict, current: dict) -> list[str]:
    """The parts of a checkpoint's description that this fit must match to resume it.

    Tasks and data shape always; the data's fingerprint and the parameters when both
    have them (a checkpoint written before they were recorded has none); the seed when
    this fit gives an int ``random_state`` (with None, the fit takes the checkpoint's
    seeds).
    """
    keys = ["tasks", "n_samples", "input_shape"]
    keys += [key for key in ("data", "params")
             if saved.get(key) is not None and current.get(key) is not None]
    if current.get("random_state") is not None and "random_state" in saved:
        keys.append("random_state")
    return keys


def member_checkpoint(checkpoint: Any, name: str) -> Any:
    """The checkpoint of one of a model's several fits (an ensemble's member, a task
    group's network): the subdirectory ``name`` of ``checkpoint``'s directory.

    Parameters
    ----------
    checkpoint : None, str, path-like or skorch.callbacks.Checkpoint
    name : str

    Returns
    -------
    None, str or skorch.callbacks.Checkpoint
    """
    if checkpoint is None:
        return None
    if isinstance(checkpoint, Checkpoint):
        member = copy.deepcopy(checkpoint)
        member.dirname = os.path.join(os.fspath(checkpoint.dirname), name)
        return member
    return os.path.join(os.fspath(checkpoint), name)


def checkpoint_params(estimator: Any) -> dict[str, Any]:
    """Every checkpoint ``estimator`` sets, by ``set_params`` name: its own, a Pipeline
    step's, an ensemble's or grouping's template's (``..._checkpoint``).

    Parameters
    ----------
    estimator : BaseEstimator

    Returns
    -------
    dict
    """
    return {name: value for name, value in estimator.get_params(deep=True).items()
            if name.rsplit("__", 1)[-1] == "checkpoint" and value is not None}


def in_subdirectory(estimator: Any, name: str | None) -> Any:
    """``estimator`` (set in place) with each of its checkpoints in the subdirectory
    ``name`` (:func:`member_checkpoint`), or with none when ``name`` is None (a trial run,
    not saved): a directory holds one fit.

    Parameters
    ----------
    estimator : BaseEstimator
    name : str or None

    Returns
    -------
    BaseEstimator
    """
    updates = {key: None if name is None else member_checkpoint(value, name)
               for key, value in checkpoint_params(estimator).items()}
    return estimator.set_params(**updates) if updates else estimator


def describe_network(net) -> dict:
    """The shapes of the module's and balancer's parameters, and the optimizer's type.

    Parameters
    ----------
    net : MultiTaskNeuralNet

    Returns
    -------
    dict
    """
    return {
        "module": {name: list(value.shape) for name, value in net.module_.state_dict().items()},
        "balancer": type(net.balancer_).__name__,
        "optimizer": type(net.optimizer_).__name__,
    }


def _same(saved: Any, current: Any) -> bool:
    if isinstance(saved, float) and isinstance(current, float):
        return math.isclose(saved, current, rel_tol=1e-9, abs_tol=1e-12)
    return saved == current


def _short(value: Any, limit: int = 80) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[:limit - 3] + "..."


def differences(saved: dict, current: dict, keys) -> list[str]:
    """What differs between a checkpoint's description and the current fit's.

    Parameters
    ----------
    saved, current : dict
        Descriptions (:func:`describe_fit`, with ``network`` from
        :func:`describe_network`).
    keys : iterable of str
        The parts to compare.

    Returns
    -------
    list of str
        One readable line per difference (empty when they match).
    """
    found = []
    for key in keys:
        old, new = saved.get(key), current.get(key)
        if key == "tasks" and old and new and len(old) == len(new):
            for old_task, new_task in zip(old, new):
                for field in sorted(set(old_task) | set(new_task)):
                    a, b = old_task.get(field), new_task.get(field)
                    if not _same(a, b):
                        found.append(f"task {new_task['name']!r}: {field} {_short(a)} in the "
                                     f"checkpoint, {_short(b)} now")
        elif key == "tasks" and old != new:
            found.append(f"tasks {[t['name'] for t in old or []]} in the checkpoint, "
                         f"{[t['name'] for t in new or []]} now")
        elif key == "network" and isinstance(old, dict) and isinstance(new, dict):
            for part in ("balancer", "optimizer"):
                if old.get(part) != new.get(part):
                    found.append(f"{part} {old.get(part)} in the checkpoint, {new.get(part)} now")
            shapes_old, shapes_new = old.get("module", {}), new.get("module", {})
            changed = [name for name in sorted(set(shapes_old) | set(shapes_new))
                       if shapes_old.get(name) != shapes_new.get(name)]
            for name in changed[:3]:
                found.append(f"network parameter {name!r} has shape {shapes_old.get(name)} in "
                             f"the checkpoint, {shapes_new.get(name)} now")
            if len(changed) > 3:
                found.append(f"and {len(changed) - 3} more network parameters differ")
        elif key == "data" and old != new:
            found.append("the training data (X, y, sample_weight or groups) differ")
        elif key == "params" and isinstance(old, dict) and isinstance(new, dict):
            found += [f"{name}={old.get(name)} in the checkpoint, {new.get(name)} now"
                      for name in sorted(set(old) | set(new)) if old.get(name) != new.get(name)]
        elif not _same(old, new):
            found.append(f"{key} {_short(old)} in the checkpoint, {_short(new)} now")
    return found


def check_same_fit(saved: dict, current: dict, path: str, keys) -> None:
    """Raise a ValueError naming what differs between the checkpoint and this fit.

    Parameters
    ----------
    saved, current : dict
    path : str
        The checkpoint file, named in the message.
    keys : iterable of str
        The parts of the descriptions to compare.
    """
    found = differences(saved, current, keys)
    if found:
        raise ValueError(
            f"The checkpoint {path!r} was written by a different fit, so this fit cannot "
            f"resume it: {'; '.join(found)}. To train this model from scratch, use another "
            "checkpoint directory or delete the file. A directory holds one fit: "
            "scikit-learn's cross-validation and searches fit clones of the estimator on "
            "other rows, so give them checkpoint=None (MultiTaskEnsemble, TaskGrouping and "
            "skmtl.model_selection.cross_val_predict give each of their networks a "
            "subdirectory)."
        )


# -- history, random state, callbacks --------------------------------------------------
def _jsonable(value: Any, where: str) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v, f"{where}[{k!r}]") for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v, f"{where}[{i}]") for i, v in enumerate(value)]
    if isinstance(value, torch.Tensor):
        value = value.detach().cpu().numpy()
    if isinstance(value, np.ndarray):
        return _jsonable(value.tolist(), where)
    if isinstance(value, np.generic):
        value = value.item()
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    raise TypeError(
        f"The History entry {where} is a {type(value).__name__}, which a checkpoint cannot "
        "store (it keeps numbers, strings, booleans, None, lists, dicts, arrays and tensors). "
        "Record a plain value instead, or set checkpoint=None."
    )


def history_to_json(history) -> str:
    """A skorch History as JSON text (numpy and tensor values become plain numbers).

    Parameters
    ----------
    history : skorch.history.History

    Returns
    -------
    str
    """
    return json.dumps(_jsonable(list(history), "history"))


def _rng_state(device) -> dict:
    state = {"cpu": torch.get_rng_state()}
    device = torch.device(device)
    if device.type == "cuda":
        state["cuda"] = torch.cuda.get_rng_state(device)
    return state


def _set_rng_state(state: dict, device) -> None:
    torch.set_rng_state(state["cpu"])
    device = torch.device(device)
    if device.type == "cuda" and "cuda" in state:
        torch.cuda.set_rng_state(state["cuda"], device)


def _callback_states(net) -> dict:
    states = {}
    for name, callback in net.callbacks_:
        if isinstance(callback, EarlyStopping):
            state = {key: getattr(callback, key) for key in _EARLY_STOPPING_STATE
                     if getattr(callback, key, None) is not None}
            state = {key: float(v) if key == "dynamic_threshold_" else int(v)
                     for key, v in state.items()}
            state["best_model_weights_"] = getattr(callback, "best_model_weights_", None)
            states[name] = state
        elif isinstance(callback, WeightAveraging):
            states[name] = callback.state()
    return states


# -- resuming ----------------------------------------------------------------------------
def prepare(net, description: dict, seeds: dict, saved: dict | None, epochs: int | None) -> int | None:
    """Bind the fit to the net's checkpoint callback and restore ``saved`` into the net.

    Call right before training: the torch random state is set to the saved one.

    Parameters
    ----------
    net : MultiTaskNeuralNet
        Built exactly as a fresh fit builds it, with a :class:`ResumeCheckpoint`.
    description : dict
        From :func:`describe_fit`.
    seeds : dict
        The estimator's ``seed_`` and ``split_seed_``.
    saved : dict or None
        From :func:`read_checkpoint` (None: a fresh fit).
    epochs : int or None
        Epochs asked for (None: up to ``net.max_epochs``).

    Returns
    -------
    int or None
        The epochs to run: ``epochs`` for a fresh fit; otherwise those missing up to
        ``max_epochs`` (0 when the saved fit stopped early).
    """
    callback = dict(net.callbacks_)[CALLBACK_NAME]
    callback.bind(description, seeds)
    if saved is None:
        return epochs
    path = callback.path
    check_same_fit(saved["description"], {"network": describe_network(net)}, path, ["network"])
    try:
        net.module_.load_state_dict(saved["module"])
        balancer = saved["balancer"]
        if "_extra_state" in net.balancer_.state_dict() and "_extra_state" not in balancer:
            balancer = {**balancer, "_extra_state": {}}  # saved before aggregator states were
        net.balancer_.load_state_dict(balancer)
        net.optimizer_.load_state_dict(saved["optimizer"])
    except (RuntimeError, ValueError, KeyError) as error:
        raise ValueError(
            f"The checkpoint {path!r} does not fit this network ({error}). Use another "
            "checkpoint directory or delete the file."
        ) from error
    net.history_ = History(json.loads(saved["history"]))
    net.steps_done_ = saved["steps_done"]
    callback.pending_callbacks_ = saved["callbacks"]
    done = len(net.history_)
    if epochs is None:
        epochs = 0 if saved["stopped_early"] else max(0, net.max_epochs - done)
    callback.sink(f"Resuming from {path}: {done} epoch(s) done, {epochs} to run.")
    _set_rng_state(saved["rng"], net.device)
    return epochs
