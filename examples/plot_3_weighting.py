"""
Task weighting: uncertainty, DWA and UPGrad
============================================

With several tasks, each training step must combine their losses (or their gradients).
The default, ``weighting="equal"``, sums the losses. Other methods adapt the balance
during training:

* ``"uncertainty"`` learns one log-variance per task and down-weights noisy tasks
  (Kendall et al., CVPR 2018);
* ``"dwa"`` (Dynamic Weight Average) gives more weight to tasks whose loss falls slowly
  (Liu et al., CVPR 2019);
* ``"upgrad"`` is a gradient-level method: it projects the task gradients so that the
  update conflicts with none of them (torchjd's UPGrad aggregator).

Every epoch the History records each task's effective weight (``weight_<task>``) next to
its loss (``train_loss_<task>``); :func:`skmtl.plotting.plot_task_weights` and
:func:`skmtl.plotting.plot_task_losses` draw them.
"""

# %%
# Three tasks of very different difficulty
# ----------------------------------------
# Two regression targets share one signal but differ in noise (``quiet`` has almost none,
# ``loud`` mostly noise); ``sign`` is a binary classification of the same signal.
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from skmtl import MultiTaskNet
from skmtl.plotting import plot_task_losses, plot_task_metrics, plot_task_weights
from skmtl.weighting import DWA

rng = np.random.RandomState(0)
n = 1600
X = rng.normal(size=(n, 6))
signal = X[:, 0] + X[:, 1] - X[:, 2] + 0.5 * X[:, 3] * X[:, 4]
y = pd.DataFrame({
    "quiet": signal + 0.1 * rng.normal(size=n),
    "loud": signal + 2.0 * rng.normal(size=n),
    "sign": np.where(signal + 0.3 * rng.normal(size=n) > 0, "+", "-"),
})
X_train, X_test, y_train, y_test = X[:1000], X[1000:], y[:1000], y[1000:]

# %%
# The same network, four weightings
# ---------------------------------
# A weighting is given by name or as a spec object whose hyperparameters are searchable
# (``weighting__temperature`` for DWA).
settings = dict(hidden_layer_sizes=(32, 32), max_epochs=25, batch_size=100, lr=1e-2,
                validation_fraction=0.2, device="cpu", random_state=0)
models = {
    name: MultiTaskNet(weighting=weighting, **settings).fit(X_train, y_train)
    for name, weighting in [("equal", "equal"), ("uncertainty", "uncertainty"),
                            ("dwa", DWA(temperature=2.0)), ("upgrad", "upgrad")]
}

# %%
# What each method did
# --------------------
# Uncertainty weighting learns a small weight for the noisy ``loud`` task and a large one
# for ``quiet``. DWA's weights follow the tasks' recent loss ratios (``w_t = 1`` for the
# first two epochs). For UPGrad the curves are the weights that the aggregated update
# implies on the task gradients.
fig, axes = plt.subplots(1, 3, figsize=(14, 4))
for ax, name in zip(axes, ["uncertainty", "dwa", "upgrad"]):
    plot_task_weights(models[name], ax=ax)
    ax.set_title(f'weighting="{name}"')
fig.tight_layout()

# %%
# The per-task losses (training solid, validation dashed). The ``loud`` task's loss stays
# high whatever the method: most of its variance is noise.
ax = plot_task_losses(models["uncertainty"])
ax.set_title('Per-task losses, weighting="uncertainty"')

# %%
# Test scores
# -----------
# R² for the regressions, accuracy for ``sign``, one bar per method:
scores = {name: model.score_tasks(X_test, y_test) for name, model in models.items()}
print(pd.DataFrame(scores).T.round(3))
ax = plot_task_metrics(scores, metric="test score (R² / accuracy)")
ax.set_ylim(0, 1.05)
plt.show()
