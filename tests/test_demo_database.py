"""`serve`'s new databases: migrated and loaded once per version of the step, then copied."""

import sqlite3

import pytest
from conftest import copy_of_step

from tutorial.course.steps import Step
from tutorial.running import demo_database
from tutorial.running.everyday_commands import manage


@pytest.fixture
def step_copy(tmp_path, monkeypatch):
    monkeypatch.setattr(demo_database, "MIGRATED_DATABASES", tmp_path / "kept")
    monkeypatch.delenv("DATABASE_URL", raising=False)
    return Step(2, copy_of_step(2, tmp_path))


class RecordingManage:
    """manage(), run for real, with the commands it ran."""

    def __init__(self):
        self.commands = []

    def __call__(self, step, *arguments, **options):
        self.commands.append(arguments[0])
        return manage(step, *arguments, **options)


def product_names(database):
    with sqlite3.connect(database) as connection:
        return {name for (name,) in connection.execute("SELECT name FROM products_product")}


def test_the_second_new_database_is_a_copy_of_the_first(step_copy, capsys):
    first = RecordingManage()
    demo_database.prepare_database(step_copy, first)
    demo = product_names(step_copy.database)
    step_copy.database.unlink()  # make reset-2
    second = RecordingManage()
    demo_database.prepare_database(step_copy, second)

    assert first.commands == ["migrate", "loaddata"]
    assert second.commands == ["migrate"]
    assert product_names(step_copy.database) == demo and "Espresso beans" in demo
    printed = capsys.readouterr().out
    assert printed.count(f"A new {step_copy}/db.sqlite3: migrated with the demo data") == 2


def test_a_copy_is_migrated_for_the_apps_its_environment_adds(tmp_path, monkeypatch):
    """Step 6's settings add django_rq when REDIS_URL is set: not part of the copy's key."""
    monkeypatch.setattr(demo_database, "MIGRATED_DATABASES", tmp_path / "kept")
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("REDIS_URL", raising=False)
    step = Step(6, copy_of_step(6, tmp_path))
    demo_database.prepare_database(step, manage)
    step.database.unlink()
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:1/0")  # migrate does not connect
    demo_database.prepare_database(step, manage)

    with sqlite3.connect(step.database) as connection:
        applied = connection.execute("SELECT name FROM django_migrations WHERE app = 'django_rq'")
        assert applied.fetchall()
    assert "Espresso beans" in product_names(step.database)


def test_another_database_gets_the_demo_data_when_new_and_keeps_the_learners_after(
    step_copy, tmp_path, monkeypatch, capsys
):
    other = tmp_path / "other.sqlite3"
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{other}")
    demo_database.prepare_database(step_copy, manage)
    demo = product_names(other)
    with sqlite3.connect(other) as connection:
        connection.execute("DELETE FROM products_product WHERE name = 'Espresso beans'")
    again = RecordingManage()
    demo_database.prepare_database(step_copy, again)

    assert "Espresso beans" in demo
    assert product_names(other) == demo - {"Espresso beans"}
    assert again.commands == ["showmigrations", "migrate"]
    assert not step_copy.database.exists()
    assert capsys.readouterr().out.count("A new database at DATABASE_URL: migrated with") == 1


def test_a_first_serve_stopped_halfway_leaves_no_database_behind(step_copy):
    """Ctrl-C between migrate and loaddata: the next serve starts again, demo data and all."""

    def stopped_after_migrate(step, *arguments, **options):
        manage(step, *arguments, **options)
        if arguments[0] == "migrate":
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        demo_database.prepare_database(step_copy, stopped_after_migrate)
    assert not step_copy.database.exists()
    assert not any(demo_database.MIGRATED_DATABASES.iterdir())
    demo_database.prepare_database(step_copy, manage)

    assert "Espresso beans" in product_names(step_copy.database)


def test_a_database_already_there_is_migrated_and_keeps_its_rows(step_copy, capsys):
    demo_database.prepare_database(step_copy, manage)
    with sqlite3.connect(step_copy.database) as connection:
        connection.execute("DELETE FROM products_product")
    capsys.readouterr()
    again = RecordingManage()
    demo_database.prepare_database(step_copy, again)

    assert again.commands == ["migrate"]
    assert product_names(step_copy.database) == set()
    assert "A new" not in capsys.readouterr().out


@pytest.mark.parametrize("changed", ["fixtures/demo.json", "products/models.py"])
def test_a_changed_step_is_migrated_and_loaded_again(step_copy, changed):
    demo_database.prepare_database(step_copy, manage)
    step_copy.database.unlink()
    path = step_copy.path / changed
    path.write_text(path.read_text().replace("Espresso", "Mocha") + "\n")
    again = RecordingManage()
    demo_database.prepare_database(step_copy, again)

    assert again.commands == ["migrate", "loaddata"]
