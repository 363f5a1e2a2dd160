"""Self-check and progress: one line per exercise, passed / failed with the message / not attempted."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import harness
from autograder import selfcheck
from autograder.notebook import load, namespace_for

RELEASE_01 = harness.RELEASE / "01_neurons" / "01_neurons.ipynb"
SOURCE_01 = harness.SOLUTIONS / "01_neurons" / "01_neurons.ipynb"


def with_cells(tmp_path: Path, replacements: dict[str, str]) -> Path:
    """A copy of the lesson 01 release with some exercise cells replaced."""
    nb = json.loads(RELEASE_01.read_text())
    for cell in nb["cells"]:
        gid = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
        if gid in replacements:
            cell["source"] = replacements[gid]
    path = tmp_path / "01_neurons.ipynb"
    path.write_text(json.dumps(nb))
    return path


def statuses(results) -> dict[str, str]:
    return {r.exercise: r.status for r in results}


def test_untouched_release_is_not_attempted() -> None:
    results = selfcheck.check_file(RELEASE_01)
    assert set(statuses(results).values()) == {"not attempted"}
    assert [r.exercise for r in results] == load(SOURCE_01).exercises()


def test_solution_passes_everything() -> None:
    assert set(statuses(selfcheck.check_file(SOURCE_01)).values()) == {"passed"}


def test_partial_work_is_reported_per_exercise(tmp_path: Path) -> None:
    solution = load(SOURCE_01).solutions
    path = with_cells(
        tmp_path,
        {
            "linear": solution["linear"],
            "neuron": "def neuron(x, w, b, activation):\n    return activation(x @ w)\n",
            "count_parameters": "def count_parameters(model)\n    return 0\n",
        },
    )
    results = {r.exercise: r for r in selfcheck.check_file(path)}
    assert results["linear"].status == "passed"
    assert results["neuron"].status == "failed" and "wrong" in results["neuron"].message
    assert results["count_parameters"].status == "error" and "SyntaxError" in results["count_parameters"].message
    assert results["MLP"].status == "not attempted"
    text = selfcheck.format_results(list(results.values()))
    assert len(text.splitlines()) == len(results) + 1 and "1 of 6 exercises pass" in text


def test_summary_checks_live_definitions(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    ns = namespace_for(load(SOURCE_01))
    assert set(statuses(selfcheck.check_lesson(load(RELEASE_01), ns)).values()) == {"passed"}
    selfcheck.summary(ns, str(RELEASE_01))
    assert "6 of 6 exercises pass" in capsys.readouterr().out


def test_check_and_progress_commands(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "autograder", "check", str(RELEASE_01)], capture_output=True, text=True
    )
    assert done.returncode == 1 and "0 of 6 exercises pass" in done.stdout
    folder = tmp_path / "notebooks"
    (folder / "01_neurons").mkdir(parents=True)
    shutil.copy(SOURCE_01, folder / "01_neurons" / "01_neurons.ipynb")
    done = subprocess.run(
        [sys.executable, "-m", "autograder", "progress", str(folder)], capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    assert " 6/6 " in done.stdout and "course" in done.stdout


def test_an_exercise_built_on_an_unfinished_one_sends_the_student_there(tmp_path: Path) -> None:
    """Lesson 02: xavier_uniform_ is finished but the calculate_fan_in_and_fan_out it calls is still a stub."""
    source = harness.SOLUTIONS / "02_initialization" / "02_xavier_kaiming.ipynb"
    nb = json.loads(source.read_text())
    for cell in nb["cells"]:
        if cell.get("metadata", {}).get("nbgrader", {}).get("grade_id") == "calculate_fan_in_and_fan_out":
            cell["source"] = "def calculate_fan_in_and_fan_out(tensor):\n    raise NotImplementedError()\n"
    path = tmp_path / source.name
    path.write_text(json.dumps(nb))
    results = {r.exercise: r for r in selfcheck.check_file(path)}
    assert results["calculate_fan_in_and_fan_out"].status == "not attempted"
    xavier = results["xavier_uniform_"]
    assert xavier.status == "not attempted", xavier
    assert "calls your `calculate_fan_in_and_fan_out`, which is not implemented yet" in xavier.message, xavier
    assert results["calculate_gain"].status == "passed"


def test_summary_prints_the_table_once_and_returns_nothing(capsys: pytest.CaptureFixture) -> None:
    """As a notebook's last line, a returned list would be shown again as its repr after the table."""
    ns = namespace_for(load(SOURCE_01))
    assert selfcheck.summary(ns, str(RELEASE_01)) is None
    out = capsys.readouterr().out
    assert out.count("exercises pass") == 1 and "ExerciseResult" not in out


def test_an_exercise_whose_cell_was_not_run_is_not_run_yet_not_failed() -> None:
    lesson = load(SOURCE_01)
    ns = namespace_for(lesson)
    del ns["neuron"]  # the student has not run the exercise cell yet
    results = {r.exercise: r for r in selfcheck.check_lesson(lesson, ns)}
    assert results["neuron"].status == "not run yet", results["neuron"]
    assert "NameError" not in results["neuron"].message and "run the cell" in results["neuron"].message
    assert results["linear"].status == "passed"
    line = next(ln for ln in selfcheck.format_results(list(results.values())).splitlines() if " neuron " in ln)
    assert "not run yet" in line and "failed" not in line


def test_a_name_error_in_the_students_own_code_is_still_a_failure() -> None:
    lesson = load(SOURCE_01)
    ns = namespace_for(lesson)
    exec("def neuron(x, w, b, activation):\n    return activation(x @ w + bais)\n", ns)  # a typo, not a cell not run
    result = next(r for r in selfcheck.check_lesson(lesson, ns) if r.exercise == "neuron")
    assert result.status in {"failed", "error"} and "bais" in result.message, result


def test_a_failed_check_in_ipython_shows_the_message_without_the_percent_tb_line(
    capsys: pytest.CaptureFixture,
) -> None:
    from IPython.core.interactiveshell import InteractiveShell

    import autograder

    shell = InteractiveShell.instance()
    try:
        autograder._short_tracebacks_in_ipython(shell)
        shell.user_ns["CheckFailed"] = autograder.CheckFailed
        capsys.readouterr()
        shell.run_cell("raise CheckFailed('sigmoid(0) should be 0.5, got 0.0')")
        out = capsys.readouterr()
        text = out.out + out.err
    finally:
        shell.set_custom_exc((), None)
        InteractiveShell.clear_instance()
    assert "sigmoid(0) should be 0.5, got 0.0" in text
    assert "%tb" not in text and "An exception has occurred" not in text
    assert "Traceback" not in text and "raise CheckFailed" not in text
