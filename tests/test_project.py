"""tutorial.in_step.project: a step loaded on a scratch database started from a migrated copy."""

import shutil

import pytest
from conftest import copy_of_step, run_inside_step

from tutorial.course.steps import Step
from tutorial.in_step.project import code_version, migrated_copy_of

MIGRATION_STATE = """
from django.apps import apps
from django.db import connection
from django.db.backends.signals import connection_created

opened = []
connection_created.connect(lambda sender, **kwargs: opened.append(sender), weak=False)
from django.db.migrations.executor import MigrationExecutor
from django.test.signals import setting_changed
from tutorial.in_step.project import migrated_copy_of
from tutorial.in_step.signals_compat import connections
from tutorial.course.steps import get_step

executor = MigrationExecutor(connection)
leaves = executor.loader.graph.leaf_nodes()
template = migrated_copy_of(get_step(3))
result = {
    "unapplied": [str(migration) for migration, _ in executor.migration_plan(leaves)],
    "tables": sorted(connection.introspection.table_names()),
    "template": str(template) if template.exists() else None,
    # A tour's first query must not open a new connection (and send a signal) only
    # when the copy was just made.
    "connections_opened": len(opened),
    # Copies of the models that migrate built, connected like the real ones.
    "historical_models": sum(
        getattr(getattr(c.receiver, "__self__", None), "apps", apps) is not apps
        for c in connections(setting_changed)
    ),
}
"""

NEW_MIGRATION = """from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("products", "0001_initial")]
    operations = [
        migrations.CreateModel(
            name="Note",
            fields=[("id", models.AutoField(primary_key=True)), ("text", models.TextField())],
        )
    ]
"""


@pytest.fixture
def step_3(tmp_path):
    """A copy of step 3 whose code differs from the step's by a comment: a version of its own."""
    copy = copy_of_step(3, tmp_path)
    models = copy / "products" / "models.py"
    models.write_text(models.read_text() + f"\n# {tmp_path.name}\n")
    step = Step(3, copy)
    first_template = migrated_copy_of(step)
    yield step
    for template in {first_template, migrated_copy_of(step)}:
        template.unlink(missing_ok=True)


def migration_state(step):
    return run_inside_step(3, MIGRATION_STATE, steps_dir=step.path.parent, from_migrated_copy=True)


def test_the_second_load_starts_from_the_first_ones_migrated_copy(step_3):
    assert not migrated_copy_of(step_3).exists()

    first, second = migration_state(step_3), migration_state(step_3)

    assert first["template"] == second["template"] == str(migrated_copy_of(step_3))
    assert first["unapplied"] == second["unapplied"] == []
    assert first["tables"] == second["tables"]
    assert first["connections_opened"] == second["connections_opened"] == 0
    assert {"orders_order", "products_product", "django_content_type"} <= set(first["tables"])
    # Why receivers and the notebooks migrate from nothing: the inspector lists these.
    assert second["historical_models"] < first["historical_models"]


def test_a_migration_the_copy_lacks_is_still_applied(step_3):
    migration_state(step_3)
    older = migrated_copy_of(step_3)
    (step_3.path / "products" / "migrations" / "0002_note.py").write_text(NEW_MIGRATION)
    # As if the version had missed the new migration: the new code gets the old copy.
    shutil.copyfile(older, migrated_copy_of(step_3))

    state = migration_state(step_3)

    assert state["unapplied"] == []
    assert "products_note" in state["tables"]


def test_the_tests_are_not_part_of_the_codes_version(step_3):
    before = code_version(step_3)

    (step_3.path / "tests" / "test_setup.py").write_text("# changed\n")
    after_a_test_changed = code_version(step_3)
    (step_3.path / "orders" / "views.py").write_text("# changed\n")

    assert after_a_test_changed == before
    assert code_version(step_3) != before
