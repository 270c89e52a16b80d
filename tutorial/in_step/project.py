"""Load one step's Django project into this interpreter, on a scratch database.

Used by the notebooks' first cell and by the commands that look inside a step
(receivers, tour). A step's own db.sqlite3 is never opened.
"""

import atexit
import contextlib
import hashlib
import os
import shutil
import sqlite3
import sys
import tempfile
from pathlib import Path

from tutorial.course.steps import CACHE_DIR, REPO_ROOT, get_step
from tutorial.preload import client

# Migrated scratch databases, one per step and version of its code, to copy from:
# migrating from nothing renders every migration's state, which is most of the time
# `tour 3` takes.
MIGRATED_DATABASES = CACHE_DIR / "migrated-databases"


def load_step(number, database=None, from_migrated_copy=False, migrated=True):
    """Put step ``number`` on sys.path, set Django up on a scratch database, migrate it.

    With ``migrated=False`` nothing is migrated: the process holds what a server has.

    ``database`` is a SQLite file or a postgres:// URL; by default a temporary file,
    deleted when the interpreter exits. The step's own db.sqlite3 is refused.

    ``from_migrated_copy`` starts a new SQLite file from a copy of one migrated before,
    for callers that only need the tables: a migrate with nothing to apply builds fewer
    historical models, whose receivers the inspector shows, than one that applies all.
    """
    step = get_step(number)
    database = database or scratch_database(step)
    on_postgres = str(database).startswith(("postgres://", "postgresql://"))
    if on_postgres:
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

    django.setup()
    if not migrated:
        return step
    if from_migrated_copy and not on_postgres and not database.exists():
        migrate_from_a_copy(step, database)
    else:
        migrate()
    return step


def migrate():
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def migrate_from_a_copy(step, database):
    """Start from the step's migrated database when there is one, else make it.

    The copy is still migrated: a migration the key misses is applied, not skipped.
    """
    template = migrated_copy_of(step)
    copied = template.exists()
    if copied:
        shutil.copyfile(template, database)
    migrate()
    if not copied:
        keep_as_template(template)


def migrated_copy_of(step):
    """Where the step's migrated database is kept, for this version of its code."""
    return MIGRATED_DATABASES / f"{step.name}-{code_version(step)}.sqlite3"


def keep_as_template(template):
    # Through SQLite's backup, on the open connection: closing it would make the caller's
    # next query open another, and send connection_created where a copy's load sends none.
    from django.db import connection

    with written_aside(template) as partial, contextlib.closing(sqlite3.connect(partial)) as copy:
        connection.connection.backup(copy)


@contextlib.contextmanager
def written_aside(database):
    """A path to write ``database`` at, renamed to it once the block has run: a reader
    never sees half of it, and a Ctrl-C halfway leaves none behind."""
    database.parent.mkdir(parents=True, exist_ok=True)
    partial = database.with_name(f"{database.name}.{os.getpid()}.partial")
    try:
        yield partial
        os.replace(partial, database)
    finally:
        partial.unlink(missing_ok=True)


def code_version(step):
    """A digest of the step's Python code and of the installed packages' versions (Django,
    django-tasks-db and their migrations): what a migrate makes."""
    installed = sorted(  # a package's metadata folder: name-version.dist-info
        entry.name
        for folder in map(Path, sys.path)
        if folder.is_dir()
        for entry in folder.iterdir()
        if entry.name.endswith(".dist-info")
    )
    digest = hashlib.sha256("\n".join(installed).encode())
    for module in sorted(step.path.rglob("*.py")):
        relative = module.relative_to(step.path)
        if relative.parts[0] != "tests":
            digest.update(str(relative).encode() + b"\0" + module.read_bytes())
    return digest.hexdigest()[:16]


def scratch_database(step):
    folder = Path(tempfile.mkdtemp(prefix=f"step{step.number}-"))
    atexit.register(remove_scratch_folder, folder)
    return folder / "scratch.sqlite3"


def remove_scratch_folder(folder):
    from django.db import connections

    connections.close_all()
    shutil.rmtree(folder, ignore_errors=True)


def run_in_step(number, *arguments, capture=False):
    """Run ``python -m tutorial.in_step N ARGUMENTS`` in an interpreter of its own.

    Every step defines the same packages, so each step gets an interpreter of its own.
    Returns the exit code, or the completed process when ``capture`` is true.
    """
    step = get_step(number)
    environment = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    command = [sys.executable, "-m", "tutorial.in_step", str(step.number), *arguments]
    completed = client.run(
        command, cwd=step.path, env=environment, capture_output=capture, text=capture
    )
    return completed if capture else completed.returncode
