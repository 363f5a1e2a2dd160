"""Pytest set-up shared by tests/ and the nbval run over solutions/.

Fast mode (NNLAB_FAST=1) is what grading and CI use: lessons train on small
subsets for few epochs. Kernels started by nbval inherit this environment.
"""

import os

import pytest

os.environ.setdefault("NNLAB_FAST", "1")
os.environ.setdefault("MPLBACKEND", "Agg")
# pytest-xdist runs 2 workers on 2 cores: one thread each (and each kernel they start) avoids oversubscription
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")

# Property tests (hypothesis) explore new examples on a developer's machine; under CI (CI=true, as .ci/run
# sets) they replay a fixed set, so that a red CI always means a change, never a newly drawn example.
try:
    from hypothesis import settings

    settings.register_profile("ci", derandomize=True, deadline=None, print_blob=True)
    settings.register_profile("dev", deadline=None)
    settings.load_profile("ci" if os.environ.get("CI") else "dev")
except ImportError:  # hypothesis is in requirements.txt; a bare environment still collects
    pass


# The test run's schedule (`pytest -n 2 --dist loadgroup`, README.md): a work unit goes to one xdist worker
# whole. A unit is a file (its module fixtures are built once), unless a test names its own `xdist_group` (each
# assignment's nbgrader autograding is one, tests/test_autograde.py), so both workers share the long suites.
# Units are queued longest first, as far as known before running (pyproject's --no-loadscope-reorder keeps this
# order): the sandboxed grader over every lesson first, while the other worker generates the release that the
# nbgrader units need; then the other end-to-end (slow) units; then the fast ones, most tests first.
FIRST = ("tests/test_grading_lessons.py",)


def _unit(item: "pytest.Item") -> str:
    marks = [m.args[0] if m.args else m.kwargs["name"] for m in item.iter_markers("xdist_group")]
    return marks[0] if marks else item.nodeid.split("::")[0]


@pytest.hookimpl(tryfirst=True)  # before xdist's own hook, which reads the xdist_group marks
def pytest_collection_modifyitems(items: list) -> None:
    """Mark notebooks (nbval) slow, give every test its xdist unit, and queue the units longest first."""
    for item in items:
        if item.path.suffix == ".ipynb":  # solutions/*.ipynb under nbval: end-to-end runs, like the other suites
            item.add_marker(pytest.mark.slow)
    units: dict[str, list] = {}
    for item in items:
        units.setdefault(_unit(item), []).append(item)
    for name, members in units.items():
        if not any(m.iter_markers("xdist_group") for m in members):
            for m in members:
                m.add_marker(pytest.mark.xdist_group(name))

    def cost_rank(entry: tuple[int, tuple[str, list]]) -> tuple:
        position, (name, members) = entry
        if name in FIRST:
            return (0, FIRST.index(name))
        if any(m.get_closest_marker("slow") for m in members):
            return (1, position)
        return (2, -len(members), position)

    ordered = sorted(enumerate(units.items()), key=cost_rank)
    items[:] = [m for _, (_, members) in ordered for m in members]
