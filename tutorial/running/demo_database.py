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

from tutorial.in_step.project import MIGRATED_DATABASES, code_version


def prepare_database(step, manage):
    """Bring ``step``'s database up to date with ``manage(step, *arguments)``: a new one
    starts from the kept copy, or is migrated, loaded and kept."""
    if os.environ.get("DATABASE_URL"):  # the settings use another database: no file to copy
        migrate_and_load(step, manage, brand_new=not step.database.exists())
        return
    if step.database.exists():
        migrate_and_load(step, manage, brand_new=False)
        return
    kept = demo_copy_of(step)
    if kept.exists():
        shutil.copyfile(kept, step.database)
        # The environment may add apps the copy has not met (REDIS_URL adds django_rq).
        migrate_and_load(step, manage, brand_new=False)
    else:
        migrate_and_load(step, manage, brand_new=True)
        keep(step.database, kept)
    demo = " with the demo data of fixtures/demo.json" if step.fixture.exists() else ""
    print(f"A new {step}/db.sqlite3: migrated{demo}.")


def migrate_and_load(step, manage, brand_new):
    manage(step, "migrate", "--noinput", "--verbosity=0", check=True)
    if brand_new and step.fixture.exists():
        manage(step, "loaddata", str(step.fixture), check=True)


def demo_copy_of(step):
    """Where the new database of this version of ``step`` is kept."""
    fixture = step.fixture.read_bytes() if step.fixture.exists() else b""
    version = hashlib.sha256(code_version(step).encode() + b"\0" + fixture).hexdigest()[:16]
    return MIGRATED_DATABASES / f"{step.name}-{version}-demo.sqlite3"


def keep(database, kept):
    kept.parent.mkdir(parents=True, exist_ok=True)
    # Written aside, then renamed: a serve reading it never sees half a database.
    partial = kept.with_name(f"{kept.name}.{os.getpid()}")
    shutil.copyfile(database, partial)
    os.replace(partial, kept)
