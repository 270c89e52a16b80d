"""`check N PATH --watch` on a terminal: a broken receiver, a file saved mid-edit, a fix."""

import os
import pty
import select
import signal
import subprocess
import sys
import time

import pytest
from conftest import copy_of_step

from tutorial.course.steps import REPO_ROOT

RECEIVER = "@receiver(order_confirmed, sender=Order"


class Terminal:
    """The CLI on a pseudo-terminal, read as it prints, in a session of its own."""

    def __init__(self, *arguments):
        self.leader, follower = pty.openpty()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tutorial", *arguments],
            cwd=REPO_ROOT,
            stdout=follower,
            stderr=follower,
            start_new_session=True,
        )
        os.close(follower)
        self.seen = ""

    def read_until(self, text, timeout=60):
        """Everything printed from the last call on, up to and including text."""
        start, deadline = len(self.seen), time.monotonic() + timeout
        while text not in self.seen[start:]:
            waited = max(0, deadline - time.monotonic())
            if not select.select([self.leader], [], [], waited)[0]:
                pytest.fail(f"never printed {text!r}:\n{self.seen[start:]}")
            try:
                self.seen += os.read(self.leader, 4096).decode().replace("\r\n", "\n")
            except OSError:  # the terminal closed: the process ended
                pytest.fail(f"ended before printing {text!r}:\n{self.seen[start:]}")
        end = self.seen.index(text, start) + len(text)
        return self.seen[start:end]

    def ctrl_c(self):
        """As a terminal does: SIGINT to the whole foreground group."""
        os.killpg(self.process.pid, signal.SIGINT)
        try:
            returncode = self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            raise
        while select.select([self.leader], [], [], 0)[0]:
            try:
                self.seen += os.read(self.leader, 4096).decode().replace("\r\n", "\n")
            except OSError:  # the terminal closed
                break
        os.close(self.leader)
        return returncode


def test_watch_turns_green_when_the_learner_fixes_the_receiver(tmp_path):
    project = copy_of_step(3, tmp_path)
    signals_file = project / "products" / "signals.py"
    working = signals_file.read_text()
    assert RECEIVER in working
    signals_file.write_text(working.replace(RECEIVER, "# " + RECEIVER))  # never connected

    terminal = Terminal("check", "3", str(project), "--watch")
    try:
        broken = terminal.read_until("Watching for changes")
        (project / "products" / "notes.swp").write_text("an editor's swap file")
        (project / "db.sqlite3").write_text("")
        signals_file.write_text(working.replace("def update_quantity", "def update_quantity("))
        mid_edit = terminal.read_until("Watching for changes")
        signals_file.write_text(working)
        fixed = terminal.read_until("Watching for changes")
    finally:
        returncode = terminal.ctrl_c()

    assert "behaviours pass in step 3" in broken and "  FAIL  " in broken
    assert 'reread:   steps/03_custom_signal/README.md, "' in broken
    assert "changed: products/signals.py\n" in mid_edit, "swap file and database ignored"
    assert "error: " in mid_edit and "SyntaxError" in mid_edit
    assert "All of them: your project behaves like the step." in fixed
    assert returncode == 0
    assert "Stopped watching." in terminal.seen
    assert "Traceback" not in terminal.seen


@pytest.mark.parametrize(
    ("folder", "options", "message"),
    [(".", ["--postgres"], "--watch runs alone"), ("missing", [], "is not a folder")],
)
def test_watch_refuses_what_it_cannot_watch(tmp_path, folder, options, message):
    command = ["check", "3", str(tmp_path / folder), "--watch", *options]
    result = subprocess.run(
        [sys.executable, "-m", "tutorial", *command],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr
