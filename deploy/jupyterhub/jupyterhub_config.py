"""JupyterHub for one class of nnlab on one machine: an instructor, students, nbgrader's exchange.

Start it with ``deploy/jupyterhub/start`` (or ``jupyterhub -f deploy/jupyterhub/jupyterhub_config.py`` with the
environment below). Settings, from the environment:

* ``NNLAB_HUB_STATE``: folder for everything the hub writes (default ``deploy/jupyterhub/state``): ``home/<user>``
  (each student's root folder), ``course/`` (the instructor's nbgrader course: ``solutions/``, the release,
  ``submitted/``, ``graded/``), ``exchange/`` (nbgrader's exchange, shared), ``etc/<user>/`` (per-user Jupyter and
  nbgrader configuration, outside every user's root folder), the hub's database and cookie secret.
* ``NNLAB_HUB_IP`` / ``NNLAB_HUB_PORT``: where the hub listens (``127.0.0.1:8000``).
* ``NNLAB_INSTRUCTOR`` (``instructor``), ``NNLAB_STUDENTS`` (``student1,student2``): the accounts.
* ``NNLAB_HUB_PASSWORD``: the one password of every account (at least 8 characters). DEMO ONLY:
  SharedPasswordAuthenticator, no real accounts.

Every user's server runs as the hub's own OS user (SimpleLocalProcessSpawner). What this configuration enforces
(tests/test_hub.py tries each as a student): hub scopes give a student's login access to their own server only
(not the instructor's, not another student's, not the hub's user list); a student's server has no formgrader,
course list or create-assignment extension (their URLs are 404), no terminal, and its root folder is the
student's home (``solutions/``, the course, the exchange and other homes are outside it); nbgrader submits and
fetches feedback under the student's hub name, set by the hub in configuration outside the student's folder.
What it cannot enforce with one OS user: a student's *kernel* runs as that user and can read any file it can.
A real class runs one OS user per student (SystemdSpawner, DockerSpawner, Kubernetes: ``deploy/k8s``).
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
STATE = Path(os.environ.get("NNLAB_HUB_STATE", HERE / "state")).resolve()
COURSE_ID = "nnlab"
INSTRUCTOR = os.environ.get("NNLAB_INSTRUCTOR", "instructor")
STUDENTS = [s for s in os.environ.get("NNLAB_STUDENTS", "student1,student2").split(",") if s]
EXCHANGE = STATE / "exchange"
COURSE = STATE / "course"
VENV_BIN = Path(sys.executable).parent  # the course's venv: the hub and every single-user server run from it
#: nbgrader's server extensions; a student gets only the assignment list and validation
EXTENSIONS = {f"nbgrader.server_extensions.{x}": True for x in
              ("assignment_list", "validate_assignment", "formgrader", "course_list")}  # fmt: skip
STUDENT_OFF = ["formgrader", "course_list"]
STUDENT_LAB_OFF = ["formgrader", "course-list", "create-assignment"]

sys.path.insert(0, str(REPO))
from autograder.config import CELL_TIMEOUT_S  # noqa: E402 - the repository is importable once on the path

c = get_config()  # noqa: F821 - provided by JupyterHub's config loader


def prepare_course() -> None:
    """The shared exchange (writable by all, as nbgrader's docs ask) and the instructor's course folder."""
    EXCHANGE.mkdir(parents=True, exist_ok=True)
    EXCHANGE.chmod(0o777)
    (COURSE / "graded").mkdir(parents=True, exist_ok=True)  # the gradebook formgrader and `grade` share
    if not (COURSE / "solutions").is_dir():
        shutil.copytree(REPO / "solutions", COURSE / "solutions", ignore=shutil.ignore_patterns(".*", "__pycache__"))
    (COURSE / "nbgrader_config.py").write_text(
        '"""The hub course: the repository\'s settings, the shared exchange, grades from `python -m autograder '
        'grade`."""\n\n'
        "from pathlib import Path\n\nfrom autograder.config import configure\n\n"
        "root = Path(__file__).resolve().parent\n"
        "c = configure(get_config(), root=root)  # noqa: F821\n"
        f"c.Exchange.root = {str(EXCHANGE)!r}\n"
        "c.CourseDirectory.autograded_directory = 'graded/autograded'\n"
        "c.CourseDirectory.feedback_directory = 'graded/feedback'\n"
        "c.CourseDirectory.db_url = f\"sqlite:///{root / 'graded' / 'gradebook.db'}\"\n"
    )


def user_config(name: str) -> Path:
    """``STATE/etc/<name>``: the user's JUPYTER_CONFIG_DIR (server, lab and nbgrader settings), rewritten at
    every spawn and outside the user's root folder."""
    etc = STATE / "etc" / name
    student = name != INSTRUCTOR
    extensions = dict(EXTENSIONS)
    if student:
        extensions.update({f"nbgrader.server_extensions.{x}": False for x in STUDENT_OFF})
    server = {"ServerApp": {"allow_root": True, "jpserver_extensions": extensions, "terminals_enabled": not student},
              "LabApp": {"expose_app_in_browser": True},
              "ContentsManager": {"allow_hidden": False}}  # fmt: skip
    (etc / "labconfig").mkdir(parents=True, exist_ok=True)
    (etc / "jupyter_server_config.json").write_text(json.dumps(server, indent=1))
    off = {f"@jupyter/nbgrader:{x}": True for x in STUDENT_LAB_OFF} if student else {}
    (etc / "labconfig" / "page_config.json").write_text(json.dumps({"disabledExtensions": off}, indent=1))
    lines = ["c = get_config()  # noqa: F821", f"c.CourseDirectory.course_id = {COURSE_ID!r}",
             f"c.Exchange.root = {str(EXCHANGE)!r}"]  # fmt: skip
    if not student:  # formgrader reads the course's settings wherever the server starts
        lines.insert(1, f"load_subconfig({str(COURSE / 'nbgrader_config.py')!r})  # noqa: F821")
    if student:  # every server runs as one OS user: the hub name, not the OS name, is the student's identity
        lines.append(f"c.CourseDirectory.student_id = {name!r}")
        # Validate runs the notebook as grading would: the course's per-cell limit, not nbgrader's 30 s
        lines += [f"c.Execute.timeout = {CELL_TIMEOUT_S}", f"c.ExecutePreprocessor.timeout = {CELL_TIMEOUT_S}"]
    (etc / "nbgrader_config.py").write_text("\n".join(lines) + "\n")
    return etc


def pre_spawn_hook(spawner) -> None:  # noqa: ANN001 - a JupyterHub Spawner
    """Per-user folder, configuration and environment; the instructor's root folder is the course."""
    name = spawner.user.name
    home = STATE / "home" / name
    home.mkdir(parents=True, exist_ok=True)
    spawner.notebook_dir = str(COURSE if name == INSTRUCTOR else home)
    spawner.environment.update(
        {"JUPYTER_CONFIG_DIR": str(user_config(name)), "PYTHONPATH": str(REPO), "NNLAB_FAST": os.environ.get(
            "NNLAB_FAST", "0"), "JUPYTERLAB_SETTINGS_DIR": str(home / ".jupyter" / "lab" / "user-settings")}
    )  # fmt: skip


prepare_course()

# ---- the hub, on one address; the proxy is the npm package pinned in deploy/jupyterhub/package.json
c.JupyterHub.ip = os.environ.get("NNLAB_HUB_IP", "127.0.0.1")
c.JupyterHub.port = int(os.environ.get("NNLAB_HUB_PORT", "8000"))
c.JupyterHub.hub_ip = "127.0.0.1"
c.JupyterHub.hub_port = int(os.environ.get("NNLAB_HUB_API_PORT", "8081"))
c.ConfigurableHTTPProxy.api_url = f"http://127.0.0.1:{os.environ.get('NNLAB_PROXY_API_PORT', '8001')}"
c.ConfigurableHTTPProxy.command = [str(HERE / "node_modules" / ".bin" / "configurable-http-proxy")]
c.JupyterHub.db_url = f"sqlite:///{STATE / 'jupyterhub.sqlite'}"
c.JupyterHub.cookie_secret_file = str(STATE / "jupyterhub_cookie_secret")
c.ConfigurableHTTPProxy.pid_file = str(STATE / "jupyterhub-proxy.pid")

# ---- accounts: DEMO authentication, one shared password for the listed accounts (a real class: OAuth/LTI/LDAP)
c.JupyterHub.authenticator_class = "shared-password"
c.SharedPasswordAuthenticator.user_password = os.environ.get("NNLAB_HUB_PASSWORD", "nnlab-demo")
c.Authenticator.allowed_users = {INSTRUCTOR, *STUDENTS}
c.JupyterHub.load_groups = {"instructors": {"users": [INSTRUCTOR]}, "students": {"users": STUDENTS}}
# Students keep JupyterHub's default 'user' role: scopes on themselves only (their own server, their own model).
# The instructor also sees the class in the hub (not a hub admin: no access to the students' servers).
INSTRUCTOR_SCOPES = ["self", "admin-ui", "list:users", "read:users", "list:groups", "read:groups"]
c.JupyterHub.load_roles = [{"name": "instructor", "groups": ["instructors"], "scopes": INSTRUCTOR_SCOPES}]

# ---- single-user servers: the course's venv, one folder each, every server as the hub's OS user
c.JupyterHub.spawner_class = "jupyterhub.spawner.SimpleLocalProcessSpawner"
c.SimpleLocalProcessSpawner.home_dir_template = str(STATE / "home" / "{username}")
c.Spawner.cmd = [str(VENV_BIN / "jupyterhub-singleuser")]
c.Spawner.default_url = "/lab"
c.Spawner.ip = "127.0.0.1"
c.Spawner.start_timeout = 120
c.Spawner.http_timeout = 120
c.Spawner.pre_spawn_hook = pre_spawn_hook
c.Spawner.env_keep = ["PATH", "LANG", "LC_ALL", "OMP_NUM_THREADS", "MPLBACKEND"]
