import json
import os
import pty
import select
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from tutorial.course.steps import REPO_ROOT, get_step
from tutorial.preload import client


def copy_of_step(number, destination):
    """Copy step ``number`` into ``destination``, under its own folder name, as a learner
    would have it: without a database or caches. Returns the copy's folder."""
    step = get_step(number)
    copy = Path(destination) / step.name
    ignored = shutil.ignore_patterns("db.sqlite3", "__pycache__", ".pytest_cache")
    shutil.copytree(step.path, copy, ignore=ignored)
    return copy


def run_tutorial(*arguments, env=None, timeout=120):
    """Run ``python -m tutorial ARGUMENTS`` from the repository, as a user would."""
    return client.run(
        [sys.executable, "-m", "tutorial", *map(str, arguments)],
        cwd=REPO_ROOT,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def run_on_a_terminal(*arguments, env):
    """Run the CLI with its standard output on a pseudo-terminal; return what it printed.

    The output is read while the command runs: a full terminal buffer would stop it.
    """
    leader, follower = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "tutorial", *arguments],
        cwd=REPO_ROOT,
        env={**os.environ, **env},
        stdout=follower,
    )
    os.close(follower)
    chunks = []
    while True:
        try:
            chunk = os.read(leader, 4096)
        except OSError:  # Linux reports the closed terminal as EIO
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(leader)
    process.wait(timeout=60)
    return b"".join(chunks).decode().replace("\r\n", "\n")


class Terminal:
    """A command in the foreground of a pseudo-terminal of its own, read as it prints.

    Ctrl-C goes through the terminal, which sends SIGINT to its foreground process
    group, as a learner's does (a signal from a script that started the command in
    the background would find SIGINT ignored).
    """

    def __init__(self, argv, env=None):
        environment = {**os.environ, **(env or {})}
        self.pid, self.terminal = pty.fork()
        if self.pid == 0:  # the child: a session of its own, the terminal in the foreground
            try:
                os.chdir(REPO_ROOT)
                os.execvpe(argv[0], argv, environment)
            finally:
                os._exit(127)
        self.seen = ""

    def _read(self, timeout):
        """Add what the command printed within timeout seconds; False once it has ended."""
        if not select.select([self.terminal], [], [], max(0, timeout))[0]:
            return True
        try:
            chunk = os.read(self.terminal, 4096)
        except OSError:  # Linux reports the closed terminal as EIO
            return False
        self.seen += chunk.decode(errors="replace").replace("\r\n", "\n")
        return bool(chunk)

    def read_until(self, text, timeout=60):
        """Everything printed from the last call on, up to and including text."""
        start, deadline = len(self.seen), time.monotonic() + timeout
        while text not in self.seen[start:]:
            if time.monotonic() > deadline:
                pytest.fail(f"never printed {text!r}:\n{self.seen[start:]}")
            if not self._read(deadline - time.monotonic()):
                pytest.fail(f"ended before printing {text!r}:\n{self.seen[start:]}")
        end = self.seen.index(text, start) + len(text)
        return self.seen[start:end]

    def ctrl_c(self, timeout=30):
        """Type Ctrl-C, read the rest, and return the command's exit status."""
        os.write(self.terminal, b"\x03")
        return self._wait_for_the_end(timeout, "Ctrl-C")

    def terminate(self, timeout=30):
        """Send SIGTERM to the command alone, as `kill` does; return its exit status."""
        os.kill(self.pid, signal.SIGTERM)
        return self._wait_for_the_end(timeout, "SIGTERM")

    def _wait_for_the_end(self, timeout, what):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self._read(deadline - time.monotonic()):
            pass
        while time.monotonic() < deadline:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                os.close(self.terminal)
                return os.waitstatus_to_exitcode(status)
            time.sleep(0.1)
        os.killpg(self.pid, signal.SIGKILL)
        os.waitpid(self.pid, 0)
        os.close(self.terminal)
        pytest.fail(f"{what} did not stop it within {timeout} s:\n{self.seen}")


def run_inside_step(number, code, steps_dir=None, from_migrated_copy=False):
    """Run code in a fresh interpreter with step ``number`` loaded on a scratch database.

    The code sets ``result``; it comes back through JSON. Steps share package names,
    so they never share an interpreter with each other or with this test process.
    ``steps_dir`` runs a copy of the step kept there instead of the step itself.
    ``from_migrated_copy`` is load_step()'s: quicker, for code that only needs the tables.
    """
    step_path = get_step(number).path
    # COLUMNS emptied: tables are read whole, whatever width the shell exports.
    environment = {**os.environ, "PYTHONPATH": str(REPO_ROOT), "COLUMNS": ""}
    if steps_dir is not None:
        step_path = Path(steps_dir) / step_path.name
        environment["TUTORIAL_STEPS_DIR"] = str(steps_dir)
    script = "\n".join(
        [
            "import json",
            "from tutorial.in_step.project import load_step",
            f"load_step({number}, from_migrated_copy={from_migrated_copy})",
            textwrap.dedent(code),
            "print('RESULT:' + json.dumps(result))",
        ]
    )
    completed = client.run(
        [sys.executable, "-c", script],
        cwd=step_path,
        env=environment,
        capture_output=True,
        text=True,
    )
    lines = [line for line in completed.stdout.splitlines() if line.startswith("RESULT:")]
    if completed.returncode or not lines:
        pytest.fail(f"the script failed inside step {number}:\n{completed.stderr}")
    return json.loads(lines[-1].removeprefix("RESULT:"))
