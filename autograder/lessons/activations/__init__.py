"""Lesson 03, classic activations (sigmoid, tanh, relu, leaky_relu): what their grade cells forbid, compare with
and diagnose. Grade cells call the names re-exported here; each notebook has its module:

* :mod:`.common` — an exercise's spec, stability at the edges, agreement with autograd, shared comparisons;
* :mod:`.sigmoid` — ``sigmoid``, ``sigmoid_grad``, ``SigmoidFunction`` (``01_sigmoid``);
* :mod:`.tanh` — ``tanh``, ``tanh_grad`` (``02_tanh``);
* :mod:`.relu` — ``relu``, ``relu_grad`` (``03_relu``);
* :mod:`.leaky` — ``leaky_relu``, ``leaky_relu_grad``, ``LeakyReLU`` (``04_leaky_relu``).
"""

from autograder.lessons.activations.common import (
    NOISY,
    REF_SIGMOID,
    REF_TANH,
    Exercise,
    as_float64,
    check_far_float64,
    check_matches_autograd,
    check_stable_at_extremes,
    close_but_noisy,
    near,
    quiet,
)
from autograder.lessons.activations.leaky import (
    LEAKY_BAN,
    LEAKY_GRAD_BAN,
    LEAKY_HINT,
    check_grad_at_zero,
    check_grad_matches_autograd,
    check_leaky_inplace,
    check_leaky_module,
    check_leaky_modules,
    check_leaky_repr,
    check_negative_slope,
    diagnose_leaky_relu,
    diagnose_leaky_relu_grad,
)
from autograder.lessons.activations.relu import (
    RELU_BAN,
    RELU_GRAD_BAN,
    RELU_HINT,
    check_relu_properties,
    diagnose_relu,
    diagnose_relu_grad,
)
from autograder.lessons.activations.sigmoid import (
    SIGMOID,
    SIGMOID_BAN,
    SIGMOID_GRAD,
    SIGMOID_GRAD_BAN,
    SIGMOID_HINT,
    check_gradcheck,
    check_sigmoid_function_backward,
    check_sigmoid_properties,
    diagnose_sigmoid,
    diagnose_sigmoid_grad,
)
from autograder.lessons.activations.tanh import (
    TANH,
    TANH_BAN,
    TANH_GRAD,
    TANH_GRAD_BAN,
    TANH_HINT,
    check_tanh_properties,
    diagnose_tanh,
    diagnose_tanh_grad,
)
from autograder.lessons.nonfinite import check_nan_and_inf

__all__ = [
    "LEAKY_BAN", "LEAKY_GRAD_BAN", "LEAKY_HINT", "NOISY", "REF_SIGMOID", "REF_TANH", "RELU_BAN", "RELU_GRAD_BAN",
    "RELU_HINT", "SIGMOID", "SIGMOID_BAN", "SIGMOID_GRAD", "SIGMOID_GRAD_BAN", "SIGMOID_HINT", "TANH", "TANH_BAN",
    "TANH_GRAD", "TANH_GRAD_BAN", "TANH_HINT", "Exercise", "as_float64", "check_far_float64", "check_grad_at_zero",
    "check_grad_matches_autograd", "check_gradcheck", "check_leaky_inplace", "check_leaky_module",
    "check_leaky_modules", "check_leaky_repr", "check_matches_autograd", "check_nan_and_inf",
    "check_negative_slope", "check_relu_properties", "check_sigmoid_function_backward", "check_sigmoid_properties",
    "check_stable_at_extremes", "check_tanh_properties", "close_but_noisy", "diagnose_leaky_relu",
    "diagnose_leaky_relu_grad", "diagnose_relu", "diagnose_relu_grad", "diagnose_sigmoid", "diagnose_sigmoid_grad",
    "diagnose_tanh", "diagnose_tanh_grad", "near", "quiet",
]  # fmt: skip
