"""Plausible wrong answers and alternative correct answers, one module per lesson.

Each module sets ``LESSON`` (its source notebook under solutions/) and ``MINIMUM`` (how many wrong and
correct variants the lesson's issue asks for), and defines variants decorated with
``@wrong(exercise, why)`` or ``@correct(exercise, why)``. A variant's source (without the decorator) is
executed in the lesson's namespace in place of the solution; the lesson's grade cells for that exercise
must reject every wrong variant with a teaching message and accept every correct one.
"""

from __future__ import annotations

import ast
import importlib
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path


@dataclass
class Variant:
    exercise: str
    why: str
    verdict: str  # "wrong" or "correct"
    source: str
    module: str


def _marker(verdict: str) -> Callable:
    def mark(exercise: str, why: str) -> Callable:
        return lambda obj: obj

    mark.__name__ = verdict
    return mark


wrong = _marker("wrong")
correct = _marker("correct")


def variants_of(path: Path) -> list[Variant]:
    """The decorated variants of one corpus module, read from its source (names may repeat)."""
    text = path.read_text()
    lines = text.splitlines()
    found = []
    for node in ast.parse(text).body:
        if not isinstance(node, ast.FunctionDef | ast.ClassDef):
            continue
        for deco in node.decorator_list:
            if isinstance(deco, ast.Call) and getattr(deco.func, "id", "") in ("wrong", "correct"):
                exercise, why = (ast.literal_eval(a) for a in deco.args)
                source = "\n".join(lines[node.lineno - 1 : node.end_lineno])
                found.append(Variant(exercise, why, deco.func.id, source, path.stem))
    return found


def modules() -> dict[str, object]:
    """Every corpus module, by name."""
    return {info.name: importlib.import_module(f"corpus.{info.name}") for info in pkgutil.iter_modules(__path__)}


def all_variants() -> list[Variant]:
    return [v for name in sorted(modules()) for v in variants_of(Path(__path__[0]) / f"{name}.py")]
