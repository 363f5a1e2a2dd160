"""Lesson 04, losses: what the grade cells of ``01_regression_and_binary_losses`` and ``02_multiclass_losses``
forbid, compare with (PyTorch's losses in variants: smooth L1 as Huber, the usual mistakes) and diagnose.

Grade cells call the names re-exported here; each concept has its module:

* :mod:`.common` — the reduction rules and their usual mistakes, and what every loss is checked for: its gradient
  (a loss is used by ``.backward()``) and NaN in, NaN out;
* :mod:`.regression` — ``mse_loss``, ``l1_loss``, ``huber_loss``, ``MSELoss``;
* :mod:`.binary` — ``binary_cross_entropy``, ``binary_cross_entropy_with_logits``, ``bce_with_logits_grad``;
* :mod:`.classes` — ``nll_loss``, ``cross_entropy``, ``cross_entropy_grad``, ``CrossEntropyLoss``;
* :mod:`.divergence` — ``kl_div``;
* :mod:`.multiclass` — the grade cells' checks of ``nll_loss``, ``cross_entropy`` and ``CrossEntropyLoss``, and
  their case builders.

The case builders (``batch``, ``given``, ``logits``, ``nll_case``, ``ce_case``, ``kl_case``...) turn a grade cell's
data (a label, a shape, a seed, the loss's keywords) into cases, so that hidden cases stay data in the cells.
"""

from autograder.lessons.losses.binary import (
    BCE,
    BCE_BAN,
    BCEL,
    BCEL_BAN,
    BCEL_HINT,
    bce_grad_cases,
    bce_grad_hint,
    bce_grad_reference,
    bce_hint,
    bce_logits_hint,
    check_bce_example,
    check_bce_grad,
    check_bce_logits_example,
    check_bce_logits_values,
    check_bce_logits_weight_and_reduction,
    check_bce_values,
    check_bce_weight_and_reduction,
    edge_logit_cases,
    edge_logits,
    logits,
    pos_weight_cases,
    pos_weight_on_negatives,
)
from autograder.lessons.losses.classes import (
    CE,
    CE_BAN,
    CE_HINT,
    NLL,
    NLL_BAN,
    RANGE_WHY,
    ce_grad_hint,
    ce_grad_reference,
    ce_hint,
    ce_module_reference,
    class_loss_hint,
    labels,
    log_probs,
    probs,
)
from autograder.lessons.losses.common import (
    AUTOGRAD_BAN,
    REDUCTION_WHY,
    batch,
    batches,
    check_gradient,
    close,
    given,
    given_cases,
    nan_cases,
    nan_hint,
    reduction_hint,
    same_as,
    same_value,
    value_and_grad,
    weight_of,
)
from autograder.lessons.losses.divergence import (
    KL_BAN,
    check_kl_example,
    check_kl_gradient,
    check_kl_log_target,
    check_kl_reductions,
    check_kl_zero_probabilities,
    kl_case,
    kl_cases,
    kl_hint,
    kl_reference,
    kl_swapped,
    kl_without_entropy,
)
from autograder.lessons.losses.multiclass import (
    ce_case,
    ce_cases,
    ce_example,
    ce_grad_cases,
    check_ce_grad,
    check_ce_gradient,
    check_ce_large_logits,
    check_ce_module_reduction_none,
    check_ce_module_value_and_grad,
    check_ce_module_weight_is_a_buffer,
    check_ce_out_of_range,
    check_ce_reduction_edges,
    check_ce_values,
    check_ce_weight,
    check_nll_example,
    check_nll_gradient,
    check_nll_out_of_range,
    check_nll_reduction_edges,
    check_nll_values,
    given_classes,
    huge_logits,
    nll_case,
    nll_cases,
    one_hot,
)
from autograder.lessons.losses.regression import (
    HUBER,
    HUBER_BAN,
    L1_BAN,
    MSE_BAN,
    check_huber_default_delta,
    check_huber_delta,
    check_huber_reduction_edges,
    check_l1_reduction_edges,
    check_l1_values,
    check_mse_batches,
    check_mse_empty_batch,
    check_mse_example,
    check_mse_module_reduction,
    check_mse_module_scalar_for_backward,
    check_mse_unknown_reduction,
    huber_hint,
    l1_example,
    smooth_l1_as_huber,
)

__all__ = [
    "AUTOGRAD_BAN", "BCE", "BCEL", "BCEL_BAN", "BCEL_HINT", "BCE_BAN", "CE", "CE_BAN", "CE_HINT", "HUBER",
    "HUBER_BAN", "KL_BAN", "L1_BAN", "MSE_BAN", "NLL", "NLL_BAN", "RANGE_WHY", "REDUCTION_WHY", "bce_grad_hint",
    "bce_grad_reference", "bce_hint", "bce_logits_hint", "ce_grad_hint", "ce_grad_reference", "ce_hint",
    "ce_module_reference", "class_loss_hint", "close", "huber_hint", "kl_hint", "kl_reference", "kl_swapped",
    "kl_without_entropy", "labels", "log_probs", "pos_weight_on_negatives", "probs", "reduction_hint", "same_as",
    "same_value", "smooth_l1_as_huber", "value_and_grad", "weight_of", "check_gradient", "nan_cases", "nan_hint",
    "batch", "batches", "given", "given_cases", "logits", "edge_logits", "pos_weight_cases", "bce_grad_cases",
    "l1_example", "check_mse_example", "check_mse_batches", "check_mse_unknown_reduction", "check_l1_values",
    "check_l1_reduction_edges", "check_huber_default_delta", "check_huber_delta", "check_huber_reduction_edges",
    "check_mse_module_scalar_for_backward", "check_mse_module_reduction", "check_bce_example", "check_bce_values",
    "check_bce_weight_and_reduction", "check_bce_logits_values", "check_bce_logits_example",
    "check_bce_logits_weight_and_reduction", "check_bce_grad", "kl_case", "kl_cases", "check_kl_example",
    "check_kl_reductions", "check_kl_zero_probabilities", "ce_case", "ce_cases", "ce_example", "huge_logits",
    "nll_case", "nll_cases", "one_hot", "check_nll_example", "check_nll_values", "check_nll_reduction_edges",
    "check_nll_out_of_range", "check_ce_values", "check_ce_large_logits", "check_ce_weight",
    "check_ce_reduction_edges", "check_ce_out_of_range", "check_ce_module_value_and_grad",
    "check_ce_module_weight_is_a_buffer", "check_ce_module_reduction_none", "check_mse_empty_batch",
    "edge_logit_cases", "check_kl_log_target", "check_kl_gradient", "ce_grad_cases", "check_ce_grad",
    "check_ce_gradient", "check_nll_gradient", "given_classes",
]  # fmt: skip
