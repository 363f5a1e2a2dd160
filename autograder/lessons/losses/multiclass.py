"""Lesson 04, losses over classes: the grade cells' checks of nll_loss, cross_entropy and CrossEntropyLoss, and the
case builders they share (seeded logits or log-probabilities, class indices or probabilities)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import torch

import autograder as ag
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
    check_gradient,
    check_unknown_reductions,
    loss_kwargs,
    value_and_grad,
)


# ---------------------------------------------------------------- case builders
def one_hot(n: int, n_classes: int, seed: int) -> torch.Tensor:
    """n one-hot float rows of seeded class indices: probability targets that are certain."""
    return ag.reference.get("torch.nn.functional.one_hot")(labels(n, n_classes, seed), n_classes).float()


def _case(label: str, x: torch.Tensor, n: int, n_classes: int, seed: int, reduction: str | None, *,
          soft: bool, target: Any, weight: Any, kwargs: dict[str, Any]) -> ag.Case:  # fmt: skip
    """The case of input ``x``: targets drawn from ``seed + 1`` unless given (a class for all, or a tensor)."""
    if target is None:
        target = probs(n, n_classes, seed + 1) if soft else labels(n, n_classes, seed + 1)
    elif isinstance(target, int):
        target = torch.full((n,), target)
    args = (x, target) if weight is None else (x, target, torch.tensor(weight))
    return ag.Case(label, args, loss_kwargs(reduction, kwargs))


def nll_case(
    label: str,
    n: int,
    n_classes: int,
    seed: int,
    reduction: str | None = None,
    *,
    dtype: torch.dtype = torch.float32,
    weight: Sequence[float] | None = None,
    target: int | torch.Tensor | None = None,
    **kwargs: Any,
) -> ag.Case:
    """Seeded (n, C) log-probabilities (from ``seed``) and class indices (from ``seed + 1``; or every target the
    class ``target``), in ``dtype``; a class ``weight`` is passed positionally (the reference sees it in float64)."""
    x = log_probs(n, n_classes, seed).to(dtype)
    return _case(label, x, n, n_classes, seed, reduction, soft=False, target=target, weight=weight, kwargs=kwargs)


def nll_cases(label: str, n: int, n_classes: int, seed: int, reductions: Sequence[str], **options: Any) -> list:
    """:func:`nll_case` once per reduction, the reduction named in the label."""
    return [nll_case(f'{label}, reduction "{r}"', n, n_classes, seed, r, **options) for r in reductions]


def ce_case(
    label: str,
    n: int,
    n_classes: int,
    seed: int,
    reduction: str | None = None,
    *,
    scale: float = 1.0,
    dtype: torch.dtype = torch.float32,
    soft: bool = False,
    weight: Sequence[float] | None = None,
    target: int | torch.Tensor | None = None,
    **kwargs: Any,
) -> ag.Case:
    """Seeded (n, C) logits (from ``seed``, times ``scale``, in ``dtype``) and targets from ``seed + 1``: class
    indices, or class probabilities if ``soft`` (or the given ``target``); a class ``weight`` goes positionally."""
    x = ag.inputs.randn(n, n_classes, seed=seed, scale=scale).to(dtype)
    return _case(label, x, n, n_classes, seed, reduction, soft=soft, target=target, weight=weight, kwargs=kwargs)


def ce_cases(label: str, n: int, n_classes: int, seed: int, reductions: Sequence[str], **options: Any) -> list:
    """:func:`ce_case` once per reduction, the reduction named in the label."""
    return [ce_case(f'{label}, reduction "{r}"', n, n_classes, seed, r, **options) for r in reductions]


HUGE = [[1e4, -1e4, 0.0], [-1e4, 1e4, 0.0], [0.0, -1e4, 1e4], [1e4, 0.0, -1e4], [89.5, -89.5, 0.0]]
HUGE_TARGET = [0, 0, 1, 2, 1]


def huge_logits(
    label: str, reduction: str | None = None, *, target: torch.Tensor | None = None, **kwargs: Any
) -> ag.Case:
    """Logits of ±1e4 and ±89.5 (5 rows, 3 classes) with their class indices, or the given ``target``."""
    target = torch.tensor(HUGE_TARGET) if target is None else target
    return ag.Case(label, (torch.tensor(HUGE), target), loss_kwargs(reduction, kwargs))


def ce_example() -> ag.Case:
    """The first two rows of the notebook's example, reduction none."""
    logits = torch.tensor([[2.0, 1.0, 0.1], [0.5, 2.5, 0.3]])
    return ag.Case("the first two rows of the example above, reduction none", (logits, torch.tensor([0, 1])),
                   {"reduction": "none"})  # fmt: skip


def _empty(n_classes: int = 3) -> tuple[torch.Tensor, torch.Tensor]:
    return torch.empty(0, n_classes), torch.empty(0, dtype=torch.long)


def _out_of_range(fn: Callable, x: torch.Tensor, targets: Sequence[Sequence[int]], ban: tuple[str, ...]) -> None:
    for t in targets:
        ag.check_raises(fn, ag.Case(f"C = {x.shape[1]} classes and targets {list(t)}", (x, torch.tensor(t))),
                        Exception, forbid=ban, why=RANGE_WHY)  # fmt: skip


# ---------------------------------------------------------------- nll_loss
def check_nll_example(nll_loss: Callable) -> None:
    """nll_loss equals F.nll_loss on the example of the notebook and on random log-probabilities."""
    log_q = torch.log(torch.tensor([[0.7, 0.2, 0.1], [0.1, 0.1, 0.8], [0.3, 0.4, 0.3]]))
    y = torch.tensor([0, 2, 1])
    cases = [ag.Case("the example above, reduction none", (log_q, y), {"reduction": "none"}),
             ag.Case("the example above, default reduction", (log_q, y)),
             nll_case("(32, 5) log-probabilities, reduction sum", 32, 5, 1, "sum"),
             nll_case("(32, 5) float64 log-probabilities", 32, 5, 3, dtype=torch.float64)]  # fmt: skip
    check_nll_values(nll_loss, cases)


def check_nll_values(nll_loss: Callable, cases: Sequence[ag.Case]) -> None:
    """nll_loss equals F.nll_loss on the cases."""
    ag.check_function(nll_loss, NLL, cases, forbid=NLL_BAN, allowed_hint="gather or indexing",
                      diagnose=class_loss_hint(NLL))  # fmt: skip


def check_nll_reduction_edges(nll_loss: Callable) -> None:
    """An unknown reduction raises ValueError; an empty batch gives what F.nll_loss gives (mean: nan)."""
    cases = [ag.Case(f'an empty batch, reduction "{r}"', _empty(), {"reduction": r}) for r in ("mean", "sum", "none")]
    check_unknown_reductions(nll_loss, ["avg"], nll_case("", 4, 3, 7).args, forbid=NLL_BAN)
    ag.check_function(nll_loss, NLL, cases, forbid=NLL_BAN, diagnose=class_loss_hint(NLL))


def check_nll_out_of_range(nll_loss: Callable, targets: Sequence[Sequence[int]]) -> None:
    """Each target row (for C = 3 classes) holds a class outside 0..C-1: nll_loss raises."""
    _out_of_range(nll_loss, log_probs(2, 3, seed=9), targets, NLL_BAN)


# ---------------------------------------------------------------- cross_entropy
def check_ce_values(cross_entropy: Callable, cases: Sequence[ag.Case]) -> None:
    """cross_entropy equals F.cross_entropy on the cases."""
    ag.check_function(cross_entropy, CE, cases, forbid=CE_BAN, allowed_hint=CE_HINT, diagnose=ce_hint)


def check_ce_large_logits(cross_entropy: Callable, cases: Sequence[ag.Case]) -> None:
    """Logits near 1000 give F.cross_entropy's losses to float32's rounding; then the cases (logits of ±1e4)."""
    # float32 rounding: z_y - logsumexp(z) near 1000 is exact to ~6e-5, hence atol 1e-4 for that case
    near_1000 = ag.Case("(16, 5) logits near 1000, reduction none", (1000 + ag.inputs.randn(16, 5, seed=16),
                        labels(16, 5, seed=17)), {"reduction": "none"})  # fmt: skip
    ag.check_function(cross_entropy, CE, [near_1000], forbid=CE_BAN, allowed_hint=CE_HINT, diagnose=ce_hint, atol=1e-4)
    check_ce_values(cross_entropy, cases)


def check_ce_weight(cross_entropy: Callable) -> None:
    """A class weight scales each sample by w[y_i]; "mean" divides by the total weight of the targets."""
    check_ce_values(cross_entropy, ce_cases("weight [1, 3, 0.5, 2]", 40, 4, 19, ("none", "mean", "sum"), scale=2,
                                            weight=[1.0, 3.0, 0.5, 2.0]))  # fmt: skip


def check_ce_reduction_edges(cross_entropy: Callable) -> None:
    """An unknown reduction raises ValueError; empty batches give what F.cross_entropy gives (mean: nan)."""
    cases = [ag.Case(f'an empty batch with class indices, reduction "{r}"', _empty(), {"reduction": r})
             for r in ("mean", "sum", "none")]  # fmt: skip
    cases.append(ag.Case("an empty batch with probability targets, reduction mean", (torch.empty(0, 3),) * 2))
    check_unknown_reductions(cross_entropy, ["avg"], ce_case("", 4, 3, 26).args, forbid=CE_BAN)
    check_ce_values(cross_entropy, cases)


def check_ce_out_of_range(cross_entropy: Callable, targets: Sequence[Sequence[int]]) -> None:
    """Each target row (for C = 3 classes) holds a class outside 0..C-1: cross_entropy raises."""
    _out_of_range(cross_entropy, ag.inputs.randn(2, 3, seed=28), targets, CE_BAN)


# ---------------------------------------------------------------- CrossEntropyLoss
def _shown(settings: dict[str, Any]) -> str:
    return ", ".join(f"{k}={v.tolist() if isinstance(v, torch.Tensor) else v!r}" for k, v in settings.items())


def check_ce_module_value_and_grad(cls: Callable) -> None:
    """CrossEntropyLoss(...)(logits, target) gives nn.CrossEntropyLoss's value (a 0-d tensor) and gradient for a
    weight, label smoothing, both, and reduction "sum"."""
    x, y = ce_case("", 12, 4, 50, scale=2).args
    w = torch.tensor([1.0, 2.0, 0.5, 1.5])
    for kw in [{}, {"weight": w}, {"label_smoothing": 0.1}, {"weight": w, "label_smoothing": 0.2, "reduction": "sum"}]:
        shown = _shown(kw)
        criterion = ag.construct(cls, forbid=CE_BAN, **kw)
        case = ag.Case(f"CrossEntropyLoss({shown}) on (12, 4) logits", (x, y))
        out = ag.call_student(criterion, case, name=f"CrossEntropyLoss({shown})", forbid=CE_BAN)
        ag.check(isinstance(out, torch.Tensor) and out.dim() == 0, f"CrossEntropyLoss({shown}) should return a 0-d "
                 "tensor, one number that .backward() accepts.")  # fmt: skip
        ag.check_function(value_and_grad(criterion), value_and_grad(ce_module_reference(**kw)), [case],
                          name=f"CrossEntropyLoss({shown}) (value, gradient)", forbid=CE_BAN)  # fmt: skip


def check_ce_module_weight_is_a_buffer(cls: Callable) -> None:
    """The class weight is a buffer: saved in state_dict, converted by .double(), never a trainable parameter."""
    criterion = ag.construct(cls, weight=torch.tensor([1.0, 2.0, 0.5]), forbid=CE_BAN)
    ag.check(not list(criterion.parameters()), "CrossEntropyLoss has trainable parameters: the class weight is fixed "
             "data, register it with self.register_buffer('weight', weight), not nn.Parameter.")  # fmt: skip
    ag.check("weight" in dict(criterion.named_buffers()), "the class weight is not a buffer of the module: use "
             "self.register_buffer('weight', weight), so that it is saved and follows .to(device) and "
             ".double().")  # fmt: skip
    criterion = criterion.double()
    ag.check(criterion.weight.dtype == torch.float64, "after .double() the weight is still float32: store it with "
             "register_buffer so that the module converts it.")  # fmt: skip
    x, y = ag.inputs.randn(6, 3, seed=52).double(), labels(6, 3, seed=53)
    ag.check_function(criterion, ce_module_reference(weight=torch.tensor([1.0, 2.0, 0.5])),
                      [ag.Case("CrossEntropyLoss(weight=...).double() on float64 logits", (x, y))],
                      name="CrossEntropyLoss(weight=...).double()", forbid=CE_BAN)  # fmt: skip


def check_ce_module_reduction_none(cls: Callable) -> None:
    """CrossEntropyLoss(reduction="none", label_smoothing=0.1) gives nn.CrossEntropyLoss's per-sample losses, and
    .backward() through them its gradient."""
    shown = 'CrossEntropyLoss(reduction="none", label_smoothing=0.1)'
    criterion = ag.construct(cls, reduction="none", label_smoothing=0.1, forbid=CE_BAN)
    reference = ce_module_reference(reduction="none", label_smoothing=0.1)
    cases = [ce_case(f"{shown} on (12, 4) logits", 12, 4, 54, scale=2)]
    ag.check_function(criterion, reference, cases, name=shown, forbid=CE_BAN)
    check_gradient(criterion, reference, cases, name=shown, forbid=CE_BAN)


# ---------------------------------------------------------------- gradients: through autograd, and by hand
def check_nll_gradient(nll_loss: Callable) -> None:
    """nll_loss stays connected to input: .backward() through it gives F.nll_loss's gradient, with a class weight."""
    cases = [nll_case("(10, 4) log-probabilities", 10, 4, 90),
             nll_case('(10, 4) log-probabilities with weight [1, 3, 0.5, 2], reduction "none"', 10, 4, 90, "none",
                      weight=[1.0, 3.0, 0.5, 2.0])]  # fmt: skip
    check_gradient(nll_loss, NLL, cases, name="nll_loss", forbid=NLL_BAN)


def check_ce_gradient(cross_entropy: Callable) -> None:
    """cross_entropy stays connected to input: .backward() gives F.cross_entropy's gradient, for class indices (with
    label smoothing) and for probabilities."""
    x, y = ce_case("", 10, 4, 92, scale=2).args
    cases = [ag.Case("(10, 4) logits, class indices, label_smoothing 0.1", (x, y), {"label_smoothing": 0.1}),
             ag.Case('(10, 4) logits, probability targets, reduction "sum"', (x, probs(10, 4, seed=94)),
                     {"reduction": "sum"})]  # fmt: skip
    check_gradient(cross_entropy, CE, cases, name="cross_entropy", forbid=CE_BAN)


def given_classes(label: str, logits: Sequence[Sequence[float]], target: Sequence[int], **kwargs: Any) -> ag.Case:
    """A case of literal logits (float32) and class indices (int64)."""
    return ag.Case(label, (torch.tensor(logits), torch.tensor(target)), loss_kwargs(None, kwargs))


def ce_grad_cases() -> list[ag.Case]:
    """The visible cases of cross_entropy_grad: the example (a row near 1000 in it), random logits in float32 and
    float64, logits near 1000."""
    example = [[2.0, 1.0, 0.1], [0.5, 2.5, 0.3], [1000.0, 999.0, 998.0]]
    near_1000 = (1000 + ag.inputs.randn(8, 3, seed=34), labels(8, 3, seed=35))
    return [
        given_classes("the 3 x 3 example of Exercise 2", example, [0, 1, 2]),
        ce_case("(32, 10) random logits", 32, 10, 30, scale=3),
        ce_case("(6, 4) float64 logits", 6, 4, 32, dtype=torch.float64),
        ag.Case("(8, 3) logits near 1000", near_1000),
    ]


def check_ce_grad(cross_entropy_grad: Callable, cases: Sequence[ag.Case]) -> None:
    """cross_entropy_grad equals autograd's gradient of the mean cross-entropy on the cases, without autograd."""
    ag.check_function(cross_entropy_grad, ce_grad_reference, cases, forbid=CE_BAN + AUTOGRAD_BAN,
                      allowed_hint="torch.softmax and a one-hot of the targets", diagnose=ce_grad_hint)  # fmt: skip
