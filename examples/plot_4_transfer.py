"""
Transfer: reuse a fitted trunk for a new task
=============================================

A network trained on plenty of labels for some tasks has learned a representation of
``X`` that other, related tasks can use. :func:`skmtl.transfer.shared_trunk` returns a
copy of a fitted model's shared trunk; pass it as ``trunk=`` to a new estimator for a task
the source never saw, and choose:

* ``freeze="trunk"``: keep the trunk fixed and train only the new heads (few parameters,
  hard to overfit with few labels);
* no freeze: fine-tune the whole network, starting from the trunk.

Here the new task has only 80 labelled rows.
"""

# %%
# A source with two tasks, a target task with few labels
# ------------------------------------------------------
# ``X`` measures a 4-d latent factor through a nonlinear map. The source tasks ``A`` and
# ``B`` are linear in the latent factors; the new task ``C = A * B + A`` is a nonlinear
# function of them, labelled on 80 rows only.
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from skmtl import MultiTaskNet
from skmtl.transfer import shared_trunk

mixing = np.random.RandomState(123).normal(size=(4, 30))


def make_data(n, seed):
    rng = np.random.RandomState(seed)
    Z = rng.normal(size=(n, 4))
    X = np.tanh(Z @ mixing / 2) + 0.05 * rng.normal(size=(n, 30))
    A, B = Z[:, 0] + 0.5 * Z[:, 1], Z[:, 2] - 0.5 * Z[:, 3]
    return X, pd.DataFrame({"A": A, "B": B}), pd.Series(A * B + A, name="C")


X_source, y_source, _ = make_data(2000, seed=0)
X_new, _, y_new = make_data(80, seed=1)  # few labels for the new task
X_test, _, y_test = make_data(1000, seed=2)

common = dict(hidden_layer_sizes=(64, 64), lr=3e-3, device="cpu", random_state=0)
source = MultiTaskNet(max_epochs=40, **common).fit(X_source, y_source)
print("source R² on A and B:", source.score_tasks(*make_data(1000, seed=3)[:2]))

# %%
# Three models for the new task
# -----------------------------
# All three add one hidden layer per head (``head_layer_sizes=(32,)``) on top of the
# representation. ``frozen_parameters_`` lists what ``freeze`` kept fixed.
head = dict(head_layer_sizes=(32,), max_epochs=150, batch_size=32, **common)
models = {
    "from scratch": MultiTaskNet(**head),
    "reused trunk, frozen": MultiTaskNet(trunk=shared_trunk(source), freeze="trunk", **head),
    "reused trunk, fine-tuned": MultiTaskNet(trunk=shared_trunk(source), **head),
}
source_before = source.predict(X_test)
for model in models.values():
    model.fit(X_new, y_new)
print("frozen:", models["reused trunk, frozen"].frozen_parameters_)

# %%
# ``shared_trunk`` returns a copy: fine-tuning the new models left the source untouched.
print("source unchanged:", source.predict(X_test).equals(source_before))
scores = {name: model.score(X_test, y_test) for name, model in models.items()}
print(pd.Series(scores, name="test R² on C").round(3))

# %%
# Results
# -------
# Test R² of the new task, and the training loss of each model (80 rows):
fig, (ax_bar, ax_loss) = plt.subplots(1, 2, figsize=(12, 4))
ax_bar.barh(list(scores), list(scores.values()), color=["C7", "C0", "C2"])
ax_bar.set(xlabel="test R² on the new task C", xlim=(min(0, *scores.values()), 1))
for name, model in models.items():
    ax_loss.plot(model.history_[:, "train_loss"], label=name)
ax_loss.set(xlabel="epoch", ylabel="training loss (standardised C)", yscale="log")
ax_loss.legend()
fig.tight_layout()
plt.show()
