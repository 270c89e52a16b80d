"""Every new user gets exactly one customer profile, however the user is created."""

import json
from contextlib import contextmanager

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db.models.signals import post_save

from customers.models import Customer
from customers.signals import create_customer_profile

pytestmark = pytest.mark.django_db
User = get_user_model()


def test_a_user_created_through_the_orm_gets_one_profile():
    user = User.objects.create_user("grace", password="long-enough-pass")

    assert Customer.objects.filter(user=user).count() == 1
    assert user.customer.accepts_marketing is False


def test_saving_the_user_again_creates_no_second_profile():
    user = User.objects.create_user("grace")

    user.first_name = "Grace"
    user.save()

    assert Customer.objects.count() == 1


def test_a_later_save_of_a_user_creates_no_profile():
    """Only a new user gets one (created): a user made without one, by bulk_create, stays so."""
    User.objects.bulk_create([User(username="imported")])
    user = User.objects.get(username="imported")

    user.first_name = "Grace"
    user.save()

    assert not Customer.objects.filter(user=user).exists()


@contextmanager
def profile_receiver_muted():
    """Save users inside the block without the profile receiver, as an import script might."""
    wiring = {"sender": settings.AUTH_USER_MODEL, "dispatch_uid": "create_customer_profile"}
    post_save.disconnect(create_customer_profile, **wiring)
    try:
        yield
    finally:
        post_save.connect(create_customer_profile, **wiring)


def test_an_existing_profile_is_no_error():
    """The receiver may meet a profile made before it ran: get_or_create keeps that one."""
    with profile_receiver_muted():
        user = User.objects.create_user("grace")
        Customer.objects.create(user=user, phone="+44 20 7946 0000")

    post_save.send(sender=User, instance=user, created=True, raw=False, using="default")

    phones = list(Customer.objects.filter(user=user).values_list("phone", flat=True))
    assert phones == ["+44 20 7946 0000"]


def test_createsuperuser_gets_a_profile_too(monkeypatch):
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", "a-long-admin-password")

    call_command(
        "createsuperuser", interactive=False, username="boss", email="boss@example.com", verbosity=0
    )

    assert Customer.objects.filter(user__username="boss").count() == 1


def test_users_loaded_from_a_fixture_get_no_profile(tmp_path):
    fixture = tmp_path / "users.json"
    fixture.write_text(
        json.dumps([{"model": "auth.user", "pk": 50, "fields": {"username": "loaded"}}])
    )

    call_command("loaddata", str(fixture), verbosity=0)

    assert User.objects.filter(username="loaded").exists()
    profiles = list(Customer.objects.values_list("user__username", flat=True))
    assert profiles == [], "loaddata saves with raw=True, and the receiver must skip those"


def test_the_profile_receiver_listens_to_the_user_model():
    assert post_save.has_listeners(User)


def test_bulk_create_makes_users_without_profiles():
    """bulk_create() sends no post_save, so the receiver never hears of these users."""
    User.objects.bulk_create([User(username="import-1"), User(username="import-2")])

    assert User.objects.filter(username__startswith="import-").count() == 2
    assert not Customer.objects.filter(user__username__startswith="import-").exists()
