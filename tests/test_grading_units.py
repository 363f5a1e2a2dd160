"""The grader's parts that need no worker: cleaning a notebook, finding submissions, zips, shards."""

from __future__ import annotations

import zipfile
from pathlib import Path

import hostile
import nbformat
import pytest
from hostile import lesson_01

from autograder.grading import clean, discover, review

LESSON = hostile.Lesson(*lesson_01.LESSON)


def _raw(nb) -> bytes:
    return nbformat.writes(nb).encode()


def test_clean_submission_is_untouched() -> None:
    result = clean.clean(_raw(LESSON.solved()), LESSON.source)
    assert result.status == "ok" and not result.repairs and not result.lossy
    assert result.exercises == {k: v.strip() + "\n" for k, v in LESSON.solutions.items()}


def test_clean_restores_tests_from_the_source_with_hidden_tests() -> None:
    nb = LESSON.solved()
    i = hostile.cell_index(nb, "test_linear__batch_dims")
    nb.cells[i].source = "pass"
    result = clean.clean(_raw(nb), LESSON.source)
    restored = next(
        c for c in result.nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "test_linear__batch_dims"
    )
    assert "### BEGIN HIDDEN TESTS" in restored.source  # graded with the source's hidden tests
    assert result.repairs == ["restored edited test cell test_linear__batch_dims"]
    assert not result.lossy


def test_clean_keeps_the_student_answer_of_a_duplicated_exercise_and_says_so() -> None:
    nb = LESSON.solved({"neuron": "def neuron(x, w, b, activation):\n    return 1\n"})
    i = hostile.cell_index(nb, "neuron")
    twin = nbformat.v4.new_code_cell("def neuron(x, w, b, activation):\n    return 2\n", metadata=nb.cells[i].metadata)
    nb.cells.insert(i + 1, twin)
    result = clean.clean(_raw(nb), LESSON.source)
    assert "return 2" in result.exercises["neuron"]
    assert result.lossy and "appears 2 times" in result.repairs[0]


@pytest.mark.parametrize(
    "raw, phrase",
    [(b"", "not valid JSON"), (b'{"cells": 3}', "not a notebook"), (b"\xff\xfe{", "not valid JSON")],
)
def test_clean_reports_corrupt_files(raw: bytes, phrase: str) -> None:
    result = clean.clean(raw, LESSON.source)
    assert result.status == "corrupt" and phrase in result.reason


def test_clean_salvages_an_invalid_but_readable_notebook() -> None:
    nb = LESSON.solved()
    data = nbformat.writes(nb)
    broken = data.replace('"nbformat": 4', '"nbformat": 4, "extra_key": 1', 1)
    result = clean.clean(broken.encode(), LESSON.source)
    assert result.status == "repaired" and "repaired an invalid notebook structure" in result.repairs


def test_misnamed_notebooks_are_matched(tmp_path: Path) -> None:
    for name in ["01_neurons-Copy1.ipynb", "notes.ipynb"]:
        (tmp_path / name).write_text("{}")
    found = discover.notebooks_in(tmp_path)
    match = discover.match_notebooks(["01_neurons.ipynb"], found, tmp_path)
    assert match["01_neurons.ipynb"].path.name == "01_neurons-Copy1.ipynb"
    assert "misnamed" in match["01_neurons.ipynb"].repair
    exact = discover.match_notebooks(["notes.ipynb"], found, tmp_path)
    assert exact["notes.ipynb"].path.name == "notes.ipynb" and not exact["notes.ipynb"].repair


def test_zip_extraction_refuses_paths_outside_and_keeps_only_notebooks(tmp_path: Path) -> None:
    archive = tmp_path / "subs.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("alice/01_neurons/01_neurons.ipynb", "{}")
        zf.writestr("../escape.ipynb", "{}")
        zf.writestr("/abs/escape.ipynb", "{}")
        zf.writestr("alice/01_neurons/torch.py", "import os")
    out = discover.extract_zip(archive, tmp_path / "x")
    files = sorted(str(p.relative_to(out)) for p in out.rglob("*") if p.is_file())
    assert files == [".complete", "alice/01_neurons/01_neurons.ipynb"]
    assert not (tmp_path / "escape.ipynb").exists()


def test_shards_partition_the_students() -> None:
    names = [f"student{i}" for i in range(200)]
    shards = [discover.shard_of(n, 3) for n in names]
    assert set(shards) == {1, 2, 3} and shards == [discover.shard_of(n, 3) for n in names]


# ---------------------------------------------------------------- review: code an instructor should read


def test_review_leaves_every_solution_and_honest_corpus_answer_alone() -> None:
    import corpus
    from autograder.notebook import strip_markers
    from harness import SOLUTIONS

    exercises = {}
    for path in sorted(SOLUTIONS.glob("*/*.ipynb")):
        for cell in clean.load_source(path).exercises():
            exercises[f"{path.name}:{cell.grade_id}"] = strip_markers(cell.cell.source)
    assert len(exercises) >= 69
    assert review.scan(exercises) == []
    honest = [v for v in corpus.all_variants() if "to hide" not in v.why]
    assert len(honest) > 500
    assert review.scan({f"{v.module}:{v.exercise}:{v.why}": v.source for v in honest}) == []


@pytest.mark.parametrize(
    ("code", "phrase"),
    [
        ("with torch._C.DisableTorchFunction():\n    y = F.linear(x, w)", "torch._C.DisableTorchFunction"),
        ("from torch._C import DisableTorchFunction", "DisableTorchFunction"),
        ("import sys\nsys.setprofile(None)", "sys.setprofile"),
        ("torch.allclose = lambda *a, **k: True", "torch.allclose = ..."),
        ("setattr(torch, 'sigmoid', my_sigmoid)", "setattr(torch, ...)"),
        ("import ctypes", "ctypes"),
        ('exec("y = F.linear(x, w)")', "exec"),
        ("from os import fork\nfork()", "os.fork"),
        ("import sys\nsys.modules['autograder'] = fake", "sys.modules"),
        ("from concurrent.futures import ThreadPoolExecutor", "concurrent"),
        ("import autograder.guard", "autograder"),
        ("f = sys._getframe(1).f_back.f_globals", "sys._getframe"),
        ("class T(torch.Tensor):\n    @classmethod\n    def __torch_function__(cls, *a): ...", "__torch_function__"),
        ("get_ipython().input_transformers_post.append(f)", "input_transformers_post"),
    ],
)
def test_review_names_code_that_reaches_into_the_judge(code: str, phrase: str) -> None:
    (line,) = review.scan({"linear": code})
    assert line.startswith("linear: ") and phrase in line, line


@pytest.mark.parametrize(
    "code",
    [
        "signal = x[:, 0]\nsocket = signal * 2",  # a student's variable names
        "for m in model.modules():\n    pass\nmodel.eval()",
        "import os.path\nfrom os import path",
        "torch.backends.cudnn.benchmark = True",  # a setting, not a function
    ],
)
def test_review_does_not_flag_ordinary_names(code: str) -> None:
    assert review.scan({"conv2d": code}) == []


def test_review_skips_code_that_does_not_parse() -> None:
    assert review.scan({"linear": "def linear(:\n    import ctypes"}) == []
