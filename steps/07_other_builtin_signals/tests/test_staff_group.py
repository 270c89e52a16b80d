import sqlite3

import pytest
from django.apps import apps as global_apps
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.db.models.signals import post_migrate
from second_database import USERS_ON_DEFAULT, manage, manage_each, write_settings

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


def test_post_migrate_carries_the_historical_models(heard):
    sent = heard(post_migrate)

    call_command("migrate", verbosity=0)

    historical = sent[0]["apps"]
    assert historical is not global_apps
    assert historical.get_model("products", "Product") is not global_apps.get_model(
        "products", "Product"
    )


def test_the_plan_pairs_each_migration_run_with_backwards_faked_or_not(heard):
    sent = heard(post_migrate, sender=global_apps.get_app_config("accounts"))

    call_command("migrate", verbosity=0)
    call_command("migrate", "accounts", "zero", fake=True, verbosity=0)
    call_command("migrate", "accounts", fake=True, verbosity=0)

    plans = [
        [(migration.app_label, migration.name, backwards) for migration, backwards in call["plan"]]
        for call in sent
    ]
    assert plans == [
        [],  # nothing left to apply
        [("accounts", "0001_initial", True)],
        [("accounts", "0001_initial", False)],
    ]


@pytest.mark.django_db(transaction=True)
def test_flush_sends_post_migrate_without_apps_and_the_group_comes_back(heard):
    sent = heard(post_migrate)

    call_command("flush", interactive=False, verbosity=0)

    assert sent and all("apps" not in call and "plan" not in call for call in sent)
    assert staff_permissions() == SHOP_STAFF_PERMISSIONS


def staff_permissions_in(database):
    """The codenames of the Shop staff group's permissions in that SQLite file."""
    with sqlite3.connect(database) as connection:
        rows = connection.execute(
            "SELECT codename FROM auth_permission"
            " JOIN auth_group_permissions ON auth_permission.id = permission_id"
            " JOIN auth_group ON auth_group.id = group_id WHERE auth_group.name = 'Shop staff'"
        )
        return sorted(codename for (codename,) in rows)


def tables(database):
    with sqlite3.connect(database) as connection:
        return {name for (name,) in connection.execute("SELECT name FROM sqlite_master")}


def test_each_database_migrated_gets_its_own_group(two_databases):
    """migrate works on one database at a time, and sends post_migrate for that one.

    catalogue is migrated in stages, so its permissions have other ids than default's,
    as two databases with different histories do.
    """
    assert staff_permissions_in(two_databases / "default.sqlite3") == SHOP_STAFF_PERMISSIONS
    assert staff_permissions_in(two_databases / "catalogue.sqlite3") == SHOP_STAFF_PERMISSIONS


def test_a_database_that_a_router_keeps_auth_off_gets_no_group(tmp_path):
    write_settings(tmp_path, router=USERS_ON_DEFAULT)

    manage_each(tmp_path, ["migrate"], ["migrate", "--database", "catalogue"])

    assert staff_permissions_in(tmp_path / "default.sqlite3") == SHOP_STAFF_PERMISSIONS
    catalogue = tables(tmp_path / "catalogue.sqlite3")
    assert "products_product" in catalogue
    assert "auth_group" not in catalogue


def test_migrate_auth_zero_drops_the_group_and_the_next_migrate_brings_it_back(
    two_databases,
):
    """After auth zero, the apps post_migrate passes have no auth app to find Group in."""
    manage(two_databases, "migrate", "auth", "zero")
    assert "auth_group" not in tables(two_databases / "default.sqlite3")

    manage(two_databases, "migrate")
    assert staff_permissions_in(two_databases / "default.sqlite3") == SHOP_STAFF_PERMISSIONS


def test_a_migrate_that_stops_short_of_the_shop_s_apps_leaves_the_group_for_later(tmp_path):
    """migrate auth on a new database: orders and products have no permissions yet."""
    write_settings(tmp_path)

    manage(tmp_path, "migrate", "auth")
    with sqlite3.connect(tmp_path / "default.sqlite3") as connection:
        assert connection.execute("SELECT name FROM auth_group").fetchall() == []

    manage(tmp_path, "migrate")
    assert staff_permissions_in(tmp_path / "default.sqlite3") == SHOP_STAFF_PERMISSIONS
