"""Task relatedness: how the tasks of a multi-task model help or hurt each other.

* gradient affinity: the cosine similarity between tasks' gradients on the shared
  representation (or shared parameters), measured during training
  (``task_affinity=True`` on any skmtl estimator, or :func:`gradient_affinity`);
* lookahead affinity (Fifty et al., NeurIPS 2021): the relative change of task j's loss
  after a step on task i alone (:func:`lookahead_affinity`);
* :func:`partition_tasks`: the grouping of the tasks that maximises within-group
  affinity, which :class:`skmtl.TaskGrouping` trains one network per group of;
* :func:`make_task_clusters`: synthetic tasks with a known grouping.
"""

from ._gradient import gradient_affinity
from ._lookahead import lookahead_affinity
from ._partition import partition_score, partition_tasks
from ._result import AffinityResult
from ._synthetic import make_task_clusters

__all__ = [
    "AffinityResult",
    "gradient_affinity",
    "lookahead_affinity",
    "make_task_clusters",
    "partition_score",
    "partition_tasks",
]
