import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.apps import AppConfig, apps
from django.conf import settings
from django.core.management import call_command

# The folder of manage.py, wherever these tests run from (check runs them from a copy).
PROJECT_DIR = Path(settings.BASE_DIR)


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


def settings_value(expression, **environ):
    """Evaluate a settings expression in a fresh interpreter with extra environment."""
    code = f"from django.conf import settings; print(repr(({expression})))"
    inherited = {name: value for name, value in os.environ.items() if name != "DATABASE_URL"}
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "--verbosity=0", "-c", code],
        cwd=PROJECT_DIR,
        env={**inherited, **environ},
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout.strip()


@pytest.mark.course_only
def test_settings_come_from_the_environment(tmp_path):
    sqlite_file = str(tmp_path / "elsewhere.sqlite3")

    printed = settings_value(
        "settings.DEBUG, settings.ALLOWED_HOSTS, settings.DATABASES['default']['NAME']",
        DJANGO_DEBUG="false",
        DJANGO_SECRET_KEY="not-the-default",
        DJANGO_ALLOWED_HOSTS="shop.test",
        SQLITE_PATH=sqlite_file,
    )

    assert printed == repr((False, ["shop.test"], sqlite_file))


@pytest.mark.course_only
def test_production_mode_requires_a_secret_key():
    environ = {**os.environ, "DJANGO_DEBUG": "false", "DJANGO_SECRET_KEY": ""}
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=PROJECT_DIR,
        env=environ,
        capture_output=True,
        text=True,
    )

    assert result.returncode != 0
    assert "Set DJANGO_SECRET_KEY" in result.stderr
