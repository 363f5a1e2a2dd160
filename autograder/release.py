"""Regenerate the student release (notebooks/) from the sources (solutions/) with nbgrader."""

from __future__ import annotations

import argparse
import logging
import shutil
import tempfile
from pathlib import Path

from autograder.config import ROOT, configure


def assignments(root: Path = ROOT) -> list[str]:
    """Assignment ids: the folders of ``solutions/`` that hold notebooks, in lesson order."""
    return sorted(p.name for p in (root / "solutions").iterdir() if p.is_dir() and any(p.glob("*.ipynb")))


def generate(root: Path = ROOT, assignment_ids: list[str] | None = None) -> list[str]:
    """Run nbgrader's generate_assignment for each assignment; return the ids that failed."""
    from nbgrader.apps import NbGraderAPI
    from nbgrader.coursedir import CourseDirectory
    from traitlets.config import Config

    config = configure(Config(), root=root)
    config.GenerateAssignment.create_assignment = True
    coursedir = CourseDirectory(config=config)
    api = NbGraderAPI(coursedir=coursedir, config=config)
    api.log.setLevel(logging.WARNING)
    failed = []
    for aid in assignment_ids or assignments(root):
        result = api.generate_assignment(aid, force=True)
        if not result["success"]:
            print(result.get("log", ""), result.get("error", ""))
            failed.append(aid)
    return failed


def generate_into(tmp: Path, root: Path = ROOT, only: list[str] | None = None) -> Path:
    """Generate a fresh release of ``root/solutions`` inside ``tmp``; return its ``notebooks/``."""
    shutil.copytree(root / "solutions", tmp / "solutions", ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    failed = generate(tmp, only)
    if failed:
        raise RuntimeError(f"nbgrader could not generate: {failed}")
    return tmp / "notebooks"


def release(root: Path = ROOT, only: list[str] | None = None) -> int:
    """Regenerate ``root/notebooks`` (or only the given assignments) from ``root/solutions``."""
    ids = only or assignments(root)
    with tempfile.TemporaryDirectory() as tmp:
        fresh = generate_into(Path(tmp), root, ids)
        for aid in ids:
            target = root / "notebooks" / aid
            if target.exists():
                shutil.rmtree(target)
            shutil.copytree(fresh / aid, target)
        if not only:  # drop releases whose source is gone
            for path in (root / "notebooks").iterdir():
                if path.is_dir() and path.name not in ids:
                    shutil.rmtree(path)
    print(f"regenerated notebooks/ from solutions/: {', '.join(ids)}")
    return 0


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("assignments", nargs="*", help="only these assignments (default: all)")


def run(args: argparse.Namespace) -> int:
    return release(only=args.assignments or None)
