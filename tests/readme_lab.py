"""Start JupyterLab the way README.md's first command does, for the tests that need a live server.

The command is parsed from README.md (the part after the install), so a test of it proves the README. Test-only
settings go through the environment, never the command: ``JUPYTER_PORT`` and ``JUPYTER_TOKEN`` (read by Jupyter
Server), ``BROWSER=true`` (Python's webbrowser then opens nothing), and ``JUPYTER_CONFIG_DIR`` for extra
configuration such as exposing the app to Playwright.
"""

from __future__ import annotations

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
from dataclasses import dataclass
from pathlib import Path

import harness

VENV = Path(sys.prefix)


def readme_commands() -> list[str]:
    """The shell commands of README.md's first code block."""
    text = (harness.ROOT / "README.md").read_text()
    block = re.search(r"```bash\n(.*?)```", text, re.DOTALL)
    assert block, "README.md must open with a bash block holding the two commands"
    return [ln for ln in block.group(1).splitlines() if ln.strip() and not ln.startswith("#")]


def open_command() -> str:
    """The README's first command without its install part: what opens the course."""
    setup = readme_commands()[0]
    opener = setup.split("&&")[-1].strip()
    assert "jupyter lab" in opener, f"the README's first command must end by opening JupyterLab: {setup}"
    return opener


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Lab:
    """A running JupyterLab: its base URL, token, log file and process."""

    base: str
    token: str
    log: Path
    process: subprocess.Popen

    def get(self, path: str) -> tuple[int, str, bytes]:
        """GET ``path`` with the token, without following redirects: (status, location, body)."""

        class NoRedirect(urllib.request.HTTPRedirectHandler):
            def redirect_request(self, *args: object) -> None:
                return None

        sep = "&" if "?" in path else "?"
        opener = urllib.request.build_opener(NoRedirect)
        try:
            with opener.open(f"{self.base}{path}{sep}token={self.token}", timeout=30) as r:
                return r.status, r.headers.get("Location", ""), r.read()
        except urllib.error.HTTPError as e:
            return e.code, e.headers.get("Location", ""), e.read()

    def json(self, path: str) -> object:
        status, _, body = self.get(path)
        assert status == 200, f"GET {path} answered {status}"
        return json.loads(body)

    def stop(self) -> None:
        try:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=20)
        except ProcessLookupError:
            pass
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()


def start(root: Path, scratch: Path, *, config: dict | None = None, env: dict | None = None) -> Lab:
    """Run the README's opening command in ``root`` (which must hold ``.venv``); wait until it answers.

    ``scratch`` receives the log and the extra configuration; ``config`` is a Jupyter config dict for tests;
    ``env`` adds environment variables (a value of None removes one).
    """
    if not (root / ".venv" / "bin" / "jupyter").exists():
        raise AssertionError(f"{root}/.venv/bin/jupyter is missing: create the venv with README.md's first command")
    port, token = free_port(), secrets.token_hex(16)
    config_dir = scratch / "jupyter-config-dir"
    config_dir.mkdir(parents=True, exist_ok=True)
    (config_dir / "jupyter_server_config.json").write_text(json.dumps(config or {}))
    full_env = dict(os.environ, JUPYTER_PORT=str(port), JUPYTER_TOKEN=token, BROWSER="true",
                    JUPYTER_CONFIG_DIR=str(config_dir), **(env or {}))  # fmt: skip
    full_env = {key: value for key, value in full_env.items() if value is not None}  # None: unset
    log = scratch / "lab.log"
    process = subprocess.Popen(
        ["bash", "-c", open_command()], cwd=root, env=full_env, stdout=subprocess.DEVNULL,
        stderr=log.open("w"), start_new_session=True,
    )  # fmt: skip
    lab = Lab(f"http://127.0.0.1:{port}", token, log, process)
    deadline = time.monotonic() + 90
    while True:
        try:
            urllib.request.urlopen(f"{lab.base}/api/status?token={token}", timeout=2)
            return lab
        except OSError:
            if time.monotonic() > deadline or process.poll() is not None:
                lab.stop()
                raise AssertionError(f"JupyterLab did not start:\n{log.read_text()[-3000:]}") from None
            time.sleep(0.5)
