"""Grading code of lesson 08c (normalization): batch norm forward and backward, layer norm, BatchNorm1d.

Every check runs the student's code on seeded inputs and compares it, in float64, with PyTorch
(``F.batch_norm``, ``F.layer_norm``, ``nn.BatchNorm1d``; gradients by autograd of ``F.batch_norm``). Grade cells
call the functions re-exported here; each concept has its module:

* :mod:`.common` — the ban lists and seeded inputs;
* :mod:`.functional` — ``batch_norm`` (output, running buffers updated in place, eval mode) and ``layer_norm``;
* :mod:`.backward` — ``batch_norm_backward(grad_output, cache)``, checked by the use its cache gets: the cache
  comes from the student's own ``batch_norm_forward_with_cache``;
* :mod:`.module` — ``BatchNorm1d`` against ``nn.BatchNorm1d``, step after step.
"""

from autograder.lessons.normalization.backward import backward_case, check_batch_norm_backward, check_forward_with_cache
from autograder.lessons.normalization.common import BACKWARD_BAN, NORM_BAN
from autograder.lessons.normalization.functional import (
    bn_case,
    check_batch_norm,
    check_layer_norm,
    check_one_value_per_channel,
    ln_case,
)
from autograder.lessons.normalization.module import (
    check_batch_norm1d_init,
    check_batch_norm1d_runs,
    check_batch_norm1d_steps,
)

__all__ = [
    "BACKWARD_BAN",
    "NORM_BAN",
    "backward_case",
    "bn_case",
    "check_batch_norm",
    "check_batch_norm1d_init",
    "check_batch_norm1d_runs",
    "check_batch_norm1d_steps",
    "check_batch_norm_backward",
    "check_forward_with_cache",
    "check_layer_norm",
    "check_one_value_per_channel",
    "ln_case",
]
