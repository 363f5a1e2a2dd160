"""Grading code of lesson 06a (training an MLP): accuracy, the training and evaluation loops, MLPClassifier.

Grade cells call the names re-exported here; each concept has its module:

* :mod:`autograder.lessons.accuracy_checks` — ``accuracy`` against the course's helper, and its likely slips;
* :mod:`.loops` — tiny seeded problems and :func:`run_loop`, which runs the student's ``train_one_epoch`` or
  ``evaluate`` and the course's loop side by side (the exercises switch the model's mode: ``keeps_mode=False``);
* :mod:`.figures` — the checks of a run: figures returned, parameters after the epoch, modes, state left;
* :mod:`.classifier` — ``MLPClassifier`` against the course's ``make_mlp``.
"""

from autograder.lessons.accuracy_checks import check_accuracy, check_accuracy_batches, check_accuracy_in_a_loop
from autograder.lessons.training.classifier import (
    CLASSIFIER_BAN,
    check_classifier,
    check_classifier_configs,
    reference_classifier,
)
from autograder.lessons.training.figures import (
    check_eval_mode,
    check_left_as_found,
    check_loss_and_accuracy,
    check_no_grad,
    check_parameters_after_training,
    check_random_state,
    check_run,
    check_steps_once_per_batch,
    check_train_mode,
    check_zero_grad_each_step,
)
from autograder.lessons.training.loops import HANDED, TRAIN_BAN, Probe, run_loop, tiny_problem

__all__ = [
    "CLASSIFIER_BAN",
    "HANDED",
    "TRAIN_BAN",
    "Probe",
    "check_accuracy",
    "check_accuracy_batches",
    "check_accuracy_in_a_loop",
    "check_classifier",
    "check_classifier_configs",
    "check_eval_mode",
    "check_left_as_found",
    "check_loss_and_accuracy",
    "check_no_grad",
    "check_parameters_after_training",
    "check_random_state",
    "check_run",
    "check_steps_once_per_batch",
    "check_train_mode",
    "check_zero_grad_each_step",
    "reference_classifier",
    "run_loop",
    "tiny_problem",
]
