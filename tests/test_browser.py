"""The course in a real browser: JupyterLab 4 with nbgrader, driven by Playwright in headless Chromium.

Starts JupyterLab with README.md's own command (tests/readme_lab.py) on a free localhost port with a token,
over a scratch copy of the course (so autosave never touches the repository), and stops it by its process
group. Screenshots are saved to artifacts/browser/. Needs Debian's chromium (/usr/bin/chromium), which .ci/run
installs; on a machine without it the test is skipped, except under CI where it must run.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Iterator

import pytest

import chromium
import harness
import readme_lab as jupyter

CHROMIUM = chromium.CHROMIUM
ARTIFACTS = harness.ROOT / "artifacts" / "browser"

if not CHROMIUM.exists():
    if os.environ.get("CI"):
        pytest.fail("CI must install Debian's chromium (.ci/run does)", pytrace=False)
    pytest.skip("the browser test needs Debian's chromium at /usr/bin/chromium", allow_module_level=True)

pytest.importorskip("playwright.sync_api")
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """JupyterLab started by README.md's command over a scratch copy of the course; yields "base|token"."""
    root = tmp_path_factory.mktemp("course")
    for folder in ("notebooks", "solutions"):
        shutil.copytree(harness.ROOT / folder, root / folder)
    (root / ".venv").symlink_to(jupyter.VENV)  # the README's command runs .venv/bin/jupyter
    (root / "nbgrader_config.py").write_text(
        "from pathlib import Path\nfrom autograder.config import configure\n"
        "configure(get_config(), root=Path(__file__).resolve().parent)\n"
    )
    for plugin, values in {"apputils-extension/notification": {"fetchNews": "false"},
                           "docmanager-extension/plugin": {"autosave": False},
                           "notebook-extension/tracker": {"windowingMode": "none"}}.items():  # fmt: skip
        settings = root / ".settings" / "@jupyterlab" / f"{plugin}.jupyterlab-settings"
        settings.parent.mkdir(parents=True, exist_ok=True)
        settings.write_text(json.dumps(values))
    env = {
        "JUPYTERLAB_SETTINGS_DIR": str(root / ".settings"),
        "JUPYTERLAB_WORKSPACES_DIR": str(root / ".workspaces"),
        "NNLAB_FAST": "1",
        "MPLBACKEND": None,
    }  # fmt: skip  (None: unset, the kernel draws inline figures)
    server = jupyter.start(root, root / ".test", config={"LabApp": {"expose_app_in_browser": True}}, env=env)
    try:
        yield f"{server.base}|{server.token}"
    finally:
        server.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator:
    with chromium.launched(ARTIFACTS) as launched:
        yield launched


KERNEL = "window.jupyterapp.shell.currentWidget.sessionContext.session.kernel"


def open_notebook(browser, lab: str, path: str):  # noqa: ANN201
    base, token = lab.split("|")
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    workspace = path.replace("/", "-").replace(".", "-")  # a fresh workspace per notebook: nothing restored
    page.goto(f"{base}/lab/workspaces/{workspace}/tree/{path}?token={token}&reset")
    page.wait_for_function(f"() => {{ try {{ return {KERNEL}.status === 'idle'; }} catch (e) {{ return false; }} }}",
                           timeout=90_000)  # fmt: skip
    return page


CELLS = """() => {
  const cells = window.jupyterapp.shell.currentWidget.content.model.cells;
  const out = [];
  for (let i = 0; i < cells.length; i++) {
    const c = cells.get(i).toJSON();
    if (c.cell_type === 'code') out.push({index: i, n: c.execution_count, outputs: c.outputs});
  }
  return out;
}"""


def errors_of(cells: list[dict]) -> list[dict]:
    return [dict(o, index=c["index"]) for c in cells for o in c["outputs"] if o["output_type"] == "error"]


def run_and_wait(page, command: str, *, until_last: bool, start: int | None = None) -> list[dict]:  # noqa: ANN001
    """Run a notebook command; wait until the kernel is idle and either every cell ran or an error showed."""
    before = len(errors_of(page.evaluate(CELLS)))
    if start is not None:
        page.evaluate(f"() => {{ window.jupyterapp.shell.currentWidget.content.activeCellIndex = {start}; }}")
    page.evaluate(f"() => window.jupyterapp.commands.execute('{command}')")
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline:
        time.sleep(1)
        cells = page.evaluate(CELLS)
        status = page.evaluate(f"() => {{ try {{ return {KERNEL}.status; }} catch (e) {{ return 'none'; }} }}")
        if status != "idle":
            continue
        if (until_last and cells[-1]["n"]) or (not until_last and len(errors_of(cells)) > before):
            return cells
    page.screenshot(path=str(ARTIFACTS / "timeout.png"))
    raise AssertionError(f"{command} did not finish in 240 s (kernel {status}); see artifacts/browser/timeout.png")


def test_the_course_opens_on_lesson_01(lab, browser) -> None:
    base, token = lab.split("|")
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(f"{base}/?token={token}")
    opened = "() => { try { return window.jupyterapp.shell.currentWidget.context.path; } catch (e) { return null; } }"
    page.wait_for_function(f"() => ({opened})() !== null", timeout=90_000)
    assert page.evaluate(opened) == "notebooks/01_neurons/01_neurons.ipynb"
    page.wait_for_function(f"() => {{ try {{ return {KERNEL}.status === 'idle'; }} catch (e) {{ return false; }} }}",
                           timeout=90_000)  # fmt: skip
    page.screenshot(path=str(ARTIFACTS / "first_command_opens_lesson_01.png"))
    page.close()


def test_release_notebook_shows_the_failing_check(lab, browser) -> None:
    page = open_notebook(browser, lab, "notebooks/01_neurons/01_neurons.ipynb")
    first = errors_of(run_and_wait(page, "notebook:run-all-cells", until_last=False))[0]
    assert first["ename"] == "NotImplementedError", first  # the demo below the first exercise calls the stub
    # Run All stops at an error, as it does for a student; carry on below it to the exercise's test cell.
    cells = run_and_wait(page, "notebook:run-all-below", until_last=False, start=first["index"] + 1)
    check = errors_of(cells)[1]
    assert check["ename"] == "NotAttempted" and "raise NotImplementedError()" in check["evalue"], check
    message = page.get_by_text("is not implemented yet").first
    message.scroll_into_view_if_needed()
    assert message.is_visible()
    page.screenshot(path=str(ARTIFACTS / "release_failing_check.png"))
    page.close()


def test_solution_notebook_passes_and_renders_figures(lab, browser) -> None:
    sigmoid = harness.SOLUTIONS / "03_activations" / "01_sigmoid.ipynb"
    path = "solutions/03_activations/01_sigmoid.ipynb" if sigmoid.exists() else "solutions/01_neurons/01_neurons.ipynb"
    page = open_notebook(browser, lab, path)
    cells = run_and_wait(page, "notebook:run-all-cells", until_last=True)
    assert all(c["n"] for c in cells), "every code cell ran"
    assert not errors_of(cells), errors_of(cells)[0]
    assert any("image/png" in o.get("data", {}) for c in cells for o in c["outputs"]), "a figure was produced"
    images = page.locator(".jp-OutputArea-output img")
    widths = [images.nth(i).evaluate("img => img.naturalWidth") for i in range(images.count())]
    figure = images.nth(widths.index(max(widths)))  # the widest: function and derivative side by side
    figure.scroll_into_view_if_needed()
    page.wait_for_timeout(1000)
    assert figure.is_visible() and max(widths) > 600
    page.screenshot(path=str(ARTIFACTS / "solution_passes_with_figure.png"))
    figure.screenshot(path=str(ARTIFACTS / "function_and_derivative_figure.png"))
    page.close()


def test_formgrader_lists_the_assignments(lab, browser) -> None:
    base, token = lab.split("|")
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    page.goto(f"{base}/formgrader?token={token}")
    # the assignments table (the configuration shown above it also mentions 01_neurons, collapsed)
    page.get_by_role("link", name="01_neurons", exact=True).first.wait_for(timeout=60_000)
    page.screenshot(path=str(ARTIFACTS / "formgrader.png"))
