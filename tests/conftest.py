import json
import os
import pty
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tutorial.course.steps import REPO_ROOT, get_step


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
    return subprocess.run(
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
    completed = subprocess.run(
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
