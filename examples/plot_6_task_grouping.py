"""
Which tasks to train together: task affinity and TaskGrouping
=============================================================

Training several tasks in one network helps when the tasks need the same features of
the input, and hurts when they pull the shared layers in different directions. Whether
they do can be measured:

* :func:`skmtl.affinity.gradient_affinity` trains the model briefly and records, every few
  steps, the cosine similarity between each pair of tasks' gradients on the shared
  representation: close to 0 for unrelated tasks, clearly positive for related ones;
* :class:`skmtl.TaskGrouping` measures it, splits the tasks into the groups with the
  highest affinity, chooses the number of groups on a validation split
  (``n_groups="auto"``) and trains one network per group.

Here the six tasks come in two clusters whose grouping is known.
"""

# %%
# Six tasks in two clusters
# -------------------------
# :func:`skmtl.affinity.make_task_clusters` draws each cluster's tasks as noisy variants
# of one nonlinear map of a latent; the two clusters read independent blocks of ``X``.
import matplotlib.pyplot as plt
import numpy as np
from sklearn.base import clone
from sklearn.model_selection import train_test_split

from skmtl import MultiTaskNet, TaskGrouping
from skmtl.affinity import gradient_affinity, make_task_clusters
from skmtl.plotting import plot_task_affinity

X, y, clusters = make_task_clusters(2000, random_state=0)
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.3, random_state=0)
print(dict(zip(y.columns, clusters.tolist())))

# %%
# Gradient affinity
# -----------------
# ``gradient_affinity`` fits a copy of the estimator for a few epochs with
# ``task_affinity=True`` and returns the matrix (and its standard error over the measured
# steps). Pairs within a cluster come out clearly above pairs across the clusters.
net = MultiTaskNet(hidden_layer_sizes=(64, 64), max_epochs=100, batch_size=64, device="cpu",
                   random_state=0)  # early stopping on 10 % of the rows ends the fits
affinity = gradient_affinity(net, X_train, y_train, max_epochs=5)
print(affinity.matrix.round(2))

same = np.equal.outer(clusters, clusters) & ~np.eye(len(clusters), dtype=bool)
across = ~np.equal.outer(clusters, clusters)
print(f"mean affinity within clusters {affinity.matrix.to_numpy()[same].mean():.2f}, "
      f"across {affinity.matrix.to_numpy()[across].mean():.2f}")

# %%
# The heatmap shows the two blocks:
plot_task_affinity(affinity)
plt.show()

# %%
# Group the tasks, one network per group
# --------------------------------------
# ``TaskGrouping`` takes the estimator to train as a template, measures the affinity with
# a short run (``affinity_epochs``), partitions the tasks into groups of high mutual
# affinity and fits one copy of the template per group. With ``n_groups="auto"`` (the
# default) it trains each candidate grouping the affinity suggests (from one network for
# all the tasks up to ``max_groups`` groups) on part of the training rows and keeps the one
# with the lowest loss on the others.
grouping = TaskGrouping(net, affinity_epochs=5).fit(X_train, y_train)
print("groups:", grouping.groups_)
print("validation loss by number of groups:", grouping.validation_losses_)

# %%
# Passing the fitted ``TaskGrouping`` draws its affinity with the chosen groups outlined:
plot_task_affinity(grouping)
plt.show()

# %%
# Against one network for all six tasks
# -------------------------------------
# Same template, same epochs; the score is the mean R² over the tasks on the test rows.
one_network = clone(net).fit(X_train, y_train)
print(f"one network for all tasks: test R² {one_network.score(X_test, y_test):.3f}")
print(f"one network per group:     test R² {grouping.score(X_test, y_test):.3f}")

# %%
# On these tasks the two are close: the difference is of the order of the variation
# between seeds. ``benchmarks/affinity.py`` measures it over several seeds, against
# separate networks too, and on a real dataset (the 14 labels of yeast).
