import pytest
from asgiref.sync import async_to_sync
from django.contrib.auth import authenticate
from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.test import AsyncClient

from accounts.models import LoginEvent

pytestmark = pytest.mark.django_db

PASSWORD = "a long pass phrase"


@pytest.fixture
def ada(django_user_model):
    return django_user_model.objects.create_user("ada", password=PASSWORD)


def events():
    return list(
        LoginEvent.objects.order_by("pk").values_list("kind", "username", "user", "ip_address")
    )


def test_logging_in_records_who_and_from_where(client, ada):
    response = client.post("/login/", {"username": "ada", "password": PASSWORD})

    assert response.status_code == 302
    assert response["Location"] == "/profile/"
    assert events() == [("logged_in", "ada", ada.pk, "127.0.0.1")]
    assert LoginEvent.objects.get().happened_at is not None


def test_a_wrong_password_records_the_username_tried_and_no_user(client, ada):
    response = client.post("/login/", {"username": "ada", "password": "guess"})

    assert response.status_code == 200
    assert response.context["form"].errors
    assert events() == [("login_failed", "ada", None, "127.0.0.1")]


def test_an_unknown_username_is_recorded_as_typed(client):
    client.post("/login/", {"username": "mallory", "password": "guess"})

    assert events() == [("login_failed", "mallory", None, "127.0.0.1")]


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

    assert [event[:2] for event in events()] == [("login_failed", "ada")]


def test_user_login_failed_carries_the_credentials_with_the_password_masked(client, heard):
    failures = heard(user_login_failed)

    client.post("/login/", {"username": "ada", "password": "my secret"})

    [failure] = failures
    assert failure["credentials"] == {"username": "ada", "password": "********************"}
    assert "user" not in failure
    assert failure["request"].path == "/login/"


def test_the_masked_password_never_reaches_the_audit_log(client):
    client.post("/login/", {"username": "ada", "password": "my secret"})

    stored = LoginEvent.objects.values_list("username", "kind", "ip_address")
    assert not any("my secret" in str(value) for row in stored for value in row)


def test_authenticate_without_a_request_is_recorded_without_an_address():
    assert authenticate(username="nobody", password="guess") is None

    assert events() == [("login_failed", "nobody", None, None)]


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
