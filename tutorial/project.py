"""Load one step's Django project into this interpreter, on a scratch database.

Used by the notebooks' first cell and by the commands that look inside a step
(receivers, tour). A step's own db.sqlite3 is never opened.
"""

import atexit
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from tutorial.steps import REPO_ROOT, get_step


def load_step(number, database=None):
    """Put step ``number`` on sys.path, set Django up on a scratch database, migrate it.

    ``database`` is a SQLite file or a postgres:// URL; by default a temporary file,
    deleted when the interpreter exits. The step's own db.sqlite3 is refused.
    """
    step = get_step(number)
    database = database or scratch_database(step)
    if str(database).startswith(("postgres://", "postgresql://")):
        os.environ["DATABASE_URL"] = str(database)
    else:
        # Resolved before the chdir below, so a relative name means the caller's folder.
        database = Path(database).resolve()
        if database == step.database.resolve():
            raise ValueError(f"{step.database} is the learner's database; use a scratch file")
        os.environ.pop("DATABASE_URL", None)
        os.environ["SQLITE_PATH"] = str(database)
    os.environ["DJANGO_SETTINGS_MODULE"] = "my_shop.settings"
    sys.path.insert(0, str(step.path))
    os.chdir(step.path)

    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)
    return step


def scratch_database(step):
    folder = Path(tempfile.mkdtemp(prefix=f"step{step.number}-"))
    atexit.register(remove_scratch_folder, folder)
    return folder / "scratch.sqlite3"


def remove_scratch_folder(folder):
    from django.db import connections

    connections.close_all()
    shutil.rmtree(folder, ignore_errors=True)


def run_in_step(number, *arguments, capture=False):
    """Run ``python -m tutorial.inside N ARGUMENTS`` in a fresh interpreter.

    Every step defines the same packages, so each step gets an interpreter of its own.
    Returns the exit code, or the completed process when ``capture`` is true.
    """
    step = get_step(number)
    environment = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    command = [sys.executable, "-m", "tutorial.inside", str(step.number), *arguments]
    completed = subprocess.run(
        command, cwd=step.path, env=environment, capture_output=capture, text=capture
    )
    return completed if capture else completed.returncode
