"""
Calibration: temperature scaling and ensembles
===============================================

A large network trained for long on noisy labels memorises the noise and becomes
**overconfident**: it predicts probabilities near 0 or 1 that are right far less often
than they claim. Two remedies, both one argument away:

* ``temperature_scaling=True`` fits, after training, one temperature per classification
  task on the held-out validation rows (Guo et al., ICML 2017); ``predict_proba`` divides
  the logits by it, and the predicted labels do not change;
* :class:`skmtl.MultiTaskEnsemble` trains several copies with different seeds and
  averages their probabilities, task by task.
"""

# %%
# Two noisy classification tasks
# ------------------------------
# Both tasks are simple functions of ``X``, but 10 % (task ``a``) and 20 % (task ``b``) of
# the labels are flipped at random, in the training and in the test set: no model can be
# sure of any label, so confident predictions near 0 or 1 are a sign of overfitting.
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from sklearn.calibration import calibration_curve
from sklearn.metrics import log_loss

from skmtl import MultiTaskClassifier, MultiTaskEnsemble

rng = np.random.RandomState(0)
n = 3000
X = rng.normal(size=(n, 10))
clean = pd.DataFrame({"a": X[:, 0] + X[:, 1] > 0, "b": X[:, 2] - X[:, 3] > 0}).astype(int)
flip = rng.rand(n, 2) < [0.1, 0.2]
y = clean.where(~flip, 1 - clean)
X_train, X_test, y_train, y_test = X[:1500], X[1500:], y[:1500], y[1500:]

# %%
# Three models
# ------------
# The same big, unregularised network three times. ``validation_fraction=0.3`` holds out
# the same rows in every model; ``temperature_scaling`` fits its temperatures on them.
settings = dict(hidden_layer_sizes=(128, 128), max_epochs=60, lr=3e-3,
                validation_fraction=0.3, device="cpu", random_state=0)
raw = MultiTaskClassifier(**settings).fit(X_train, y_train)
scaled = MultiTaskClassifier(temperature_scaling=True, **settings).fit(X_train, y_train)
ensemble = MultiTaskEnsemble([MultiTaskClassifier(**settings)], n_seeds=5,
                             random_state=0).fit(X_train, y_train)
models = {"raw": raw, "temperature scaling": scaled, "ensemble of 5": ensemble}
print("fitted temperatures:", {k: round(v, 2) for k, v in scaled.temperatures_.items()})

# %%
# Temperatures above 1 soften the probabilities. Temperature scaling keeps the network's
# decisions: ``raw`` and ``scaled`` predict the same labels.
print("same labels:", raw.predict(X_test).equals(scaled.predict(X_test)))

# %%
# Log loss and expected calibration error
# ---------------------------------------
# ``predict_proba`` returns one (n, 2) array per task. The expected calibration error
# (ECE) is the mean gap between confidence and accuracy over 10 confidence bins.


def expected_calibration_error(proba, labels, bins=10):
    confidence, predicted = proba.max(axis=1), proba.argmax(axis=1)
    edges = np.linspace(0.5, 1, bins + 1)
    ece = 0.0
    for lo, hi in zip(edges[:-1], edges[1:]):
        inside = (confidence > lo) & (confidence <= hi)
        if inside.any():
            accuracy = (predicted[inside] == labels[inside]).mean()
            ece += inside.mean() * abs(accuracy - confidence[inside].mean())
    return ece


rows = {}
for name, model in models.items():
    probas = model.predict_proba(X_test)
    for task, proba in zip(["a", "b"], probas):
        labels = y_test[task].to_numpy()
        rows[(name, task)] = {
            "accuracy": (proba.argmax(axis=1) == labels).mean(),
            "log loss": log_loss(labels, proba),
            "ECE": expected_calibration_error(proba, labels),
        }
print(pd.DataFrame(rows).T.round(3))

# %%
# Reliability diagrams
# --------------------
# A calibrated model's curve follows the diagonal: among the rows predicted with
# probability 0.8, 80 % are positive. The raw network's curve is flatter than the
# diagonal: its confident predictions are right less often than they claim. Temperature
# scaling and the ensemble pull the curves towards the diagonal.
fig, axes = plt.subplots(1, 2, figsize=(11, 4.5), sharey=True)
for ax, (t, task) in zip(axes, enumerate(["a", "b"])):
    ax.plot([0, 1], [0, 1], color="gray", linestyle=":", label="perfectly calibrated")
    for name, model in models.items():
        proba = model.predict_proba(X_test)[t][:, 1]
        observed, predicted = calibration_curve(y_test[task], proba, n_bins=8,
                                                strategy="quantile")
        ax.plot(predicted, observed, marker="o", label=name)
    ax.set(title=f"task {task!r} ({[10, 20][t]} % label noise)",
           xlabel="predicted probability", ylabel="observed frequency")
axes[0].legend()
fig.tight_layout()
plt.show()
