"""Grading code for lesson 08b's ``early_stopping_epoch(val_losses, patience, min_delta=0.0)``.

The rule (Keras's and PyTorch Lightning's ``EarlyStopping``, epochs counted from 0): an epoch improves when
``loss < best - min_delta`` (strict; NaN never improves); otherwise a counter goes up by one (an improvement
resets it), and training stops at the epoch where it reaches ``patience``. The answer is
``(stop_epoch or None, best_epoch or None)``. :func:`reference_early_stopping` is the reference;
:func:`diagnose_early_stopping` names the usual slip by recomputing what each slip returns.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

from autograder.checks import Case, call_student, check, check_raises, fail


def reference_early_stopping(
    val_losses: Sequence[float], patience: int, min_delta: float = 0.0
) -> tuple[int | None, int | None]:
    """(epoch at which to stop or None, epoch whose weights to restore or None), epochs counted from 0."""
    if patience < 0 or min_delta < 0 or len(val_losses) == 0:
        raise ValueError("an empty history, or a negative patience or min_delta")
    best, best_epoch, wait = math.inf, None, 0
    for epoch, loss in enumerate(val_losses):
        loss = float(loss)
        if loss < best - min_delta:
            best, best_epoch, wait = loss, epoch, 0
        else:
            wait += 1
            if wait >= patience:
                return epoch, best_epoch
    return None, best_epoch


def _improves(loss: float, best: float, previous: float, min_delta: float, mistake: str) -> bool:
    if mistake == "non_strict":
        return loss <= best - min_delta
    if mistake == "nan_improves":
        return not loss >= best - min_delta
    if mistake == "vs_previous":
        return loss < previous - min_delta
    if mistake == "delta_wrong_side":
        return loss < best + min_delta
    return loss < best - min_delta


def _slip(val_losses: Sequence[float], patience: int, min_delta: float, mistake: str) -> tuple[Any, Any]:
    """What a common mistake returns (for the diagnosis only)."""
    best, best_epoch, wait, previous, stop = math.inf, None, 0, math.inf, None
    losses = [float(v) for v in val_losses]
    for epoch, loss in enumerate(losses):
        improved = _improves(loss, best, previous, min_delta, mistake)
        previous = loss
        if improved:
            best, best_epoch = loss, epoch
            wait = wait if mistake == "no_reset" else 0
            continue
        wait += 1
        fires = {"late": wait > patience, "zero_never": 0 < patience <= wait}.get(mistake, wait >= patience)
        if fires:
            stop = epoch
            break
    if mistake == "restore_last":
        best_epoch = len(losses) - 1 if stop is None else stop
    elif mistake == "argmin_all":
        finite = [(v, i) for i, v in enumerate(losses) if not math.isnan(v)]
        best_epoch = min(finite)[1] if finite else None
    elif mistake == "one_based":
        stop = None if stop is None else stop + 1
        best_epoch = None if best_epoch is None else best_epoch + 1
    return stop, best_epoch


SLIPS = {
    "late": "training stops one epoch late: it stops at the epoch where the count of epochs without improvement "
    "reaches `patience` (with patience 2: two such epochs, then stop).",
    "zero_never": "with patience=0 training never stops; it should stop at the first epoch without improvement.",
    "restore_last": "the epoch to restore is the last one trained; early stopping restores the weights of the best "
    "epoch (the last improvement), not those of the epoch it stopped at.",
    "argmin_all": "the best epoch is looked up over the whole list, including epochs after training has stopped "
    "(and ignoring min_delta): only the epochs up to the stop were trained, and only an improvement by more "
    "than min_delta counts.",
    "non_strict": "a loss equal to best - min_delta (or a tie with the best, for min_delta = 0) counts as an "
    "improvement; an improvement must be strictly larger than min_delta.",
    "vs_previous": "each loss is compared with the previous epoch's loss; compare it with the best loss so far.",
    "no_reset": "the count of epochs without improvement is not reset when the loss improves: patience counts "
    "consecutive epochs without improvement.",
    "delta_wrong_side": "min_delta is added to the best loss; an improvement must beat the best by more than "
    "min_delta.",
    "nan_improves": "a NaN loss counts as an improvement: every comparison with NaN is False, so test for an "
    "improvement directly (is the loss lower?), not for 'not worse'.",
    "one_based": "epochs are counted from 1; count them from 0, as indices into val_losses.",
}


def diagnose_early_stopping(got: Any, val_losses: Sequence[float], patience: int, min_delta: float) -> str | None:
    """Name the mistakes whose result equals what the student returned."""
    right = reference_early_stopping(val_losses, patience, min_delta)
    found = [
        text
        for mistake, text in SLIPS.items()
        if _slip(val_losses, patience, min_delta, mistake) == tuple(got) and tuple(got) != right
    ]
    return " Or: ".join(found) if found else None


def _case_text(val_losses: Sequence[float], patience: int, min_delta: float | None) -> str:
    losses = "[" + ", ".join(f"{v:g}" for v in val_losses) + "]"
    return f"val_losses={losses}, patience={patience}" + ("" if min_delta is None else f", min_delta={min_delta:g}")


def _is_epoch(value: Any) -> bool:
    return value is None or (isinstance(value, int) and not isinstance(value, bool))


def check_early_stopping(fn: Callable, cases: Sequence[tuple]) -> None:
    """Each case is (val_losses, patience) or (val_losses, patience, min_delta); the result must equal the rule's."""
    for val_losses, patience, *rest in cases:
        kwargs = {"patience": patience} | ({"min_delta": rest[0]} if rest else {})
        label = _case_text(val_losses, patience, rest[0] if rest else None)
        got = call_student(fn, Case(label, (list(val_losses),), kwargs), name="early_stopping_epoch")
        check(
            isinstance(got, tuple | list) and len(got) == 2,
            f"`early_stopping_epoch` returned {type(got).__name__} {got!r:.60} on {label}; it should return a "
            "tuple of two values, (stop_epoch, best_epoch).",
        )
        check(
            all(_is_epoch(v) for v in got),
            f"`early_stopping_epoch` returned ({type(got[0]).__name__}, {type(got[1]).__name__}) values on {label}; "
            "each epoch is a Python int (an index into val_losses) or None. A tensor or numpy number converts with "
            "int(...) or .item().",
        )
        min_delta = rest[0] if rest else 0.0
        expected = reference_early_stopping(val_losses, patience, min_delta)
        if tuple(got) != expected:
            cause = diagnose_early_stopping(got, val_losses, patience, min_delta)
            fail(
                f"`early_stopping_epoch` returned {tuple(got)} on {label}; expected {expected}, as "
                "(stop_epoch, best_epoch)." + (f"\nLikely cause: {cause}" if cause else "")
            )


def check_early_stopping_bad_input(fn: Callable) -> None:
    """An empty history, a negative patience or a negative min_delta raise ValueError."""
    cases = [(([],), {"patience": 2}), (([0.5, 0.4],), {"patience": -1}),
             (([0.5, 0.4],), {"patience": 2, "min_delta": -0.1})]  # fmt: skip
    for args, kwargs in cases:
        label = _case_text(args[0], kwargs["patience"], kwargs.get("min_delta"))
        check_raises(
            fn, Case(label, args, kwargs), ValueError, name="early_stopping_epoch",
            why="There is no epoch to choose in an empty history, and a negative patience or min_delta means "
            "nothing: raise ValueError with a message saying which.",
        )  # fmt: skip


__all__ = [
    "SLIPS",
    "check_early_stopping",
    "check_early_stopping_bad_input",
    "diagnose_early_stopping",
    "reference_early_stopping",
]
