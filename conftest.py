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


#: the files whose tests take longest, longest first (seconds on 2 cores in `--durations`: ~110, 53, 49, 47, 40,
#: 35, and test_autograde's 16 units of 4-36 s). Collected first, they are handed out first by pytest-xdist (in
#: collection order: see ``pytest_xdist_make_scheduler``), so that none of them starts last while a worker idles.
LONGEST_FIRST = (
    "tests/test_grading_lessons.py",
    "tests/test_corpus.py",
    "tests/test_grading_runs.py",
    "tests/test_grading.py",
    "tests/test_hub.py",
    "tests/test_autograde.py",
    "tests/test_browser.py",
    "tests/test_engine_routes.py",
    "tests/test_lms.py",
)


def pytest_collection_modifyitems(config: pytest.Config, items: list) -> None:
    """Notebooks executed by nbval (solutions/*.ipynb) are end-to-end runs: marked slow, like the other suites.
    The files of ``LONGEST_FIRST`` go first, in its order; the rest keep theirs."""
    for item in items:
        if item.path.suffix == ".ipynb":
            item.add_marker(pytest.mark.slow)
    root = config.rootpath
    rank = {name: k for k, name in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.relative_to(root).as_posix(), len(rank)))


#: tests that pytest-xdist's ``--dist loadfile`` sends to a worker one by one instead of with their file: each
#: autogrades one assignment (tests/test_autograde.py), together the longest part of the suite
APART = ("tests/test_autograde.py::",)


class XdistScheduling:
    """A plugin of one pytest-xdist hook, registered only where xdist is loaded (``pytest -p no:xdist`` works)."""

    @staticmethod
    def pytest_xdist_make_scheduler(config: pytest.Config, log: object) -> object | None:
        """``--dist loadfile`` in collection order, except that the tests in ``APART`` are units of their own, so
        both workers share them."""
        if config.getvalue("dist") != "loadfile":
            return None
        from xdist.scheduler import LoadFileScheduling

        config.option.loadscopereorder = False  # xdist would send files with the most tests first, not the longest

        class Scheduling(LoadFileScheduling):
            def _split_scope(self, nodeid: str) -> str:
                return nodeid if nodeid.startswith(APART) else super()._split_scope(nodeid)

        return Scheduling(config, log)


def pytest_configure(config: pytest.Config) -> None:
    if config.pluginmanager.hasplugin("xdist"):
        config.pluginmanager.register(XdistScheduling(), "nnlab-xdist-scheduling")
