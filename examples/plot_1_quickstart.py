"""
Quick start: three penguin traits from one network
===================================================

One :class:`~skmtl.MultiTaskNet` predicts three targets of different types for the
Palmer penguins: the **species** (3 classes), the **sex** (binary) and the **body mass**
(regression). The targets are the columns of one DataFrame ``y``; skmtl infers each task
from its dtype and trains a shared trunk with one head per task.

Labels may be missing: the sex of a few penguins is unknown in the data, and below we also
pretend that only half of the penguins were weighed. A missing label removes that
(penguin, task) pair from the task's loss and metrics; the row still trains the other
tasks.
"""

# %%
# The data
# --------
# ``palmerpenguins`` ships the table, so nothing is downloaded. Two penguins have no
# measurements at all; we drop them (a ``SimpleImputer`` would do as well).
import matplotlib.pyplot as plt
import numpy as np
from palmerpenguins import load_penguins
from sklearn.compose import ColumnTransformer
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from skmtl import MultiTaskNet
from skmtl.plotting import plot_task_losses

penguins = load_penguins().dropna(subset=["body_mass_g"])
X = penguins[["island", "bill_length_mm", "bill_depth_mm", "flipper_length_mm"]]
y = penguins[["species", "sex", "body_mass_g"]]  # str, str with missing values, float
print(y.dtypes.to_string())
print("missing labels per task:", y.isna().sum().to_dict())

X_train, X_test, y_train, y_test = train_test_split(
    X, y, test_size=0.3, random_state=0, stratify=y["species"]
)

# Only half of the training penguins were weighed: hide the other half's body mass.
y_train = y_train.copy()
unweighed = np.random.RandomState(0).rand(len(y_train)) < 0.5
y_train.loc[unweighed, "body_mass_g"] = np.nan
print("training labels per task:", y_train.notna().sum().to_dict())

# %%
# A pipeline
# ----------
# The network is the last step of an ordinary scikit-learn ``Pipeline``: the island is
# one-hot encoded and the measurements are standardised. ``set_output(transform="pandas")``
# keeps the rows' index, so the predictions come back indexed like ``X``.
preprocess = ColumnTransformer(
    [("island", OneHotEncoder(sparse_output=False), ["island"])],
    remainder=StandardScaler(),
).set_output(transform="pandas")

net = MultiTaskNet(
    hidden_layer_sizes=(64, 64),
    max_epochs=60,
    batch_size=32,
    lr=3e-3,
    validation_fraction=0.2,  # record validation losses (no early stopping)
    device="cpu",
    random_state=0,
)
model = make_pipeline(preprocess, net).fit(X_train, y_train)

# %%
# The tasks were inferred from the dtypes: the two string columns are classifications,
# the float column is a regression (standardised inside ``fit``, mapped back at
# ``predict``).
for task in net.tasks_:
    print(f"{task.name_!r}: {type(task).__name__}", getattr(task, "classes_", ""))

# %%
# Predictions and per-task scores
# -------------------------------
# ``predict`` returns a DataFrame with the columns, labels and dtypes of ``y``;
# ``predict_proba`` one probability array per classification task.
print(model.predict(X_test.head()))
species_proba, sex_proba = model.predict_proba(X_test.head())
print(species_proba.round(3))

# %%
# ``score`` is the mean over tasks of accuracy (classification) or R² (regression);
# ``score_tasks`` gives one score per task. Both skip the missing labels of the test set.
Xt_test = model[:-1].transform(X_test)
print(f"mean score: {model.score(X_test, y_test):.3f}")
print({task: round(score, 3) for task, score in net.score_tasks(Xt_test, y_test).items()})

# %%
# Training curves
# ---------------
# The History records every task's training and validation loss per epoch;
# :func:`skmtl.plotting.plot_task_losses` draws them (validation dashed). On the right,
# the predicted body mass of the test penguins against the truth, coloured by the species
# that the same model predicted.
fig, (ax_loss, ax_mass) = plt.subplots(1, 2, figsize=(11, 4))
plot_task_losses(net, ax=ax_loss)

predicted = model.predict(X_test)
for species, rows in predicted.groupby("species"):
    ax_mass.scatter(y_test.loc[rows.index, "body_mass_g"], rows["body_mass_g"], s=12,
                    label=f"predicted {species}")
lims = [y_test["body_mass_g"].min(), y_test["body_mass_g"].max()]
ax_mass.plot(lims, lims, color="gray", linewidth=1)
ax_mass.set(xlabel="true body mass (g)", ylabel="predicted body mass (g)",
            title="Test set: body mass and species, one model")
ax_mass.legend()
fig.tight_layout()
plt.show()
