"""`check N PATH --watch` on a terminal: a broken receiver, a file saved mid-edit, a fix."""

import subprocess
import sys

import pytest
from conftest import Terminal, copy_of_step

from tutorial.course.steps import REPO_ROOT

RECEIVER = "@receiver(order_confirmed, sender=Order"


def test_watch_turns_green_when_the_learner_fixes_the_receiver(tmp_path):
    project = copy_of_step(3, tmp_path)
    signals_file = project / "products" / "signals.py"
    working = signals_file.read_text()
    assert RECEIVER in working
    signals_file.write_text(working.replace(RECEIVER, "# " + RECEIVER))  # never connected

    terminal = Terminal([sys.executable, "-m", "tutorial", "check", "3", str(project), "--watch"])
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
