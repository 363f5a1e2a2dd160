"""Grading code of lesson 07 (convolutions): grade cells call the names re-exported here; each concept has its
module:

* :mod:`.conv` — ``conv2d_output_size`` (PyTorch's conv2d measures the size) and ``conv2d`` (ban list, cases,
  diagnosis, its gradients by autograd);
* :mod:`.pooling` — ``max_pool2d`` (ban list, cases, diagnosis, its gradient);
* :mod:`.network` — ``SimpleCNN`` (the fixed network with the student's weights copied in) and
  ``receptive_field`` (measured by autograd).
"""

from autograder.lessons.convolutions.conv import (
    CONV,
    CONV_BAN,
    CONV_HINT,
    SIZE_CASES,
    check_conv2d_edges,
    conv_case,
    conv_grads,
    conv_hint,
    output_size_hint,
    output_size_reference,
)
from autograder.lessons.convolutions.network import (
    CNN_BAN,
    NETWORKS,
    check_parameter_shapes,
    check_simple_cnn,
    fixed_seed_network,
    float64_copy,
    images,
    receptive_field_hint,
    receptive_field_reference,
    simple_cnn_hint,
)
from autograder.lessons.convolutions.pooling import (
    POOL,
    POOL_BAN,
    POOL_HINT,
    check_max_pool2d_edges,
    pool_case,
    pool_grads,
    pool_hint,
)

__all__ = [
    "CNN_BAN",
    "CONV",
    "CONV_BAN",
    "CONV_HINT",
    "NETWORKS",
    "POOL",
    "POOL_BAN",
    "POOL_HINT",
    "SIZE_CASES",
    "check_conv2d_edges",
    "check_max_pool2d_edges",
    "check_parameter_shapes",
    "check_simple_cnn",
    "conv_case",
    "conv_grads",
    "conv_hint",
    "fixed_seed_network",
    "float64_copy",
    "images",
    "output_size_hint",
    "output_size_reference",
    "pool_case",
    "pool_grads",
    "pool_hint",
    "receptive_field_hint",
    "receptive_field_reference",
    "simple_cnn_hint",
]
