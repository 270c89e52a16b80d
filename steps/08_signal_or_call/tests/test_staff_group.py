import os
import sqlite3
import subprocess
import sys

import pytest
from django.apps import apps as global_apps
from django.conf import settings
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.db.models.signals import post_migrate

pytestmark = pytest.mark.django_db

SHOP_STAFF_PERMISSIONS = sorted(
    f"{action}_{model}"
    for action in ("add", "change", "delete", "view")
    for model in ("order", "product", "tag")
)


def staff_permissions():
    group = Group.objects.get(name="Shop staff")
    return sorted(group.permissions.values_list("codename", flat=True))


def test_the_test_database_has_the_group_because_pytest_django_ran_migrate():
    assert staff_permissions() == SHOP_STAFF_PERMISSIONS


def test_migrating_again_leaves_one_group():
    call_command("migrate", verbosity=0)
    call_command("migrate", verbosity=0)

    assert Group.objects.filter(name="Shop staff").count() == 1


def test_an_admin_s_change_to_the_group_survives_the_next_migrate():
    Group.objects.get(name="Shop staff").permissions.filter(codename="delete_order").delete()

    call_command("migrate", verbosity=0)

    assert "delete_order" not in staff_permissions()


def test_post_migrate_is_sent_once_per_app_with_models(heard):
    sent = heard(post_migrate)

    call_command("migrate", verbosity=0)

    senders = [call["sender"] for call in sent]
    with_models = [config for config in global_apps.get_app_configs() if config.models_module]
    assert senders == with_models
    assert {call["using"] for call in sent} == {"default"}


def test_post_migrate_carries_the_historical_models_and_the_plan(heard):
    sent = heard(post_migrate)

    call_command("migrate", verbosity=0)

    historical = sent[0]["apps"]
    assert historical is not global_apps
    assert historical.get_model("products", "Product") is not global_apps.get_model(
        "products", "Product"
    )
    assert sent[0]["plan"] == []  # nothing left to apply


@pytest.mark.django_db(transaction=True)
def test_flush_sends_post_migrate_without_apps_and_the_group_comes_back(heard):
    sent = heard(post_migrate)

    call_command("flush", interactive=False, verbosity=0)

    assert sent and all("apps" not in call and "plan" not in call for call in sent)
    assert staff_permissions() == SHOP_STAFF_PERMISSIONS


def test_each_database_migrated_gets_its_own_group(tmp_path):
    """migrate works on one database at a time, and sends post_migrate for that one."""
    other_database = tmp_path / "other.sqlite3"
    environment = {**os.environ, "SQLITE_PATH": str(other_database)}
    environment.pop("DATABASE_URL", None)

    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--verbosity", "0"],
        cwd=settings.BASE_DIR,
        env=environment,
        check=True,
    )

    with sqlite3.connect(other_database) as connection:
        groups = connection.execute("SELECT name FROM auth_group").fetchall()
    assert groups == [("Shop staff",)]
