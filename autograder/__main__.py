"""``python -m autograder``: the course's grading commands."""

from __future__ import annotations

import argparse
import sys

from autograder import release

HELP = """\
nnlab's judge.

Workflow
  1. Authors edit solutions/<NN_topic>/<name>.ipynb (the single source).
  2. `python -m autograder release` regenerates the student notebooks in notebooks/ with nbgrader.
  3. Students work in notebooks/; the test cells under each exercise check it against PyTorch.
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m autograder", description=HELP, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="command", required=True)
    rel = sub.add_parser("release", help="regenerate notebooks/ from solutions/ with nbgrader")
    rel.add_argument("assignments", nargs="*", help="only these assignments (default: all)")
    args = parser.parse_args(argv)
    if args.command == "release":
        return release.release(only=args.assignments or None)
    return 2


if __name__ == "__main__":
    sys.exit(main())
