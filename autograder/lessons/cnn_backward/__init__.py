"""Grading code of lesson 07b's backward passes (and lesson 07's max_pool2d at ties). Grade cells call the names
re-exported here; each concept has its module:

* :mod:`.conv` — ``conv2d_backward`` against autograd of ``F.conv2d``;
* :mod:`.pool` — ``max_pool2d_backward`` against autograd of ``F.max_pool2d`` (ties, overlaps), and lesson 07's
  ``max_pool2d`` whose gradient at ties must be PyTorch's;
* :mod:`.common` — what both share.

The modern pieces (adaptive_avg_pool2d, ResidualBlock) are graded by :mod:`autograder.lessons.cnn_modern`.
"""

from autograder.lessons.cnn_backward.conv import (
    CONV_BACKWARD_BAN,
    CONV_CASES,
    check_conv2d_backward,
    conv2d_backward_reference,
    conv_case,
)
from autograder.lessons.cnn_backward.pool import (
    POOL_BACKWARD_BAN,
    POOL_CASES,
    check_max_pool2d_backward,
    check_max_pool2d_tie_gradient,
    max_pool2d_backward_reference,
    pool_case,
    ties,
)

__all__ = [
    "CONV_BACKWARD_BAN",
    "CONV_CASES",
    "POOL_BACKWARD_BAN",
    "POOL_CASES",
    "check_conv2d_backward",
    "check_max_pool2d_backward",
    "check_max_pool2d_tie_gradient",
    "conv2d_backward_reference",
    "conv_case",
    "max_pool2d_backward_reference",
    "pool_case",
    "ties",
]
