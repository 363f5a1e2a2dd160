"""Every grade check rejects the corpus's plausible wrong answers and accepts its correct variants."""

from __future__ import annotations

from collections import Counter

import pytest

import autograder
import corpus
import harness

MODULES = corpus.modules()
VARIANTS = corpus.all_variants()
_loaded: dict = {}


def lesson_for(variant: corpus.Variant) -> harness.Lesson:
    """The notebook that holds the variant's exercise: LESSON names a notebook or an assignment folder."""
    target = harness.SOLUTIONS / MODULES[variant.module].LESSON
    paths = [target] if target.suffix == ".ipynb" else sorted(target.glob("*.ipynb"))
    for path in paths:
        if path not in _loaded:
            _loaded[path] = harness.load(path)
        if variant.exercise in _loaded[path].solutions:
            return _loaded[path]
    raise AssertionError(f"no notebook in {target} has an exercise named {variant.exercise}")


def variant_id(v: corpus.Variant) -> str:
    return f"{v.module}:{v.exercise}:{v.verdict}:{v.why}"


@pytest.mark.parametrize("variant", VARIANTS, ids=variant_id)
@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # wrong answers overflow; grade cells that care record it
@pytest.mark.filterwarnings("ignore:var\\(\\):UserWarning")  # a wrong variance on 1 sample
@pytest.mark.filterwarnings("ignore:debug:UserWarning")  # the correct variant that warns as it debugs (noise)
@pytest.mark.filterwarnings("ignore:Initializing zero-element tensors:UserWarning")  # a kaiming_ that warns as torch's
def test_variant(variant: corpus.Variant) -> None:
    lesson = lesson_for(variant)
    gids = lesson.grade_ids(variant.exercise)
    assert gids, f"no grade cells named test_{variant.exercise}__* in {lesson.path.name}"
    ns = harness.namespace_for(lesson)
    harness.exec_variant(ns, variant.source)
    results = harness.run_grade_cells(lesson, ns, gids)
    for gid, exc in results.items():
        assert exc is None or isinstance(exc, autograder.CheckFailed), (
            f"{gid} crashed instead of explaining: {type(exc).__name__}: {exc}"
        )
    failed = {gid: str(exc) for gid, exc in results.items() if exc is not None}
    if variant.verdict == "correct":
        assert not failed, f"a correct {variant.exercise} ({variant.why}) was rejected: {failed}"
    else:
        assert failed, f"a wrong {variant.exercise} ({variant.why}) passed every check: {gids}"
        assert all(len(msg) > 30 for msg in failed.values()), failed


@pytest.mark.parametrize("name", sorted(MODULES))
def test_corpus_size(name: str) -> None:
    """Each lesson keeps at least the corpus its issue asks for."""
    counts = Counter(v.verdict for v in VARIANTS if v.module == name)
    n_wrong, n_correct = MODULES[name].MINIMUM
    assert counts["wrong"] >= n_wrong and counts["correct"] >= n_correct, counts


@pytest.mark.parametrize("path", harness.source_notebooks(), ids=lambda p: p.parent.name + "/" + p.name)
def test_solution_passes_its_own_checks(path) -> None:
    """The reference solution passes every grade cell (in-process, without a kernel)."""
    lesson = harness.load(path)
    ns = harness.namespace_for(lesson)
    results = harness.run_grade_cells(lesson, ns, list(lesson.grades))
    assert not any(results.values()), {k: repr(v) for k, v in results.items() if v}
