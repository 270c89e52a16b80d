import os
import runpy
from importlib.util import find_spec

import pytest
from django.apps import AppConfig, apps
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command


def test_system_check_is_clean():
    call_command("check", fail_level="WARNING")


@pytest.mark.django_db
def test_no_missing_migrations():
    call_command("makemigrations", "--check", "--dry-run", verbosity=0)


@pytest.mark.parametrize(
    ("label", "config_class"),
    [("products", "ProductsConfig"), ("orders", "OrdersConfig")],
)
def test_app_is_installed_through_its_app_config(label, config_class):
    assert type(apps.get_app_config(label)).__name__ == config_class


@pytest.mark.parametrize(
    ("label", "config_class"),
    [("products", "ProductsConfig"), ("orders", "OrdersConfig")],
)
def test_the_app_label_alone_finds_the_same_config(label, config_class):
    """What INSTALLED_APPS = [..., "products"] would load: the only AppConfig in apps.py."""
    assert type(AppConfig.create(label)).__name__ == config_class


@pytest.mark.django_db
def test_admin_login_page_loads(client):
    response = client.get("/admin/login/")

    assert response.status_code == 200


def settings_read_with(monkeypatch, **environ):
    """Run the settings file afresh, as a new process would, with extra environment."""
    module = os.environ["DJANGO_SETTINGS_MODULE"]
    monkeypatch.delenv("DATABASE_URL", raising=False)
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    return runpy.run_path(find_spec(module).origin)


def test_settings_come_from_the_environment(tmp_path, monkeypatch):
    sqlite_file = str(tmp_path / "elsewhere.sqlite3")

    read = settings_read_with(
        monkeypatch,
        DJANGO_DEBUG="false",
        DJANGO_SECRET_KEY="not-the-default",
        DJANGO_ALLOWED_HOSTS="shop.test",
        SQLITE_PATH=sqlite_file,
    )

    assert read["DEBUG"] is False
    assert read["ALLOWED_HOSTS"] == ["shop.test"]
    assert read["DATABASES"]["default"]["NAME"] == sqlite_file


def test_production_mode_requires_a_secret_key(monkeypatch):
    with pytest.raises(ImproperlyConfigured, match="DJANGO_SECRET_KEY"):
        settings_read_with(monkeypatch, DJANGO_DEBUG="false", DJANGO_SECRET_KEY="")
