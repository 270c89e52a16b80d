import os
import re
import subprocess
import sys
from datetime import timedelta
from io import StringIO

import pytest
from asgiref.sync import async_to_sync
from django.conf import settings
from django.contrib.auth import authenticate
from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.core.management import CommandError, call_command
from django.test import AsyncClient
from django.utils import timezone

from accounts.models import LoginEvent

pytestmark = pytest.mark.django_db

PASSWORD = "a long pass phrase"
NO_SUCH_USER = "(no such user)"


@pytest.fixture
def ada(django_user_model):
    return django_user_model.objects.create_user("ada", password=PASSWORD)


def events():
    return list(
        LoginEvent.objects.order_by("pk").values_list("kind", "username", "user", "ip_address")
    )


def stored_values():
    return [str(value) for row in LoginEvent.objects.values_list() for value in row]


def test_logging_in_records_who_and_from_where(client, ada):
    response = client.post("/login/", {"username": "ada", "password": PASSWORD})

    assert response.status_code == 302
    assert response["Location"] == "/profile/"
    assert events() == [("logged_in", "ada", ada.pk, "127.0.0.1")]
    assert LoginEvent.objects.get().happened_at is not None


def test_a_wrong_password_records_the_user_whose_account_was_tried(client, ada):
    response = client.post("/login/", {"username": "ada", "password": "guess"})

    assert response.status_code == 200
    assert response.context["form"].errors
    assert events() == [("login_failed", "ada", ada.pk, "127.0.0.1")]


def test_an_unknown_username_is_not_recorded(client):
    client.post("/login/", {"username": "mallory", "password": "guess"})

    assert events() == [("login_failed", NO_SUCH_USER, None, "127.0.0.1")]
    assert not any("mallory" in value for value in stored_values())


def test_a_password_typed_as_the_username_is_stored_nowhere(client, ada):
    client.post("/login/", {"username": PASSWORD, "password": "ada"})

    assert events() == [("login_failed", NO_SUCH_USER, None, "127.0.0.1")]
    assert not any(PASSWORD in value for value in stored_values())


def test_a_failure_finds_the_user_whatever_the_username_field(client, ada, monkeypatch):
    """The login form calls authenticate(username=...), even when USERNAME_FIELD is email."""
    ada.email = "ada@example.com"
    ada.save()
    monkeypatch.setattr(type(ada), "USERNAME_FIELD", "email")

    client.post("/login/", {"username": "ada@example.com", "password": "guess"})

    assert events() == [("login_failed", "ada@example.com", ada.pk, "127.0.0.1")]


def test_a_failure_finds_the_user_by_the_username_field_s_own_name_too(ada, monkeypatch):
    """Code that calls authenticate(email=...) itself, as ModelBackend allows."""
    ada.email = "ada@example.com"
    ada.save()
    monkeypatch.setattr(type(ada), "USERNAME_FIELD", "email")

    authenticate(email="ada@example.com", password="guess")

    assert events() == [("login_failed", "ada@example.com", ada.pk, None)]


def test_a_username_longer_than_the_column_fails_to_log_in_and_nothing_more():
    """PostgreSQL refuses to store 200 characters in a varchar(150): DataError."""
    assert authenticate(username="x" * 200, password="guess") is None

    assert events() == [("login_failed", NO_SUCH_USER, None, None)]


def test_logging_out_records_the_user(client, ada):
    client.force_login(ada)  # force_login sends user_logged_in too

    response = client.post("/logout/")

    assert response.status_code == 302
    assert response["Location"] == "/products/"
    assert [event[:2] for event in events()] == [("logged_in", "ada"), ("logged_out", "ada")]


def test_logging_out_when_nobody_is_logged_in_records_nothing(client):
    response = client.post("/logout/")

    assert response.status_code == 302
    assert events() == []


def test_signing_up_logs_the_new_customer_in(client):
    client.post("/signup/", {"username": "grace", "password1": PASSWORD, "password2": PASSWORD})

    assert [event[:2] for event in events()] == [("logged_in", "grace")]


def test_a_failed_admin_login_is_recorded_too(client, ada):
    client.post("/admin/login/", {"username": "ada", "password": "guess"})

    assert events() == [("login_failed", "ada", ada.pk, "127.0.0.1")]


def test_a_customer_refused_by_the_admin_s_login_leaves_no_event(client, ada):
    """The right password, but no staff status: authenticate() succeeded, so no failure
    is sent, and the admin's form refuses before login(), so no login either."""
    response = client.post("/admin/login/", {"username": "ada", "password": PASSWORD})

    assert response.status_code == 200, "the admin's login form, with its error"
    assert events() == []


def test_user_login_failed_carries_the_credentials_with_the_password_masked(client, heard):
    failures = heard(user_login_failed)

    client.post("/login/", {"username": "ada", "password": "my secret"})

    [failure] = failures
    assert failure["credentials"] == {"username": "ada", "password": "********************"}
    assert "user" not in failure
    assert failure["request"].path == "/login/"


def test_a_user_login_failed_receiver_can_read_the_password_in_the_request(client, heard):
    failures = heard(user_login_failed)

    client.post("/login/", {"username": "ada", "password": "my secret"})

    [failure] = failures
    assert failure["request"].POST["password"] == "my secret"


def test_the_password_never_reaches_the_audit_log(client, ada):
    client.post("/login/", {"username": "ada", "password": "my secret"})

    assert events() == [("login_failed", "ada", ada.pk, "127.0.0.1")]
    assert not any("my secret" in value for value in stored_values())


def test_authenticate_without_a_request_is_recorded_without_an_address(ada):
    assert authenticate(username="ada", password="guess") is None

    assert events() == [("login_failed", "ada", ada.pk, None)]


def test_user_logged_in_has_django_s_own_receiver_too(ada, heard):
    """Django updates last_login from user_logged_in, in a receiver of its own."""
    assert ada.last_login is None
    logins = heard(user_logged_in)

    async_to_sync(AsyncClient().post)("/login/", {"username": "ada", "password": PASSWORD})

    ada.refresh_from_db()
    assert ada.last_login is not None
    assert [call["user"] for call in logins] == [ada]


def test_the_login_page_records_under_asgi_too(ada):
    response = async_to_sync(AsyncClient().post)(
        "/login/", {"username": "ada", "password": PASSWORD}
    )

    assert response.status_code == 302
    assert events() == [("logged_in", "ada", ada.pk, "127.0.0.1")]


def test_the_admin_lists_the_events_and_lets_nobody_edit_them(admin_client, admin_user):
    response = admin_client.get("/admin/accounts/loginevent/")
    event = LoginEvent.objects.get(username=admin_user.username)

    assert response.status_code == 200
    assert "logged in" in response.text
    assert admin_client.get("/admin/accounts/loginevent/add/").status_code == 403
    change_page = admin_client.get(f"/admin/accounts/loginevent/{event.pk}/change/")
    assert 'type="submit" value="Save"' not in change_page.text


def test_the_admin_lets_nobody_delete_an_event(admin_client, admin_user):
    event = LoginEvent.objects.get(username=admin_user.username)
    delete_page = f"/admin/accounts/loginevent/{event.pk}/delete/"

    assert admin_client.get(delete_page).status_code == 403
    assert admin_client.post(delete_page, {"post": "yes"}).status_code == 403
    assert LoginEvent.objects.filter(pk=event.pk).exists()


def test_the_admin_s_delete_selected_action_deletes_no_event(admin_client, admin_user):
    event = LoginEvent.objects.get(username=admin_user.username)

    admin_client.post(
        "/admin/accounts/loginevent/",
        {"action": "delete_selected", "_selected_action": [event.pk], "post": "yes"},
    )

    assert LoginEvent.objects.filter(pk=event.pk).exists()


def test_deleting_a_user_keeps_their_events(client, ada):
    client.post("/login/", {"username": "ada", "password": PASSWORD})

    ada.delete()

    assert events() == [("logged_in", "ada", None, "127.0.0.1")]


def events_aged(*days):
    """One failed login per age given, in days."""
    for age in days:
        event = LoginEvent.objects.create(kind=LoginEvent.Kind.LOGIN_FAILED, username="x")
        # auto_now_add sets happened_at on create(); update() writes the age past it.
        LoginEvent.objects.filter(pk=event.pk).update(
            happened_at=timezone.now() - timedelta(days=age)
        )


def test_prune_login_events_deletes_the_events_older_than_the_days_given():
    events_aged(400, 31, 29, 0)
    output = StringIO()

    call_command("prune_login_events", "--older-than", "30", stdout=output)

    ages = [
        (timezone.now() - happened).days
        for happened in LoginEvent.objects.values_list("happened_at", flat=True)
    ]
    assert sorted(ages) == [0, 29]
    assert "2" in re.findall(r"\d+", output.getvalue())  # how many it deleted


@pytest.mark.parametrize("days", ["-1", "ten", "1.5"])
def test_prune_login_events_refuses_days_that_are_not_a_whole_number_0_or_more(days):
    events_aged(400)

    with pytest.raises(CommandError, match="--older-than"):
        call_command("prune_login_events", "--older-than", days)

    assert LoginEvent.objects.count() == 1


@pytest.mark.parametrize("days", ["-1", "ten"])
def test_prune_login_events_explains_a_bad_number_of_days_without_a_traceback(days, tmp_path):
    environment = {**os.environ, "SQLITE_PATH": str(tmp_path / "unused.sqlite3")}
    environment.pop("DATABASE_URL", None)

    finished = subprocess.run(
        [sys.executable, "manage.py", "prune_login_events", "--older-than", days],
        cwd=settings.BASE_DIR,
        env=environment,
        capture_output=True,
        text=True,
    )

    assert finished.returncode != 0
    assert "--older-than" in finished.stderr
    assert "Traceback" not in finished.stderr
