"""The checks every grade cell calls.

Policy
------
* The reference is the PyTorch function of the same name, captured when
  ``autograder`` was imported (see :mod:`autograder.reference`), evaluated at test
  time in float64 on the same inputs, with the student's patches undone.
* Student inputs are float32 unless the exercise says otherwise; the result must
  be a plain ``torch.Tensor`` with the reference's shape, dtype and device.
* Tolerance: ``|got - expected| <= atol * scale + rtol * |expected|`` where
  ``scale = max(1, max |expected|)``; float32 results use rtol=1e-4, atol=1e-5,
  float64 results rtol=1e-7, atol=1e-9. Infinite or NaN values must appear
  exactly where the float32/float64 reference has them.
* The student's function runs on copies; changing the caller's input fails.
* A failure raises ``AssertionError`` whose message says what is wrong and,
  where it can tell, why; it never prints the solution.
* Global state is left as found: a call that changes grad mode, the default dtype, anomaly detection or
  deterministic algorithms and does not restore them fails (see :mod:`.state`).

The package: :mod:`.verdict` (Case, CheckFailed), :mod:`.calling` (call_student: copies, guards, global state),
:mod:`.compare` (references and the tolerance policy), :mod:`.functions` (check_function, elementwise and
derivative checks), :mod:`.objects` (modules and figures).
"""

from autograder.checks.calling import (
    ERROR_HINTS,
    TIMEOUT_S,
    _copy,
    _not_implemented,
    _run_guarded,
    _same,
    call_student,
    check_raises,
    construct,
)
from autograder.checks.compare import (
    TOLERANCE,
    _compare,
    _fmt,
    _index,
    _to64,
    autograd_derivative,
    compare,
    resolve,
    run_reference,
)
from autograder.checks.functions import (
    NUMERICAL_WARNING,
    check_derivative,
    check_elementwise,
    check_function,
    check_no_warnings,
    elementwise_cases,
    is_numerical_warning,
)
from autograder.checks.objects import check_module_matches, check_plotted_lines
from autograder.checks.verdict import Case, CheckFailed, NotAttempted, check, fail

__all__ = [
    "ERROR_HINTS", "NUMERICAL_WARNING", "TIMEOUT_S", "TOLERANCE", "Case", "CheckFailed", "NotAttempted",
    "_compare", "_copy", "_fmt", "_index", "_not_implemented", "_run_guarded", "_same", "_to64",
    "autograd_derivative", "call_student", "check", "check_derivative", "check_elementwise", "check_function",
    "check_module_matches", "check_no_warnings", "check_plotted_lines", "check_raises", "compare", "construct",
    "elementwise_cases", "fail", "is_numerical_warning", "resolve", "run_reference",
]  # fmt: skip
