"""`check N PATH --watch` on a terminal: a broken receiver, a file saved mid-edit, a fix."""

import sys

import pytest
from conftest import Terminal, copy_of_step

from tutorial.course.steps import REPO_ROOT, get_step
from tutorial.preload import client

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
    result = client.run(
        [sys.executable, "-m", "tutorial", *command],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def records_of(*outcomes, slow_left_out=0):
    """What check's report plugin writes: one record per test, and the deselected ones."""
    tests = [
        {"kind": "test", "nodeid": f"tests/test_x.py::test_{n}", "passed": passed, "message": ""}
        for n, passed in enumerate(outcomes)
    ]
    slow = [{"kind": "deselected", "nodeid": "s", "markers": ["slow"]}] * slow_left_out
    return tests + slow, ""


@pytest.mark.parametrize(
    ("quick", "option", "runs", "verdict"),
    [
        ((True, True), False, ["not slow", "and slow"], "All of them"),
        ((True, False), False, ["not slow"], "1/2 quick behaviours pass"),
        ((True, True), True, ["not slow"], "Quick check: 3 slow behaviours not run (--quick)."),
    ],
)
def test_watch_runs_the_slow_behaviours_only_once_the_quick_ones_pass(
    monkeypatch, capsys, quick, option, runs, verdict
):
    from tutorial.check import watch

    markers_run = []

    def fake_check_project(step, project, settings_module, url, markers):
        markers_run.append(markers)
        if markers.endswith("not slow"):
            return records_of(*quick, slow_left_out=3)
        return records_of(True, True, True)

    monkeypatch.setattr(watch, "check_project", fake_check_project)
    watch.check_and_summarise(get_step(6), get_step(6).path, None, quick=option)

    assert [next(run for run in runs if markers.endswith(run)) for markers in markers_run] == runs
    assert verdict in capsys.readouterr().out
