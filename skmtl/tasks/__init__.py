"""Task specifications: what each target column is and how it is trained and scored."""

from ._base import Task
from ._classification import Classification
from ._inference import MAX_AUTO_CLASSES, infer_task
from ._multilabel import MultiLabel
from ._regression import Regression
from ._taskset import TASK_TYPES, TaskSet, as_target_frame

__all__ = [
    "MAX_AUTO_CLASSES",
    "TASK_TYPES",
    "Classification",
    "MultiLabel",
    "Regression",
    "Task",
    "TaskSet",
    "as_target_frame",
    "infer_task",
]
