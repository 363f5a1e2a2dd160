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


def pytest_collection_modifyitems(items: list) -> None:
    """Notebooks executed by nbval (solutions/*.ipynb) are end-to-end runs: marked slow, like the other suites."""
    import pytest

    for item in items:
        if item.path.suffix == ".ipynb":
            item.add_marker(pytest.mark.slow)


#: tests that pytest-xdist's ``--dist loadfile`` sends to a worker one by one instead of with their file: each
#: autogrades one assignment (tests/test_autograde.py), together the longest part of the suite
APART = ("tests/test_autograde.py::",)


def pytest_xdist_make_scheduler(config: pytest.Config, log: object) -> object | None:
    """``--dist loadfile``, except that the tests in ``APART`` are units of their own, so both workers share them."""
    if config.getvalue("dist") != "loadfile":
        return None
    from xdist.scheduler import LoadFileScheduling

    class Scheduling(LoadFileScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return nodeid if nodeid.startswith(APART) else super()._split_scope(nodeid)

    return Scheduling(config, log)
