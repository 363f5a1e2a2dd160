"""nnlab's judge: the checks grade cells call, the nbgrader configuration and the grading commands.

Import it in a notebook's first cell: importing captures the PyTorch references
before any student code can rebind them.
"""

from autograder import (
    inputs,
    reference,  # noqa: F401  (first: captures the references)
    stats,
)
from autograder.checks import (
    Case,
    CheckFailed,
    NotAttempted,
    autograd_derivative,
    call_student,
    check,
    check_derivative,
    check_elementwise,
    check_function,
    check_module_matches,
    check_no_warnings,
    check_plotted_lines,
    check_raises,
    compare,
    construct,
    elementwise_cases,
    fail,
)
from autograder.guard import AUTOGRAD, forbid, time_limit
from autograder.reference import pristine
from autograder.selfcheck import summary

__all__ = [
    "AUTOGRAD",
    "inputs",
    "stats",
    "reference",
    "Case",
    "CheckFailed",
    "NotAttempted",
    "summary",
    "call_student",
    "autograd_derivative",
    "check",
    "check_derivative",
    "check_elementwise",
    "check_function",
    "check_module_matches",
    "check_no_warnings",
    "check_plotted_lines",
    "check_raises",
    "compare",
    "construct",
    "elementwise_cases",
    "fail",
    "forbid",
    "pristine",
    "time_limit",
]


def _short_tracebacks_in_ipython(shell=None) -> None:  # noqa: ANN001
    """In a notebook, a failed check shows its teaching message only: no traceback of the checks library, and not
    IPython's "An exception has occurred, use %tb to see the full traceback." line either."""
    if shell is None:
        try:
            from IPython import get_ipython
        except ImportError:
            return
        shell = get_ipython()
    if shell is None:
        return

    def show_message_only(shell, etype, evalue, tb, tb_offset=None):  # noqa: ANN001, ANN202
        shell._showtraceback(etype, evalue, shell.InteractiveTB.get_exception_only(etype, evalue))

    shell.set_custom_exc((CheckFailed,), show_message_only)


_short_tracebacks_in_ipython()
