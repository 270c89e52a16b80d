"""The learner's db.sqlite3 for `serve`: migrated, with the demo data loaded when it is new.

A migrate from nothing and a loaddata cost a second or more at every first `make step-N`
after `make reset-N`, and in each test that serves a fresh copy of a step. So the first
new database made for a version of a step is kept in the cache, and the next new one is
a copy of it, migrated only for what the environment adds. The version covers what makes
the database: the step's code, its demo fixture, Django and every installed package
(tutorial.in_step.project.code_version).
"""

import hashlib
import os
import shutil

from tutorial.in_step.project import MIGRATED_DATABASES, code_version, written_aside


def prepare_database(step, manage):
    """Bring ``step``'s database up to date with ``manage(step, *arguments)``: a new one
    starts from the kept copy, or is migrated, loaded and kept."""
    if os.environ.get("DATABASE_URL"):  # the settings use another database: no file to copy
        brand_new = not any_migration_applied(step, manage)
        migrate_and_load(step, manage, brand_new)
        if brand_new:
            print(f"A new database at DATABASE_URL: migrated{demo_data(step)}.")
        return
    if step.database.exists():
        migrate_and_load(step, manage, brand_new=False)
        return
    kept = demo_copy_of(step)
    made_here = not kept.exists()
    if made_here:
        with written_aside(kept) as partial:
            migrate_and_load(step, manage, brand_new=True, database=partial)
    with written_aside(step.database) as partial:
        shutil.copyfile(kept, partial)
    if not made_here:  # in another environment, which may have had fewer apps (REDIS_URL)
        migrate_and_load(step, manage, brand_new=False)
    print(f"A new {step}/db.sqlite3: migrated{demo_data(step)}.")


def any_migration_applied(step, manage):
    plan = manage(step, "showmigrations", "--plan", capture_output=True, text=True, check=True)
    return "[X]" in plan.stdout


def migrate_and_load(step, manage, brand_new, database=None):
    manage(step, "migrate", "--noinput", "--verbosity=0", database=database, check=True)
    if brand_new and step.fixture.exists():
        manage(step, "loaddata", str(step.fixture), database=database, check=True)


def demo_data(step):
    return " with the demo data of fixtures/demo.json" if step.fixture.exists() else ""


def demo_copy_of(step):
    """Where the new database of this version of ``step`` is kept."""
    fixture = step.fixture.read_bytes() if step.fixture.exists() else b""
    version = hashlib.sha256(code_version(step).encode() + b"\0" + fixture).hexdigest()[:16]
    return MIGRATED_DATABASES / f"{step.name}-{version}-demo.sqlite3"
