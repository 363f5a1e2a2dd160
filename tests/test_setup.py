"""The environment the README promises: pinned requirements, nbgrader's lab extension, ruff-clean code."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import harness

ROOT = harness.ROOT
BIN = Path(sys.executable).parent


def readme_commands() -> list[str]:
    """The shell commands of README.md's first code block."""
    text = (ROOT / "README.md").read_text()
    block = re.search(r"```bash\n(.*?)```", text, re.DOTALL)
    assert block, "README.md must open with a bash block holding the two commands"
    return [ln for ln in block.group(1).splitlines() if ln.strip() and not ln.startswith("#")]


def test_readme_opens_with_setup_and_test_commands() -> None:
    setup, test = readme_commands()[:2]
    assert "python3 -m venv .venv" in setup and "pip install -r requirements.txt" in setup and "jupyter lab" in setup
    assert "pytest" in test


def test_ci_runs_exactly_the_readme_test_command() -> None:
    test = readme_commands()[1]
    ci = (ROOT / ".ci" / "run").read_text()
    assert test in ci.splitlines(), f".ci/run must run the README's test command verbatim: {test}"
    assert "pip install -r requirements.txt" in ci and "python3 -m venv" in ci


def test_requirements_are_pinned_and_torch_is_the_cpu_pin() -> None:
    lines = [ln.split("#")[0].strip() for ln in (ROOT / "requirements.txt").read_text().splitlines()]
    reqs = [ln for ln in lines if ln and not ln.startswith("-e")]
    assert all("==" in r for r in reqs), [r for r in reqs if "==" not in r]
    assert "torch==2.13.0" in reqs
    assert not any(r.startswith("torchvision") for r in reqs)


def test_nbgrader_lab_and_server_extensions_are_enabled() -> None:
    lab = subprocess.run([BIN / "jupyter", "labextension", "list"], capture_output=True, text=True, check=True)
    assert re.search(r"@jupyter/nbgrader v[\d.]+ \S*enabled", lab.stdout + lab.stderr), lab.stdout + lab.stderr
    server = subprocess.run([BIN / "jupyter", "server", "extension", "list"], capture_output=True, text=True)
    out = server.stdout + server.stderr
    for ext in ("formgrader", "assignment_list", "validate_assignment"):
        assert re.search(rf"nbgrader\.server_extensions\.{ext} \S*enabled", out), ext


def test_code_is_ruff_clean() -> None:
    for args in (["check", "."], ["format", "--check", "."]):
        done = subprocess.run([BIN / "ruff", *args], cwd=ROOT, capture_output=True, text=True)
        assert done.returncode == 0, done.stdout + done.stderr


def test_packages_import_without_sys_path_tricks() -> None:
    done = subprocess.run(
        [sys.executable, "-c", "import nnlab, autograder; print(autograder.__file__)"],
        cwd="/",
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0 and str(ROOT) in done.stdout, done.stderr
