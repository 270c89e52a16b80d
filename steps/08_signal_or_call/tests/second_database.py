"""A second database, catalogue, next to default: for tests that need two aliases.

The settings module two_databases is written into a folder of the test's own, and
manage.py runs with it in a process of its own: the test's process has one database.
"""

import os
import shutil
import subprocess
import sys

import pytest
from django.conf import settings

# Added to the project's settings: a second database, catalogue, next to default.
TWO_DATABASES = """
from pathlib import Path

HERE = Path(__file__).parent
DATABASES = {
    "default": {"ENGINE": "django.db.backends.sqlite3", "NAME": HERE / "default.sqlite3"},
    "catalogue": {"ENGINE": "django.db.backends.sqlite3", "NAME": HERE / "catalogue.sqlite3"},
}
MEDIA_ROOT = HERE / "media"
"""
# A router for them, as a project would have in its own module.
USERS_ON_DEFAULT = """
DATABASE_ROUTERS = ["two_databases.UsersOnDefault"]


class UsersOnDefault:
    \"\"\"auth, and the apps whose models point to a user, stay off catalogue.\"\"\"

    def allow_migrate(self, db, app_label, **hints):
        if db == "catalogue" and app_label in {"auth", "admin", "customers", "blog", "accounts"}:
            return False
        return None
"""


# django-tasks-db 0.13's migration 0016 updates the default database, whichever is
# being migrated: on a catalogue migrated first, it finds no table there.
TASKS_ON_DEFAULT = """
DATABASE_ROUTERS = ["two_databases.TasksOnDefault"]


class TasksOnDefault:
    def allow_migrate(self, db, app_label, **hints):
        return False if db == "catalogue" and app_label == "django_tasks_database" else None
"""


def write_settings(folder, router=""):
    """Write the settings module two_databases into folder: the project's, and more."""
    project_settings = f"from {os.environ['DJANGO_SETTINGS_MODULE']} import *\n"
    (folder / "two_databases.py").write_text(project_settings + TWO_DATABASES + router)


def manage(folder, *arguments):
    """Run manage.py with the settings in folder; fail with its output if it fails.

    Return what it printed on its standard output.
    """
    environment = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "two_databases",
        "PYTHONPATH": str(folder),
    }
    environment.pop("DATABASE_URL", None)
    finished = subprocess.run(
        [sys.executable, "manage.py", *arguments, "--verbosity", "0"],
        cwd=settings.BASE_DIR,
        env=environment,
        capture_output=True,
        text=True,
    )
    assert finished.returncode == 0, finished.stderr
    return finished.stdout


def manage_each(folder, *commands):
    """Run each manage.py command (a list of arguments), in order, in one process."""
    script = (
        "from django.core.management import call_command\n"
        f"for arguments in {[list(command) for command in commands]!r}:\n"
        "    call_command(*arguments, verbosity=0)\n"
    )
    return manage(folder, "shell", "-c", script)


@pytest.fixture(scope="session")
def migrated_two_databases(tmp_path_factory):
    """The folder of two_databases, both migrated: catalogue first, and in stages, so
    that its rows have other ids than default's, as databases with different
    histories do. Tests get a copy of it (the two_databases fixture)."""
    folder = tmp_path_factory.mktemp("two_databases")
    write_settings(folder, router=TASKS_ON_DEFAULT)
    # catalogue first: a data migration that wrote to default would find no table there.
    manage_each(
        folder,
        ["migrate", "--database", "catalogue", "auth"],
        ["migrate", "--database", "catalogue", "products"],
        ["migrate", "--database", "catalogue"],
        ["migrate"],
    )
    return folder


@pytest.fixture
def two_databases(migrated_two_databases, tmp_path):
    """A copy of the two migrated databases and their settings, for this test alone."""
    return shutil.copytree(migrated_two_databases, tmp_path / "two_databases")
