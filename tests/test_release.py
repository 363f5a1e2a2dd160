"""The student release is generated from the sources, committed clean, and leaks nothing."""

from __future__ import annotations

import ast
import html
import io
import json
import re
import tokenize
from pathlib import Path

import pytest

import harness

ALL = harness.source_notebooks() + harness.release_notebooks()


def _cells(path: Path) -> list[dict]:
    return json.loads(path.read_text())["cells"]


def _comparable(path: Path) -> dict:
    nb = json.loads(path.read_text())
    return {"cells": nb["cells"], "metadata": nb["metadata"]}


def test_every_lesson_is_released() -> None:
    sources = {p.relative_to(harness.SOLUTIONS) for p in harness.source_notebooks()}
    released = {p.relative_to(harness.RELEASE) for p in harness.release_notebooks()}
    assert sources, "no source notebooks found in solutions/"
    assert sources == released, "notebooks/ and solutions/ hold different notebooks: run `python -m autograder release`"


def test_release_matches_a_fresh_generation(generated_course: Path) -> None:
    fresh = generated_course / "notebooks"
    stale = [
        str(p.relative_to(harness.RELEASE))
        for p in harness.release_notebooks()
        if _comparable(p) != _comparable(fresh / p.relative_to(harness.RELEASE))
    ]
    assert not stale, f"notebooks/ drifted from solutions/: {stale}; run `python -m autograder release`"


@pytest.mark.parametrize("path", ALL, ids=lambda p: str(p.relative_to(harness.ROOT)))
def test_committed_without_outputs(path: Path) -> None:
    for i, cell in enumerate(_cells(path)):
        if cell["cell_type"] == "code":
            assert not cell["outputs"], f"cell {i} of {path.name} has outputs: clear them before committing"
            assert cell["execution_count"] is None, f"cell {i} of {path.name} has an execution count"


@pytest.mark.parametrize("path", harness.release_notebooks(), ids=lambda p: str(p.relative_to(harness.ROOT)))
def test_release_leaks_no_solution_or_hidden_test(path: Path) -> None:
    source = harness.load(harness.SOLUTIONS / path.relative_to(harness.RELEASE))
    text = path.read_text()
    for marker in ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "END HIDDEN TESTS"):
        assert marker not in text, f"{path.name} contains '{marker}'"
    released = {
        c["metadata"]["nbgrader"]["grade_id"]: "".join(c["source"])
        for c in _cells(path)
        if c.get("metadata", {}).get("nbgrader")
    }
    src_nb = json.loads((harness.SOLUTIONS / path.relative_to(harness.RELEASE)).read_text())
    for cell in src_nb["cells"]:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        src = "".join(cell["source"])
        if meta.get("solution"):
            answer = src.split("### BEGIN SOLUTION")[1].split("### END SOLUTION")[0] if "BEGIN SOLUTION" in src else ""
            body = [ln.strip() for ln in answer.splitlines() if ln.strip()]
            assert "raise NotImplementedError()" in released[meta["grade_id"]], meta["grade_id"]
            leaked = [ln for ln in body if len(ln) > 12 and ln in released[meta["grade_id"]]]
            assert not leaked, f"solution lines of {meta['grade_id']} appear in the release: {leaked}"
        if meta.get("grade") and "BEGIN HIDDEN TESTS" in src:
            before, rest = src.split("### BEGIN HIDDEN TESTS")
            hidden, after = rest.split("### END HIDDEN TESTS")
            visible = {ln.strip() for ln in (before + after).splitlines()}
            lines = [ln.strip() for ln in hidden.splitlines() if len(ln.strip()) > 12 and ln.strip() not in visible]
            assert not [ln for ln in lines if ln in released[meta["grade_id"]]], meta["grade_id"]
    assert set(source.grades) <= set(released), "a grade cell is missing from the release"


@pytest.mark.parametrize("path", harness.source_notebooks(), ids=lambda p: str(p.relative_to(harness.ROOT)))
def test_source_follows_the_conventions(path: Path) -> None:
    """First code cell imports autograder; grade ids name an exercise; every exercise is graded."""
    cells = [c for c in _cells(path) if c["cell_type"] == "code"]
    first = "".join(cells[0]["source"])
    assert first.lstrip().startswith("import autograder"), "the first code cell must import autograder first"
    assert cells[0]["metadata"].get("nbgrader", {}).get("locked"), "the set-up cell must be locked"
    assert re.search(r"import nnlab\.plot|from nnlab import .*\bplot\b", first), (
        "the set-up cell must import nnlab.plot, which sets the course's one figure style"
    )
    bound = [
        alias.asname or alias.name.split(".")[0]
        for node in ast.walk(ast.parse(first))
        if isinstance(node, ast.Import | ast.ImportFrom)
        for alias in node.names
    ]
    twice = sorted({name for name in bound if bound.count(name) > 1})
    assert not twice, f"the set-up cell binds {twice} twice: the later import hides the first (alias one of them)"
    lesson = harness.load(path)
    for gid in lesson.grades:
        assert gid.startswith("test_") and "__" in gid, f"grade id {gid} is not test_<exercise>__<behaviour>"
        assert gid[5:].rsplit("__", 1)[0] in lesson.solutions, f"{gid} names no exercise of {path.name}"
    for exercise in lesson.solutions:
        assert lesson.grade_ids(exercise), f"exercise {exercise} has no grade cell"
    for gid, points in lesson.points.items():
        assert points > 0, f"{gid} is worth no points"


#: a grade cell is a spec: a comment stating the behaviour, then a call or two (cases as literal data)
SPEC_STATEMENTS = 3
_COMPOUND = (ast.For, ast.AsyncFor, ast.While, ast.If, ast.With, ast.AsyncWith, ast.Try, ast.FunctionDef,
             ast.AsyncFunctionDef, ast.ClassDef, ast.Match)  # fmt: skip


@pytest.mark.parametrize("path", harness.source_notebooks(), ids=lambda p: str(p.relative_to(harness.ROOT)))
def test_grade_cells_read_as_specs(path: Path) -> None:
    """Every grade cell: a first-line comment, at most three statements, no loop, branch or definition."""
    for cell in _cells(path):
        meta = cell["metadata"].get("nbgrader", {})
        if cell["cell_type"] != "code" or not meta.get("grade"):
            continue
        source, gid = "".join(cell["source"]), meta["grade_id"]
        assert source.startswith("#"), f"{gid}: the first line is a comment stating the behaviour"
        body = ast.parse(source).body
        compound = [type(s).__name__ for s in body if isinstance(s, _COMPOUND)]
        assert not compound, f"{gid}: a grade cell holds no {compound[0]}; move the logic to the lesson's module"
        assert len(body) <= SPEC_STATEMENTS, (
            f"{gid}: {len(body)} statements; a grade cell is a comment and a call or two (the lesson's module "
            "builds the cases, checks and diagnoses)"
        )


#: a hint may not contain this many consecutive tokens of its exercise's solution code
QUOTE_RUN = 8
_SKIP_TOKENS = {tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT, tokenize.ENDMARKER}
#: prose is not Python (an apostrophe opens a string): such a line is split into the same names/numbers/operators
_LENIENT = re.compile(r"[A-Za-z_]\w*|\d[\w.]*|\*\*=?|//=?|[-+*/%@&|^<>=!]=|->|[-+*/%@&|^~<>=()\[\]{},.:;]")


def _tokens(code: str) -> list[str]:
    """Names, operators, numbers and strings as written (``tokenize``), without comments or layout."""
    try:
        return [t.string for t in tokenize.generate_tokens(io.StringIO(code).readline) if t.type not in _SKIP_TOKENS]
    except (tokenize.TokenError, SyntaxError):
        return [tok for line in code.splitlines() for tok in _code_line_tokens(line)]


def _hint_tokens(text: str) -> list[str]:
    """Code spans are tokenized as code; prose (where an apostrophe is no string) by the same token classes."""
    out: list[str] = []
    for i, part in enumerate(text.split("`")):
        if i % 2:
            out += [tok for line in part.splitlines() for tok in _code_line_tokens(line)]
        else:
            out += _LENIENT.findall(part)
    return out


def _code_line_tokens(line: str) -> list[str]:
    try:
        return [t.string for t in tokenize.generate_tokens(io.StringIO(line).readline) if t.type not in _SKIP_TOKENS]
    except (tokenize.TokenError, SyntaxError):
        return _LENIENT.findall(line)


def quoted_token_runs(solution: str, hints: str, run: int = QUOTE_RUN) -> list[str]:
    """The first run of ``run`` consecutive solution tokens found in each hint (prose and code spans)."""
    sol = _tokens(solution)
    grams = {tuple(sol[i : i + run]) for i in range(len(sol) - run + 1)}
    found = []
    for block in re.findall(r"<details>(.*?)</details>", hints, re.S) or [hints]:
        tokens = _hint_tokens(html.unescape(re.sub(r"<[^>]+>", " ", block)))
        hit = next((g for i in range(len(tokens) - run + 1) if (g := tuple(tokens[i : i + run])) in grams), None)
        if hit:
            found.append(" ".join(hit))
    return found


def test_the_quotation_detector_sees_a_quote_inside_prose() -> None:
    solution = "    return torch.where(x > 0, x, alpha * torch.expm1(x))\n"
    assert quoted_token_runs(solution, "<details><summary>Hint 2</summary> use `alpha * torch.expm1(x)` </details>")
    assert quoted_token_runs(solution, "<details>it's `torch.where(x > 0, x, …)`: x where it's positive</details>")
    assert not quoted_token_runs(solution, "<details>`torch.expm1` keeps digits near 0: $\\alpha(e^x - 1)$</details>")


def _markdown_after(cells: list[dict], index: int) -> str:
    """The first markdown cell after cell ``index`` (its hints), or ''."""
    for cell in cells[index + 1 :]:
        if cell["cell_type"] == "markdown":
            return "".join(cell["source"])
    return ""


@pytest.mark.parametrize("path", harness.source_notebooks(), ids=lambda p: str(p.relative_to(harness.ROOT)))
def test_every_exercise_has_progressive_hints_without_the_answer(path: Path) -> None:
    """Right after each exercise cell: a markdown cell with 2-3 collapsed hints that quote no solution line."""
    cells = _cells(path)
    for i, cell in enumerate(cells):
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if not meta.get("solution") or cell["cell_type"] != "code":
            continue
        hints = _markdown_after(cells, i)
        n = hints.count("<details>")
        assert 2 <= n <= 3 and "Hint" in hints, (
            f"exercise {meta['grade_id']} needs a markdown cell right after it with 2-3 <details> hints "
            "(see CONTRIBUTING.md)"
        )
        src = "".join(cell["source"])
        answer = src.split("### BEGIN SOLUTION")[1].split("### END SOLUTION")[0] if "BEGIN SOLUTION" in src else ""
        quoted = [ln.strip() for ln in answer.splitlines() if len(ln.strip()) > 15 and ln.strip() in hints]
        assert not quoted, f"the hints of {meta['grade_id']} quote the solution: {quoted}"
        runs = quoted_token_runs(answer, hints)
        assert not runs, (
            f"the hints of {meta['grade_id']} quote {QUOTE_RUN}+ consecutive tokens of the solution: {runs}; "
            "hint 1 names the idea, hint 2 the tool or the trap, hint 3 at most a shape or a formula in maths"
        )


@pytest.mark.parametrize("path", harness.source_notebooks(), ids=lambda p: str(p.relative_to(harness.ROOT)))
def test_lesson_links_the_glossary_and_ends_with_a_self_check(path: Path) -> None:
    cells = _cells(path)
    first_md = next("".join(c["source"]) for c in cells if c["cell_type"] == "markdown")
    assert "GLOSSARY.md" in first_md, "the first cell must link the glossary (../../GLOSSARY.md)"
    if harness.load(path).grades:
        assert "passes prints nothing" in first_md, "the first cell must say that a passing test cell prints nothing"
    if harness.load(path).exercises():
        last_code = "".join([c for c in cells if c["cell_type"] == "code"][-1]["source"])
        assert f'ag.summary(globals(), "{path.name}")' in last_code, "the last code cell must run ag.summary(...)"
