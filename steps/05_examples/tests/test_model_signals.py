"""Stock follows confirmation through pre_save and post_save, whoever saves the order."""

import json

import pytest
from conftest import stock_of
from django.contrib.auth.models import Group, User
from django.core.management import call_command
from django.db import transaction
from django.db.models.signals import m2m_changed, post_save, pre_save
from django.db.transaction import TransactionManagementError

from orders.models import Order
from products.exceptions import OutOfStock
from products.models import Product

pytestmark = pytest.mark.django_db

CONFIRMED_ORDER_FIXTURE = [
    {
        "model": "products.product",
        "pk": 900,
        "fields": {"name": "Milk jug", "description": "Steel", "price": "9.00", "quantity": 40},
    },
    {
        "model": "orders.order",
        "pk": 900,
        "fields": {"product": 900, "quantity": 2, "total_price": "18.00", "confirmed": True},
    },
]


def test_the_stock_receivers_listen_to_order_saves():
    hint = "does ProductsConfig.ready() import products.signals?"
    assert pre_save.has_listeners(Order), f"nothing listens to pre_save from Order: {hint}"
    assert post_save.has_listeners(Order), f"nothing listens to post_save from Order: {hint}"


def test_saving_an_order_as_confirmed_takes_its_stock(make_order):
    order = make_order(stock=5, quantity=2)

    order.confirmed = True
    order.save()

    assert stock_of(order) == 3


def test_saving_a_confirmed_order_again_takes_nothing(make_order):
    order = make_order(stock=5, quantity=2)
    order.confirmed = True
    order.save()

    order.save()
    order.save(update_fields=["confirmed"])

    assert stock_of(order) == 3


def test_an_order_created_confirmed_takes_its_stock_once(make_order):
    product = make_order(stock=5).product

    order = Order.objects.create(product=product, quantity=2, confirmed=True)
    order.save()

    assert stock_of(order) == 3


def test_creating_an_unconfirmed_order_takes_no_stock(make_order):
    """Stock moves when an order is confirmed: the article's receiver took it on created."""
    product = make_order(stock=5).product

    order = Order.objects.create(product=product, quantity=2)

    assert stock_of(order) == 5


def test_saving_without_the_confirmed_field_takes_nothing(make_order):
    order = make_order(stock=5, quantity=2)
    order.confirmed = True

    order.save(update_fields=["quantity"])

    assert stock_of(order) == 5


def test_each_save_keeps_its_own_confirmation_note(make_order):
    """Another order saved in between (here by a pre_save receiver) leaves this save's note.

    The note travels on the instance; a module-level variable is shared by every save.
    """
    confirming, other = make_order(stock=5, quantity=2), make_order(stock=5, quantity=1)

    def save_the_other_order(sender, instance, **kwargs):
        if instance.pk == confirming.pk:
            other.save()

    pre_save.connect(save_the_other_order, sender=Order)
    try:
        confirming.confirmed = True
        confirming.save()
    finally:
        pre_save.disconnect(save_the_other_order, sender=Order)

    assert stock_of(confirming) == 3
    assert stock_of(other) == 5


@pytest.mark.django_db(transaction=True)
def test_short_stock_rolls_the_save_back(make_order):
    """Outside any transaction, as in a shell: save() itself rolls back."""
    order = make_order(stock=1, quantity=2)
    order.confirmed = True

    with pytest.raises(OutOfStock):
        order.save()

    order.refresh_from_db()
    assert order.confirmed is False
    assert stock_of(order) == 1


def test_catching_out_of_stock_inside_the_callers_transaction_leaves_it_unusable(make_order):
    """save() joins the caller's transaction without a savepoint: its failure spoils it all."""
    short, in_stock = make_order(stock=1, quantity=2), make_order(stock=5, quantity=1)

    with transaction.atomic():
        short.confirmed = True
        with pytest.raises(OutOfStock):
            short.save()
        in_stock.confirmed = True
        with pytest.raises(TransactionManagementError):
            in_stock.save()


def test_a_batch_gives_each_confirmation_its_own_savepoint(make_order):
    short, in_stock = make_order(stock=1, quantity=2), make_order(stock=5, quantity=1)
    refused = []

    with transaction.atomic():
        for order in (short, in_stock):
            order.confirmed = True
            try:
                with transaction.atomic():
                    order.save()
            except OutOfStock:
                refused.append(order.pk)

    assert refused == [short.pk]
    assert stock_of(short) == 1
    assert stock_of(in_stock) == 4


def test_m2m_changed_is_sent_by_the_through_model():
    senders = []

    def record_sender(sender, action, **kwargs):
        senders.append((sender, action))

    m2m_changed.connect(record_sender)
    try:
        User.objects.create_user("grace").groups.add(Group.objects.create(name="buyers"))
    finally:
        m2m_changed.disconnect(record_sender)

    through = User.groups.through
    assert senders == [(through, "pre_add"), (through, "post_add")]


def test_pre_save_and_post_save_fire_once_per_save(make_order):
    order = make_order(stock=5, quantity=2)
    fired = []

    def record(signal_name):
        def receiver(sender, instance, **kwargs):
            fired.append((signal_name, instance.pk))

        return receiver

    before, after = record("pre_save"), record("post_save")
    pre_save.connect(before, sender=Order)
    post_save.connect(after, sender=Order)
    try:
        order.confirmed = True
        order.save()
    finally:
        pre_save.disconnect(before, sender=Order)
        post_save.disconnect(after, sender=Order)

    assert fired == [("pre_save", order.pk), ("post_save", order.pk)]


def test_queryset_update_sends_no_signal_so_stock_stays(make_order):
    order = make_order(stock=5, quantity=2)

    Order.objects.filter(pk=order.pk).update(confirmed=True)

    order.refresh_from_db()
    assert order.confirmed is True
    assert stock_of(order) == 5


def test_bulk_create_sends_no_signal_so_stock_stays(make_order):
    product = make_order(stock=5).product

    Order.objects.bulk_create([Order(product=product, quantity=2, confirmed=True, total_price=0)])

    assert Order.objects.filter(confirmed=True).count() == 1
    product.refresh_from_db()
    assert product.quantity == 5


def test_loading_a_fixture_takes_no_stock(tmp_path):
    """loaddata saves with raw=True: an order it loads as confirmed must not take stock again."""
    fixture = tmp_path / "shop.json"
    fixture.write_text(json.dumps(CONFIRMED_ORDER_FIXTURE))

    call_command("loaddata", str(fixture), verbosity=0)

    assert Order.objects.get(pk=900).confirmed is True
    assert Product.objects.get(pk=900).quantity == 40


def articles_receiver(sender, instance, created, **kwargs):
    """The article's version: take stock when an order is created."""
    if created:
        product = instance.product
        product.quantity -= instance.quantity
        product.save()


@pytest.mark.article
def test_the_articles_created_receiver_takes_stock_for_unconfirmed_orders(make_order):
    product = make_order(stock=5).product
    post_save.connect(articles_receiver, sender=Order, dispatch_uid="articles_receiver")
    try:
        order = Order.objects.create(product=product, quantity=2)
    finally:
        post_save.disconnect(sender=Order, dispatch_uid="articles_receiver")

    assert order.confirmed is False
    assert stock_of(order) == 3
