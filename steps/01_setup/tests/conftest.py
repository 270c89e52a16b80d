import pytest


@pytest.fixture(scope="session")
def django_db_modify_db_settings(tmp_path_factory):
    """Test on a throwaway SQLite file, never on the step's db.sqlite3.

    A file (rather than Django's default in-memory database) lets tests that
    use threads see each other's writes.
    """
    from django.conf import settings

    database = settings.DATABASES["default"]
    if database["ENGINE"] == "django.db.backends.sqlite3":
        test_file = tmp_path_factory.mktemp("database") / "test.sqlite3"
        database.setdefault("TEST", {})["NAME"] = str(test_file)


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    """Hashing with the production hasher takes a third of a second per user."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
