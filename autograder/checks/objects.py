"""Checks of what a student builds: a module against PyTorch's equivalent, a figure against references."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

import torch

from autograder.checks.calling import call_student
from autograder.checks.compare import _to64, compare, run_reference
from autograder.checks.verdict import Case, check
from autograder.reference import pristine


def check_module_matches(
    student: torch.nn.Module,
    ref_module: torch.nn.Module,
    cases: Iterable[Case],
    *,
    name: str,
    forbid: Sequence[str] = (),
) -> None:
    """Copy the student's parameters, in order, into an equivalent reference module; outputs must match."""
    import copy

    with pristine():
        mine = list(student.parameters())
        theirs = list(ref_module.parameters())
        check(
            len(mine) == len(theirs),
            f"`{name}` has {len(mine)} parameter tensors; the equivalent PyTorch network has {len(theirs)}. "
            "Register every layer (as an attribute, in nn.ModuleList or nn.Sequential) so that "
            "model.parameters() finds it.",
        )
        for i, (p, q) in enumerate(zip(mine, theirs, strict=True)):
            check(
                tuple(p.shape) == tuple(q.shape),
                f"parameter #{i} of `{name}` has shape {tuple(p.shape)}; expected {tuple(q.shape)} "
                "(layers in order, each weight then its bias).",
            )
        with torch.no_grad():
            for p, q in zip(mine, theirs, strict=True):
                q.copy_(p)
        ref64 = copy.deepcopy(ref_module).double()
    for case in cases:
        got = call_student(student, case, name=name, forbid=forbid)
        with pristine(), torch.no_grad():
            expected = ref64(*_to64(case.args))
            native = ref_module(*case.args)
        compare(got, expected, name=name, case=case, expected_native=native)


def check_plotted_lines(
    draw: Callable[[], Any],
    refs: Sequence[str | Callable],
    *,
    name: str,
    forbid: Sequence[str] = (),
    allowed_hint: str = "",
) -> None:
    """Check what a figure shows: panel ``i``'s first line must hold ``refs[i]`` at its own x data.

    ``draw()`` builds the figure with the student's functions, e.g.
    ``lambda: plot.plot_function_and_derivative(sigmoid, sigmoid_grad, "sigmoid")``; it runs guarded like
    any student call. Each reference is evaluated in float64 on the plotted x (nbval ignores images, so
    this is how a grade cell checks a plot). The figure is closed afterwards.
    """
    import matplotlib.pyplot as plt
    import numpy as np

    fig = call_student(draw, Case(f"drawing the figure of {name}"), name=name, forbid=forbid, allowed_hint=allowed_hint)
    try:
        check(isinstance(fig, plt.Figure), f"drawing the figure of {name} gave {type(fig).__name__}, not a Figure.")
        check(
            len(fig.axes) >= len(refs),
            f"the figure of {name} has {len(fig.axes)} panel(s); expected {len(refs)} (function, then derivative).",
        )
        for i, (ax, ref) in enumerate(zip(fig.axes, refs)):
            panel = f"panel {i + 1} ('{ax.get_title()}')"
            check(bool(ax.lines), f"{panel} of the figure of {name} shows no line.")
            line = ax.lines[0]
            x = torch.from_numpy(np.array(line.get_xdata()))
            y = torch.from_numpy(np.array(line.get_ydata()))
            check(
                x.is_floating_point() and x.shape == y.shape,
                f"{panel} of the figure of {name} does not plot one number per x (got {y.dtype} values of shape "
                f"{tuple(y.shape)} for {tuple(x.shape)} x values): return a float tensor of the input's shape.",
            )
            case = Case(f"the {x.numel()} x values plotted in {panel}", (x,))
            expected = run_reference(ref, case)
            native = run_reference(ref, case, float64=False)
            compare(y, expected, name=name, case=case, expected_native=native, elementwise_input=x, what="plotted line")
    finally:
        if isinstance(fig, plt.Figure):
            plt.close(fig)
