"""The course CLI, through its public surface: `python -m tutorial ...`."""

import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import run_tutorial

from tutorial.course.steps import REPO_ROOT, all_steps, get_step
from tutorial.running.everyday_commands import RQ_WORKER, SERVE_HINTS, worker_command


def test_steps_are_numbered_from_their_folder_names():
    assert get_step(1).path == REPO_ROOT / "steps" / "01_setup"
    assert [step.number for step in all_steps()] == list(range(1, len(all_steps()) + 1))


@pytest.mark.parametrize("command", ["serve", "test", "reset"])
@pytest.mark.parametrize("bad_step", ["9", "0", "two"])
def test_unknown_step_is_a_one_line_error(command, bad_step):
    result = run_tutorial(command, bad_step)

    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1
    valid = ", ".join(str(step.number) for step in all_steps())
    assert result.stderr == f"error: there is no step {bad_step!r}; valid steps are {valid}\n"


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--toolbar", "--asgi"], "error: --toolbar works with runserver; leave out --asgi\n"),
        (["--trace", "--asgi"], "error: --trace works with runserver; leave out --asgi\n"),
        (["--trace", "--toolbar"], "error: --trace and --toolbar each record the signals"),
    ],
)
def test_serve_refuses_options_that_cannot_go_together(options, message):
    result = run_tutorial("serve", "3", *options)

    assert result.returncode == 2
    assert result.stderr.startswith(message)
    assert result.stderr.count("\n") == 1


def test_reset_deletes_only_that_steps_database(tmp_path):
    for name in ["01_setup", "02_models"]:
        (tmp_path / name).mkdir()
        (tmp_path / name / "manage.py").touch()
        (tmp_path / name / "db.sqlite3").write_text("learner data")
    scratch = {"TUTORIAL_STEPS_DIR": str(tmp_path)}

    result = run_tutorial("reset", "1", env=scratch)

    assert result.returncode == 0
    assert "Deleted steps/01_setup/db.sqlite3" in result.stdout
    assert not (tmp_path / "01_setup" / "db.sqlite3").exists()
    assert (tmp_path / "02_models" / "db.sqlite3").read_text() == "learner data"
    assert "Nothing to delete" in run_tutorial("reset", "1", env=scratch).stdout


def test_make_help_lists_every_target():
    result = subprocess.run(["make", "help"], cwd=REPO_ROOT, capture_output=True, text=True)

    for target in ["setup", "step-N", "test", "test-step-N", "lint", "reset-N", "clean"]:
        assert f"make {target} " in result.stdout


def test_diff_lists_the_files_that_changed():
    result = run_tutorial("diff", "3", "--stat")

    assert result.returncode == 0
    assert "added    orders/signals.py" in result.stdout
    assert "changed  orders/views.py" in result.stdout
    assert "db.sqlite3" not in result.stdout


def test_diff_shows_a_plain_unified_diff_when_piped():
    result = run_tutorial("diff", "4")

    assert "--- steps/03_custom_signal/orders/signals.py" in result.stdout
    assert "+++ /dev/null" in result.stdout
    assert "\033[" not in result.stdout


def test_diff_of_the_first_step_explains_itself():
    result = run_tutorial("diff", "1")

    assert result.returncode == 2
    assert "first step" in result.stderr


def test_the_cli_starts_with_the_standard_library_alone():
    """`make` runs the CLI with the system's python3, before .venv exists: no package yet."""
    result = subprocess.run(
        [sys.executable, "-S", "-m", "tutorial", "diff", "3", "--stat"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
    )

    assert result.returncode == 0, result.stderr
    assert "orders/signals.py" in result.stdout


def test_the_summary_names_the_slowest_suites_and_tests(capsys):
    from tutorial.running.suites import Suite, SuiteResult, print_summary

    def result(label, seconds, durations):
        output = f"{durations}\n1 passed in {seconds}s"
        return SuiteResult(Suite(label, REPO_ROOT, []), 0, output, seconds)

    results = [
        result("step 01", 2.0, "0.90s call     tests/test_a.py::test_quick"),
        result(
            "step 02",
            9.0,
            "7.50s setup    tests/test_b.py::test_slow\n0.60s call     tests/test_b.py::test_b",
        ),
        result("tools", 5.0, "3.00s call     tests/test_c.py::test_mid"),
        result("docs", 1.0, ""),
    ]

    print_summary(results, seconds=9.5)

    out = capsys.readouterr().out.splitlines()
    assert "slowest suites: step 02 9.0 s, tools 5.0 s, step 01 2.0 s" in out
    slow = [line.split() for line in out if line.startswith("slow test:")]
    assert [words[-1] for words in slow] == [
        "tests/test_b.py::test_slow",
        "tests/test_c.py::test_mid",
        "tests/test_a.py::test_quick",
    ]


SLEEPING_SUITES = """
import sys
from tutorial.running.suites import Suite, run_test_suites

sleep = ("-c", "import time\\nwhile True: time.sleep(0.1)")  # no 60 s sleep to miss Ctrl-C
suites = [Suite(f"sleeper {n}", ".", [], runner=sleep) for n in range(6)]
print("started", flush=True)
sys.exit(run_test_suites(suites, workers=2))
"""


def test_ctrl_c_stops_the_suites_at_once_and_quietly():
    """The two running stop, even one starting just after Ctrl-C; the four waiting never start."""
    runner = subprocess.Popen(
        [sys.executable, "-c", SLEEPING_SUITES],
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    assert runner.stdout.readline() == "started\n"
    # Soon: the first two sleepers may still be starting, too late for the terminal's signal.
    time.sleep(0.3)
    started = time.monotonic()
    os.killpg(runner.pid, signal.SIGINT)  # as a terminal does: the whole group
    try:
        output, _ = runner.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(runner.pid, signal.SIGKILL)
        pytest.fail("Ctrl-C did not stop the suites within 30 s")

    assert time.monotonic() - started < 10, "the waiting suites ran anyway"
    assert runner.returncode == 130
    assert output.strip() == "Interrupted: the suites still waiting were not run."


def test_suites_start_longest_first_by_their_last_run():
    from tutorial.running.suites import Suite, longest_first

    suites = [
        Suite("step 01", REPO_ROOT, []),
        Suite("tools", REPO_ROOT, [], slow=True),
        Suite("step 06", REPO_ROOT, []),
        Suite("new and slow", REPO_ROOT, [], slow=True),
    ]

    never_timed = [suite.label for suite in longest_first(suites, {})]
    timed = longest_first(suites, {"step 01": 1.5, "tools": 9.0, "step 06": 12.0})

    assert never_timed == ["tools", "new and slow", "step 01", "step 06"]
    assert [suite.label for suite in timed] == ["new and slow", "step 06", "tools", "step 01"]


def test_the_bytecode_cache_forgets_the_folders_that_are_gone(tmp_path, monkeypatch):
    """Where Python puts each module's bytecode is Python's own answer, cache_from_source."""
    from importlib.util import cache_from_source

    from tutorial.running.suites import forget_bytecode_of_removed_folders

    cache = tmp_path / "pycache"
    monkeypatch.setattr(sys, "pycache_prefix", str(cache))
    kept, removed = tmp_path / "kept" / "module.py", tmp_path / "removed" / "sub" / "module.py"
    for module in (kept, removed):
        module.parent.mkdir(parents=True)
        module.write_text("")
        bytecode = Path(cache_from_source(module))
        bytecode.parent.mkdir(parents=True)
        bytecode.write_bytes(b"")
    shutil.rmtree(tmp_path / "removed")

    forget_bytecode_of_removed_folders(cache)

    assert Path(cache_from_source(kept)).exists()
    assert not Path(cache_from_source(removed)).parent.parent.exists()


def test_the_steps_with_tasks_are_served_with_their_worker(monkeypatch):
    monkeypatch.delenv("REDIS_URL", raising=False)
    served_with_a_worker = [step.number for step in all_steps() if worker_command(step)]
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:6379/0")

    assert served_with_a_worker == [6, 7, 8]
    assert worker_command(get_step(7)) == RQ_WORKER


def test_every_step_has_its_serve_hints():
    assert sorted(SERVE_HINTS) == [step.number for step in all_steps()]


def test_the_summary_gives_cpu_time_and_processes_beside_the_wall_time():
    """So that a run that does more work shows it, however many cores ran it."""
    result = subprocess.run(
        [sys.executable, "-m", "tutorial", "test", "1"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert result.returncode == 0, result.stdout + result.stderr
    [line] = [line for line in result.stdout.splitlines() if line.startswith("wall ")]
    _wall, _cpu, processes = re.fullmatch(
        r"wall (\d+\.\d) s, CPU (\d+) s, (\d+) processes started on this machine", line
    ).groups()
    assert int(processes) >= 1, "the suite's own pytest at least"
