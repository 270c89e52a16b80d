"""What Django's dispatcher does, as this step's README says: each claim has its test here.

These tests use signals and receivers of their own, so they hold for any project.
"""

import asyncio

import pytest
from django.db import DatabaseError, IntegrityError, InternalError, connection, transaction
from django.db.transaction import TransactionManagementError
from django.dispatch import Signal

from products.models import Product

pytestmark = pytest.mark.django_db


def test_a_receiver_without_kwargs_is_refused_when_debug_is_on(settings):
    settings.DEBUG = True
    announced = Signal()

    def no_kwargs(sender, order):
        pass

    with pytest.raises(ValueError, match="must accept keyword arguments"):
        announced.connect(no_kwargs)


def test_a_receiver_without_kwargs_breaks_on_the_first_send_when_debug_is_off(settings):
    """send() always passes signal=..., so the very first send fails, not a later one."""
    settings.DEBUG = False
    announced = Signal()

    def no_kwargs(sender, order):
        pass

    announced.connect(no_kwargs)

    with pytest.raises(TypeError, match="unexpected keyword argument 'signal'"):
        announced.send(sender=object, order=None)


def test_send_runs_the_sync_receivers_first_then_the_async_ones():
    announced, calls = Signal(), []

    async def async_receiver(sender, **kwargs):
        calls.append("async")

    def sync_receiver(sender, **kwargs):
        calls.append("sync")

    announced.connect(async_receiver)
    announced.connect(sync_receiver)
    announced.send(sender=object)

    assert calls == ["sync", "async"]


def test_send_with_an_async_receiver_raises_inside_an_event_loop():
    announced = Signal()

    async def async_receiver(sender, **kwargs):
        pass

    announced.connect(async_receiver)

    async def send_from_async_code():
        announced.send(sender=object)

    with pytest.raises(RuntimeError, match="event loop"):
        asyncio.run(send_from_async_code())


def write_an_invalid_row(sender, **kwargs):
    """A receiver whose query fails in the database: a negative stock breaks a CHECK."""
    Product.objects.create(name="Broken", description="", price=1, quantity=-1)


def test_send_robust_catches_a_database_error_but_the_transaction_is_broken():
    announced = Signal()
    announced.connect(write_an_invalid_row)

    with transaction.atomic():
        [(_receiver, outcome)] = announced.send_robust(sender=object)
        assert isinstance(outcome, IntegrityError)
        with pytest.raises(TransactionManagementError):
            Product.objects.count()


def test_a_receiver_whose_read_fails_breaks_the_transaction_only_on_postgresql():
    """Django marks the transaction broken after a failed ORM write, not after a read."""
    announced = Signal()

    def read_a_missing_table(sender, **kwargs):
        with connection.cursor() as cursor:
            cursor.execute("SELECT * FROM no_such_table")

    announced.connect(read_a_missing_table)

    if connection.vendor == "postgresql":
        with pytest.raises(InternalError, match="current transaction is aborted"):
            with transaction.atomic():
                [(_receiver, outcome)] = announced.send_robust(sender=object)
                assert isinstance(outcome, DatabaseError)
                Product.objects.count()
    else:
        with transaction.atomic():
            [(_receiver, outcome)] = announced.send_robust(sender=object)
            assert isinstance(outcome, DatabaseError)
            assert Product.objects.count() == 0, "SQLite's transaction goes on"


def test_a_receiver_in_its_own_atomic_block_leaves_the_senders_transaction_usable():
    announced = Signal()

    def write_in_a_savepoint(sender, **kwargs):
        with transaction.atomic():
            write_an_invalid_row(sender)

    announced.connect(write_in_a_savepoint)

    with transaction.atomic():
        [(_receiver, outcome)] = announced.send_robust(sender=object)
        assert isinstance(outcome, IntegrityError)
        assert Product.objects.count() == 0


def test_one_dispatch_uid_keeps_one_receiver_per_sender():
    """The key is (dispatch_uid, sender): a second function under the same key is ignored."""
    announced = Signal()

    def first(sender, **kwargs):
        return "first"

    def second(sender, **kwargs):
        return "second"

    announced.connect(first, sender=Product, dispatch_uid="stock")
    announced.connect(second, sender=Product, dispatch_uid="stock")
    announced.connect(second, sender=Signal, dispatch_uid="stock")

    assert [result for _receiver, result in announced.send(sender=Product)] == ["first"]
    assert [result for _receiver, result in announced.send(sender=Signal)] == ["second"]
