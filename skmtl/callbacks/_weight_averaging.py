"""An exponential moving average of the weights over one fit call: validation and the
fitted network use the average."""

from __future__ import annotations

import torch
from skorch.callbacks import Callback


def ema_decay_at(decay: float, update: int) -> float:
    """Decay of the average's ``update``-th update (0-based): ``min(decay, (1 + update) /
    (10 + update))``.

    The warm-up keeps the first updates from leaning on the initial weights: the first
    update gives the new weights 0.9 of the average, and the nominal ``decay`` applies
    from ``update`` = ``(10 * decay - 1) / (1 - decay)`` on (8,990 updates for 0.999).
    Until then ``1 - decay`` is ``9 / (10 + update)``: the average spans about the last
    tenth of the steps taken.

    Parameters
    ----------
    decay : float
        The nominal decay, in [0, 1).
    update : int

    Returns
    -------
    float
    """
    return min(float(decay), (1.0 + update) / (10.0 + update))


class WeightAveraging(Callback):
    """Keep an exponential moving average (EMA) of the trainable weights; validate and
    finish with it.

    After every training step the average moves towards the network's weights by
    ``1 - ema_decay_at(decay, update)`` (Polyak and Juditsky, 1992; the EMA form of
    Tarvainen and Valpola, 2017). At an epoch's first validation batch the network's
    weights are set aside and the average takes their place, so the validation loss,
    early stopping (which keeps the best epoch's weights, here the average's) and the
    other callbacks at the epoch's end see the averaged network; the next epoch trains
    on from the weights set aside. When training ends the network holds the average (or,
    with early stopping, the best epoch's average), and a later ``partial_fit`` or
    warm-started ``fit`` trains on from it with a new average of its own.

    Only trainable parameters are averaged (frozen ones do not change); buffers are left
    as they are. The update is one ``torch._foreach_lerp_`` on the training device: it
    reads nothing back to the host.

    Parameters
    ----------
    decay : float
        The nominal decay, in [0, 1) (:func:`ema_decay_at`).
    """

    def __init__(self, decay: float):
        self.decay = decay

    def initialize(self):
        self.average_, self.training_, self.updates_ = None, None, 0
        return self

    @staticmethod
    def _parameters(net) -> list[torch.Tensor]:
        return [p for p in net.module_.parameters() if p.requires_grad]

    def on_train_begin(self, net, **kwargs):
        self.initialize()
        self.parameters_ = self._parameters(net)

    def on_epoch_begin(self, net, **kwargs):
        self._restore()

    def on_batch_end(self, net, training=False, **kwargs):
        if not training or not self.parameters_:
            return
        current = [p.detach() for p in self.parameters_]
        with torch.no_grad():
            if self.average_ is None:
                self.average_ = [p.clone() for p in current]
            else:
                weight = 1.0 - ema_decay_at(self.decay, self.updates_)
                torch._foreach_lerp_(self.average_, current, weight)
                self.updates_ += 1

    def on_batch_begin(self, net, training=False, **kwargs):
        if training or self.average_ is None or self.training_ is not None:
            return
        with torch.no_grad():  # the epoch's first validation batch: validate the average
            self.training_ = [p.detach().clone() for p in self.parameters_]
            torch._foreach_copy_(self.parameters_, self.average_)

    def on_train_end(self, net, **kwargs):
        if self.average_ is not None and self.training_ is None:  # no validation
            with torch.no_grad():
                torch._foreach_copy_(self.parameters_, self.average_)
        # the network keeps the average (early stopping may then load its best one)
        self.initialize()
        self.parameters_ = []

    def state(self) -> dict:
        """What a checkpoint saves to resume the average: the average, its number of
        updates, and the raw weights while the average stands in for them (else None)."""
        return {"average_": self.average_, "updates_": int(self.updates_),
                "training_": self.training_}

    def load_state(self, state: dict) -> None:
        """Resume from :meth:`state` at the start of a resumed fit: the network gets its
        raw weights back (it was saved holding the average if the epoch validated)."""
        self.average_, self.updates_ = state.get("average_"), int(state.get("updates_", 0))
        self.training_ = state.get("training_")
        self._restore()

    def _restore(self) -> None:
        if self.training_ is not None:
            with torch.no_grad():
                torch._foreach_copy_(self.parameters_, self.training_)
            self.training_ = None
