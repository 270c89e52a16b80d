"""/signup/ creates a user (and so a profile), logs them in, and shows the profile."""

import pytest
from django.contrib.auth import get_user_model

from customers.models import Customer

pytestmark = pytest.mark.django_db
User = get_user_model()
PASSWORD = "brew-94-degrees"


def test_signup_page_shows_the_form(client):
    response = client.get("/signup/")

    assert response.status_code == 200
    assert "password2" in response.context["form"].fields


def test_signing_up_logs_in_and_shows_the_new_profile(client):
    response = client.post(
        "/signup/",
        {"username": "grace", "password1": PASSWORD, "password2": PASSWORD},
        follow=True,
    )

    assert response.redirect_chain == [("/profile/", 302)]
    assert response.context["user"].username == "grace"
    assert response.context["customer"] == Customer.objects.get(user__username="grace")
    assert Customer.objects.count() == 1


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"username": "grace", "password1": PASSWORD, "password2": PASSWORD + "x"}, "password2"),
        ({"username": "", "password1": PASSWORD, "password2": PASSWORD}, "username"),
        ({"username": "grace", "password1": "123", "password2": "123"}, "password2"),
    ],
    ids=["passwords-differ", "no-username", "weak-password"],
)
def test_invalid_signup_shows_errors_and_saves_nothing(client, data, field):
    response = client.post("/signup/", data)

    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert not User.objects.exists()
    assert not Customer.objects.exists()


def test_a_taken_username_is_refused(client):
    User.objects.create_user("grace")

    response = client.post(
        "/signup/", {"username": "grace", "password1": PASSWORD, "password2": PASSWORD}
    )

    assert "username" in response.context["form"].errors
    assert User.objects.count() == 1


def test_the_profile_page_sends_visitors_to_signup(client):
    response = client.get("/profile/")

    assert response.status_code == 302
    assert response["Location"].startswith("/signup/")
