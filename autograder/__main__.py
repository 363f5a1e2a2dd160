"""``python -m autograder``: the course's commands for instructors, students and maintainers."""

from __future__ import annotations

import argparse
import importlib
import sys

HELP = """\
nnlab's judge.

Workflow
  1. Authors edit solutions/<NN_topic>/<name>.ipynb (the single source).
  2. `release` regenerates the student notebooks in notebooks/ with nbgrader.
  3. Students work in notebooks/; the test cells under each exercise check it against PyTorch
     (`check NOTEBOOK` prints the same verdicts, `progress` sums them up per lesson).
  4. Instructors collect submissions as <student>/<assignment>/<notebook>.ipynb and run `grade`.
"""

#: command -> module defining add_arguments(parser) and run(args) -> exit status
COMMANDS = {
    "release": "autograder.release",
    "grade": "autograder.grading.cli",
    "bench": "autograder.grading.bench",
    "check": "autograder.selfcheck",
    "progress": "autograder.progress",
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m autograder", description=HELP, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="command", required=True)
    argv = sys.argv[1:] if argv is None else argv
    # Only the command asked for is imported (the others import nbgrader, torch...: seconds); without one
    # (--help, a typo) every command is, so that the usage lists them all with their help.
    chosen = [argv[0]] if argv and argv[0] in COMMANDS else list(COMMANDS)
    modules = {}
    for name in COMMANDS:
        if name not in chosen:
            sub.add_parser(name)
            continue
        module = importlib.import_module(COMMANDS[name])
        modules[name] = module
        module.add_arguments(sub.add_parser(name, help=(module.__doc__ or "").strip().splitlines()[0]))
    args = parser.parse_args(argv)
    return modules[args.command].run(args)


if __name__ == "__main__":
    sys.exit(main())
