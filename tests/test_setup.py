"""The environment the README promises: pinned requirements, nbgrader's lab extension, ruff-clean code."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import harness
from readme_lab import readme_commands

ROOT = harness.ROOT
BIN = Path(sys.executable).parent


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
    local = ("-e .", "./jupyter-config")  # this repository's own packages
    reqs = [ln for ln in lines if ln and ln not in local]
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


def test_install_puts_the_server_settings_where_jupyter_reads_them() -> None:
    """requirements.txt installs jupyter-config/ into the venv's etc/jupyter, a folder `jupyter --paths` lists."""
    done = subprocess.run([BIN / "jupyter", "--paths", "--json"], capture_output=True, text=True, check=True)
    config_dirs = [Path(d) for d in json.loads(done.stdout)["config"]]
    installed = [d / "jupyter_server_config.json" for d in config_dirs if (d / "jupyter_server_config.json").exists()]
    shipped = json.loads((ROOT / "jupyter-config" / "jupyter_server_config.json").read_text())
    assert any(json.loads(p.read_text()) == shipped for p in installed), (
        "the course's Jupyter settings are not installed: run `.venv/bin/pip install -r requirements.txt`"
    )
    assert shipped["ServerApp"]["allow_root"] and "01_neurons" in shipped["LabApp"]["default_url"]
