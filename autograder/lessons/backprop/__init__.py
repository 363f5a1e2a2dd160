"""Lesson 05, backpropagation by hand: what the grade cells of ``05a_chain_rule`` and ``05b_mlp_by_hand`` forbid
(autograd), compare with (autograd's gradients) and diagnose.

Grade cells call the names re-exported here; each concept has its module:

* :mod:`.common` — the autograd ban, references by autograd, part-by-part comparison, 05a's example logits;
* :mod:`.linear` — ``linear_backward`` (05a);
* :mod:`.numerical` — ``numerical_gradient`` and ``relative_error`` (05b);
* :mod:`.mlp` — ``mlp_forward`` and ``mlp_backward`` (05b).

``softmax_backward`` and ``log_softmax_backward`` (05a) are in :mod:`autograder.lessons.vjp`.
"""

from autograder.lessons.backprop.common import (
    AUTOGRAD_BAN,
    BY_HAND,
    EXAMPLE_LOGITS,
    EXAMPLE_TARGET,
    autograd_vjp,
    check_parts,
    close,
    close_to,
)
from autograder.lessons.backprop.linear import (
    LINEAR_PARTS,
    check_linear_backward,
    linear_backward_diagnosis,
    linear_backward_reference,
)
from autograder.lessons.backprop.mlp import (
    KEYS,
    backward_on_cache,
    check_cache_feeds_backward,
    check_mlp_backward,
    check_mlp_backward_matches,
    check_mlp_forward,
    check_mlp_forward_loss,
    forward_of,
    forward_part,
    mlp_backward_diagnosis,
    mlp_case,
    mlp_confident_case,
    mlp_gradients_reference,
    mlp_kink_case,
    mlp_reference,
    reference_backward,
    reference_part,
)
from autograder.lessons.backprop.numerical import (
    autograd_gradient,
    central_difference_diagnosis,
    central_difference_of_cube,
    check_central_difference,
    check_numerical_gradient,
    check_relative_error,
    check_relative_error_zeros,
    check_sees_float64,
    coupled,
    cube,
    numerical_gradient_diagnosis,
    recording,
    relative_error_diagnosis,
    relative_error_reference,
    wavy,
)

__all__ = [
    "AUTOGRAD_BAN",
    "BY_HAND",
    "EXAMPLE_LOGITS",
    "EXAMPLE_TARGET",
    "KEYS",
    "LINEAR_PARTS",
    "autograd_gradient",
    "autograd_vjp",
    "backward_on_cache",
    "central_difference_diagnosis",
    "central_difference_of_cube",
    "check_cache_feeds_backward",
    "check_central_difference",
    "check_linear_backward",
    "check_mlp_backward",
    "check_mlp_backward_matches",
    "check_mlp_forward",
    "check_mlp_forward_loss",
    "check_numerical_gradient",
    "check_parts",
    "check_relative_error",
    "check_relative_error_zeros",
    "check_sees_float64",
    "close",
    "close_to",
    "coupled",
    "cube",
    "forward_of",
    "forward_part",
    "linear_backward_diagnosis",
    "linear_backward_reference",
    "mlp_backward_diagnosis",
    "mlp_case",
    "mlp_confident_case",
    "mlp_gradients_reference",
    "mlp_kink_case",
    "mlp_reference",
    "numerical_gradient_diagnosis",
    "recording",
    "reference_backward",
    "reference_part",
    "relative_error_diagnosis",
    "relative_error_reference",
    "wavy",
]
