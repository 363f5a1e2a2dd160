"""A class on the course's JupyterHub (deploy/jupyterhub), end to end, in headless Chromium via Playwright.

The hub (with the npm-pinned configurable-http-proxy) starts on free 127.0.0.1 ports over a scratch state
folder. Every user logs in through the hub's login form in their own browser context. Students click Fetch and
Submit in JupyterLab's Assignments panel; the other steps are the requests nbgrader's panels and formgrader
make, sent from the logged-in page (its cookies, its XSRF token). The instructor releases lesson 01; two
students fetch it, one writes the solution, the other a wrong answer, both validate and submit; the instructor
collects; ``python -m autograder grade`` grades (through deploy/jupyterhub/grade_collected.py); the feedback is
released; each student fetches it and sees their score. Each "who may see what" refusal is tried as a student,
with the owner's access as its control. Screenshots: artifacts/hub/. Every process the hub started (proxy,
servers, kernels) is found by the state folder in its environment and stopped by its id.
"""

from __future__ import annotations

import contextlib
import csv
import json
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import hostile
import pytest
from hostile import lesson_01

import chromium
import harness

pytestmark = pytest.mark.slow
CHROMIUM = chromium.CHROMIUM
HUB = harness.ROOT / "deploy" / "jupyterhub"
PROXY = HUB / "node_modules" / ".bin" / "configurable-http-proxy"
ARTIFACTS = harness.ROOT / "artifacts" / "hub"
COURSE, AID = "nnlab", "01_neurons"
LESSON = hostile.Lesson(*lesson_01.LESSON)
NB = f"{AID}/{LESSON.name}"
STUDENTS = {"student1": "solution", "student2": "wrong"}

for need, why in [(CHROMIUM, "Debian's chromium"), (PROXY, "configurable-http-proxy (npm ci in deploy/jupyterhub)")]:
    if not need.exists():
        if os.environ.get("CI"):
            pytest.fail(f"CI must install {why} (.ci/run does)", pytrace=False)
        pytest.skip(f"the hub test needs {why} at {need}", allow_module_level=True)
pytest.importorskip("playwright.sync_api")


def free_ports(n: int) -> list[int]:
    socks = [socket.socket() for _ in range(n)]
    for s in socks:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in socks]
    for s in socks:
        s.close()
    return ports


def processes_of(state: Path) -> list[int]:
    """Processes whose environment names the hub's state folder (the servers and their kernels)."""
    mark = str(state).encode()
    found = []
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit() and int(proc.name) != os.getpid():
            with contextlib.suppress(OSError):
                if mark in (proc / "environ").read_bytes():
                    found.append(int(proc.name))
    return found


def stop(pids: list[int]) -> None:
    for sig in (signal.SIGTERM, signal.SIGKILL):
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, sig)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and any(Path(f"/proc/{p}").exists() for p in pids):
            for pid in pids:  # reap our own children
                with contextlib.suppress(ChildProcessError, OSError):
                    os.waitpid(pid, os.WNOHANG)
            time.sleep(0.2)


@dataclass
class Hub:
    url: str
    password: str
    state: Path


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hub]:
    state = tmp_path_factory.mktemp("hub") / "state"
    state.mkdir()
    port, api, proxy = free_ports(3)
    password = secrets.token_hex(8)
    env = dict(os.environ, NNLAB_HUB_STATE=str(state), NNLAB_HUB_PORT=str(port), NNLAB_HUB_API_PORT=str(api),
               NNLAB_PROXY_API_PORT=str(proxy), NNLAB_HUB_PASSWORD=password, NNLAB_FAST="1",
               NNLAB_STUDENTS=",".join(STUDENTS), PYTHONPATH=str(harness.ROOT))  # fmt: skip
    log = open(state / "hub.log", "w")  # noqa: SIM115 - closed below
    cmd = [sys.executable, "-m", "jupyterhub", "-f", str(HUB / "jupyterhub_config.py")]
    proc = subprocess.Popen(cmd, cwd=state, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                urllib.request.urlopen(f"{url}/hub/api", timeout=2)
                break
            except OSError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise RuntimeError((state / "hub.log").read_text()[-3000:]) from None
                time.sleep(0.5)
        yield Hub(url, password, state)
    finally:
        os.killpg(proc.pid, signal.SIGTERM)  # the hub stops the servers it spawned and its proxy
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        stop(processes_of(state))
        log.close()
    assert not processes_of(state), "a process started by the hub outlived it"


@pytest.fixture(scope="module")
def browser() -> Iterator:
    with chromium.launched(ARTIFACTS) as launched:
        yield launched


class User:
    """One person logged in through the hub's form, in their own browser context. Logging in starts their
    server; ``ready()`` waits for it, so that several servers start at once."""

    def __init__(self, browser, hub: Hub, name: str, landing: str = "lab") -> None:  # noqa: ANN001
        self.name, self.hub, self.landing = name, hub, landing
        self.base = f"{hub.url}/user/{name}"
        self.context = browser.new_context(viewport={"width": 1400, "height": 900})
        self.page = self.context.new_page()
        self.page.goto(f"{hub.url}/hub/login")  # then the hub spawns the server and opens /lab
        self.page.fill("#username_input", name)
        self.page.fill("#password_input", hub.password)
        self.page.click("#login_submit")

    def ready(self) -> User:
        self.page.wait_for_url(re.compile(re.escape(f"{self.base}/lab")), timeout=150_000)
        if self.landing != "lab":
            self.page.goto(f"{self.base}/{self.landing}")
        else:
            self.page.wait_for_function("() => window.jupyterapp && window.jupyterapp.shell", timeout=120_000)
        return self

    def call(self, method: str, url: str, form: dict | None = None, body: object = None):  # noqa: ANN201
        """A request from this user's page: their cookies, the XSRF token of the server it goes to."""
        path = "/" + url.split("/", 3)[3] if url.startswith("http") else url
        xsrf = [c for c in self.context.cookies() if c["name"] == "_xsrf" and path.startswith(c["path"])]
        headers = {"X-XSRFToken": max(xsrf, key=lambda c: len(c["path"]))["value"]} if xsrf else {}
        full = url if url.startswith("http") else self.hub.url + url
        if body is not None:
            headers["Content-Type"] = "application/json"
            return self.page.request.fetch(full, method=method, headers=headers, data=json.dumps(body), timeout=240_000)
        return self.page.request.fetch(full, method=method, headers=headers, form=form, timeout=240_000)

    def ok(self, method: str, path: str, form: dict | None = None, body: object = None) -> object:
        r = self.call(method, f"{self.base}{path}", form, body)
        assert r.status in (200, 201), (self.name, path, r.status, r.text()[:2000])
        data = r.json()
        if isinstance(data, dict) and "success" in data:
            assert data["success"], (self.name, path, data)
        return data

    def shot(self, what: str) -> None:
        self.page.screenshot(path=str(ARTIFACTS / f"{self.name}_{what}.png"))

    def lab(self, command: str) -> None:
        self.page.evaluate(f"() => window.jupyterapp.commands.execute('{command}')")


def answer(nb: dict, kind: str) -> dict:
    """The fetched notebook with every exercise solved; 'wrong': the neuron forgets its bias."""
    wrong = 0
    for cell in nb["cells"]:
        gid = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
        if cell["cell_type"] == "code" and cell["metadata"].get("nbgrader", {}).get("solution"):
            code = LESSON.solutions[gid]
            cell["source"] = code.replace("x @ w + b", "x @ w") if kind == "wrong" else code
            wrong += cell["source"] != code
    assert wrong == (kind == "wrong"), "the wrong answer changes exactly one exercise"
    return nb


class Laps:
    """Seconds per phase of the run (printed; nothing is asserted on time)."""

    def __init__(self) -> None:
        self.last, self.laps = time.monotonic(), []

    def __call__(self, what: str) -> None:
        now = time.monotonic()
        self.laps.append(f"{what} {now - self.last:.0f} s")
        self.last = now

    def text(self) -> str:
        return "; ".join(self.laps)


def refused(user: User, path: str, statuses: tuple[int, ...] = (403, 404)) -> None:
    r = user.call("GET", path)
    assert r.status in statuses, (user.name, path, r.status, r.text()[:500])


def test_a_class_on_the_hub(hub: Hub, browser) -> None:
    started = time.monotonic()
    lap = Laps()
    teacher = User(browser, hub, "instructor", "formgrader")
    students = {name: User(browser, hub, name) for name in STUDENTS}
    teacher.ready()
    lap("instructor's server")
    course = hub.state / "course"
    # the instructor releases lesson 01 (formgrader: generate, release to the exchange)
    teacher.ok("POST", f"/formgrader/api/assignment/{AID}/assign")
    teacher.ok("POST", f"/formgrader/api/assignment/{AID}/release")
    teacher.page.goto(f"{teacher.base}/formgrader")
    teacher.page.get_by_text(AID).filter(visible=True).first.wait_for(timeout=60_000)
    teacher.shot("formgrader_released")
    courses = teacher.ok("GET", "/formgraders")["value"]  # nbgrader's course list, as its Lab panel asks
    assert [c["course_id"] for c in courses] == [COURSE], courses

    lap("released")
    for name, kind in STUDENTS.items():
        s = students[name].ready()
        listing = s.ok("GET", f"/assignments?course_id={COURSE}")["value"]
        assert [a["assignment_id"] for a in listing if a["status"] == "released"] == [AID]
        s.lab("nbgrader:open-assignment-list")  # the Assignments panel: Fetch, then Submit, are its buttons
        s.page.get_by_role("button", name="Fetch").filter(visible=True).first.click(timeout=60_000)
        s.page.get_by_role("button", name="Submit").filter(visible=True).first.wait_for(timeout=60_000)
        s.shot("assignment_list_fetched")
        nb = s.ok("GET", f"/api/contents/{NB}?content=1")["content"]
        s.ok("PUT", f"/api/contents/{NB}", body={"type": "notebook", "format": "json", "content": answer(nb, kind)})
        report = json.dumps(s.ok("POST", "/assignments/validate", form={"path": NB}))
        assert ("failed" in report) == (kind == "wrong"), report[:2000]  # nbgrader's validator on the answer
        s.page.get_by_role("button", name="Submit").filter(visible=True).first.click()
        inbound = hub.state / "exchange" / COURSE / "inbound"
        deadline = time.monotonic() + 120
        while not list(inbound.glob(f"{name}+{AID}+*")):  # the click's submission reaches the exchange
            assert time.monotonic() < deadline, f"{name}'s Submit click left nothing in the exchange"
            time.sleep(0.5)
        s.page.wait_for_timeout(1000)
        s.shot("assignment_list_submitted")
        lap(f"{name} fetched, validated, submitted")

    inbound = sorted(p.name.split("+")[0] for p in (hub.state / "exchange" / COURSE / "inbound").iterdir())
    assert inbound == sorted(STUDENTS), inbound  # each submission is named by its hub user, not the OS user

    # who may see what: each tried as student1 (with student2 and the instructor logged in and running)
    s1 = students["student1"]
    refused(s1, f"{s1.base}/formgrader")  # no formgrader on a student's server
    refused(s1, f"{s1.base}/formgrader/api/submissions/{AID}")  # nor its gradebook API
    refused(s1, f"{s1.base}/formgraders")  # nor the course list
    refused(s1, f"{hub.url}/user/instructor/formgrader")  # nor the instructor's server (hub scopes)
    refused(s1, f"{hub.url}/user/instructor/api/contents/solutions")
    refused(s1, f"{s1.base}/api/contents/solutions")  # the course is outside the student's root folder
    refused(s1, f"{s1.base}/files/..%2F..%2Fcourse%2Fsolutions%2F{AID}%2F{LESSON.name}", (400, 403, 404))
    refused(s1, f"{s1.base}/api/contents/..%2Fstudent2%2F{AID}", (400, 403, 404))  # another student's home
    refused(s1, f"{hub.url}/user/student2/api/contents/{AID}")  # another student's server
    refused(s1, f"{s1.base}/api/contents/..%2F..%2Fexchange%2F{COURSE}%2Finbound", (400, 403, 404))
    refused(s1, f"{hub.url}/hub/api/users")  # the class list
    r = s1.call("POST", f"{hub.url}/user/student2/assignments/submit", {"course_id": COURSE, "assignment_id": AID})
    assert r.status in (403, 404), r.status  # submitting as someone else through their server
    mine = s1.ok("GET", f"/assignments?course_id={COURSE}")["value"]
    assert {sub["student_id"] for a in mine for sub in a.get("submissions", [])} == {"student1"}, mine
    # the same places answer their owner: the refusals above are about who asks
    for owner, url in [(teacher, f"{hub.url}/user/instructor/formgrader/api/submissions/{AID}"),
                       (teacher, f"{hub.url}/user/instructor/api/contents/solutions"),
                       (students["student2"], f"{hub.url}/user/student2/api/contents/{AID}")]:  # fmt: skip
        assert owner.call("GET", url).status == 200, (owner.name, url)
    s1.page.goto(f"{s1.base}/formgrader")
    s1.shot("formgrader_refused")

    # the instructor collects; `python -m autograder grade` grades; the feedback is released
    lap("refusals")
    teacher.ok("POST", f"/formgrader/api/assignment/{AID}/collect")
    assert sorted(p.name for p in (course / "submitted").iterdir()) == sorted(STUDENTS)
    env = dict(os.environ, PYTHONPATH=str(harness.ROOT), NNLAB_FAST="1")
    fast = ["--cell-timeout", "60", "--deadline", "300", "--memory", "1024", "--no-progress"]  # loaded machines
    proc = subprocess.run([sys.executable, str(HUB / "grade_collected.py"), AID, "--course", str(course), *fast],
                          capture_output=True, text=True, env=env, timeout=300)  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    with open(course / "graded" / "summary.csv") as f:
        scores = {r["student"]: (float(r["score"]), float(r["max_score"])) for r in csv.DictReader(f)}
    full = sum(LESSON.points.values())
    assert scores["student1"] == (full, full) and 0 < scores["student2"][0] < full, scores
    lap("collected and graded")
    teacher.ok("POST", f"/formgrader/api/assignment/{AID}/release_feedback")
    teacher.page.goto(f"{teacher.base}/formgrader/manage_submissions/{AID}")
    teacher.page.get_by_text("student2").filter(visible=True).first.wait_for(timeout=60_000)
    teacher.shot("formgrader_graded")

    # each student fetches their feedback and sees their score
    for name, s in students.items():
        s.ok("POST", "/assignments/fetch_feedback", form={"course_id": COURSE, "assignment_id": AID})
        found = s.ok("GET", f"/api/contents/{AID}/feedback")["content"]
        assert len(found) == 1, found
        page = f"{AID}/feedback/{found[0]['name']}/{LESSON.name.removesuffix('.ipynb')}.html"
        s.page.goto(f"{s.base}/files/{page}")
        score = f"{scores[name][0]:g} / {scores[name][1]:g}"
        s.page.get_by_text(score).filter(visible=True).first.wait_for(timeout=30_000)
        s.shot("feedback")
        assert name in s.page.content() and not any(o in s.page.content() for o in STUDENTS if o != name)
    lap("feedback fetched")
    print(f"hub class run: {time.monotonic() - started:.1f} s ({lap.text()})", file=sys.stderr)
    for u in [teacher, *students.values()]:
        u.context.close()
