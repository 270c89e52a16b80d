"""Stock is taken by Order.confirm(), an explicit call, and nothing else."""

import json

import pytest
from conftest import stock_of
from django.core.management import call_command
from django.db import transaction

from orders.models import Order
from orders.signals import order_confirmed
from products.exceptions import OutOfStock
from products.models import Product
from sales.models import Sale

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


def test_confirm_takes_the_stock_and_confirms(make_order):
    order = make_order(stock=5, quantity=2)

    assert order.confirm() is True

    order.refresh_from_db()
    assert order.confirmed is True
    assert stock_of(order) == 3


def test_confirming_again_takes_nothing_and_says_so(make_order):
    order = make_order(stock=5, quantity=2)
    order.confirm()

    assert order.confirm() is False
    assert Order.objects.get(pk=order.pk).confirm() is False
    assert stock_of(order) == 3


def test_short_stock_raises_and_leaves_the_order_unconfirmed(make_order):
    order = make_order(stock=1, quantity=2)

    with pytest.raises(OutOfStock):
        order.confirm()

    order.refresh_from_db()
    assert order.confirmed is False
    assert stock_of(order) == 1


def test_a_refused_confirmation_leaves_the_callers_transaction_usable(make_order):
    """confirm() works in a savepoint of its own: its failure undoes only itself."""
    short, in_stock = make_order(stock=1, quantity=2), make_order(stock=5, quantity=1)

    with transaction.atomic():
        with pytest.raises(OutOfStock):
            short.confirm()
        in_stock.confirm()

    assert stock_of(short) == 1
    assert stock_of(in_stock) == 4


def test_confirm_rolls_back_with_the_callers_transaction(make_order, heard):
    order = make_order(stock=5, quantity=2)
    announced = heard(order_confirmed)

    with pytest.raises(RuntimeError), transaction.atomic():
        order.confirm()
        raise RuntimeError("the caller failed after confirming")

    order.refresh_from_db()
    assert order.confirmed is False
    assert stock_of(order) == 5
    assert announced == []


def test_saving_an_order_as_confirmed_takes_no_stock(make_order):
    """On purpose: only confirm() confirms. save() writes the flag, nothing more."""
    order = make_order(stock=5, quantity=2)

    order.confirmed = True
    order.save()

    order.refresh_from_db()
    assert order.confirmed is True
    assert stock_of(order) == 5


def test_queryset_update_takes_no_stock_either(make_order):
    order = make_order(stock=5, quantity=2)

    Order.objects.filter(pk=order.pk).update(confirmed=True)

    assert stock_of(order) == 5


def test_creating_an_order_already_confirmed_takes_no_stock(make_order):
    """Step 07 took stock here (its post_save receiver saw created and confirmed)."""
    product = make_order(stock=5).product

    Order.objects.create(product=product, quantity=2, confirmed=True)

    product.refresh_from_db()
    assert product.quantity == 5


def test_loading_a_fixture_takes_no_stock(tmp_path):
    fixture = tmp_path / "shop.json"
    fixture.write_text(json.dumps(CONFIRMED_ORDER_FIXTURE))

    call_command("loaddata", str(fixture), verbosity=0)

    assert Order.objects.get(pk=900).confirmed is True
    assert Product.objects.get(pk=900).quantity == 40


def test_order_confirmed_is_sent_after_the_commit(
    make_order, heard, django_capture_on_commit_callbacks
):
    order = make_order(stock=5, quantity=2)
    announced = heard(order_confirmed)

    with django_capture_on_commit_callbacks(execute=True):
        order.confirm()
        assert announced == [], "sent before the commit"

    assert [(call["sender"], call["order"]) for call in announced] == [(Order, order)]


def test_the_sales_log_records_each_confirmed_order_once(
    make_order, django_capture_on_commit_callbacks
):
    order = make_order(stock=5, quantity=2)

    with django_capture_on_commit_callbacks(execute=True):
        order.confirm()
        order.confirm()

    sale = Sale.objects.get()
    assert (sale.order_number, sale.product_name, sale.quantity) == (order.pk, "Ceramic mug", 2)
    assert sale.total_price == order.total_price


def test_a_sale_outlives_the_deleted_product_and_its_orders(
    make_order, django_capture_on_commit_callbacks
):
    order = make_order(stock=5, quantity=2)
    with django_capture_on_commit_callbacks(execute=True):
        order.confirm()

    order.product.delete()

    assert not Order.objects.exists()
    assert Sale.objects.get().product_name == "Ceramic mug"


def test_a_failing_listener_is_logged_and_the_confirmation_stands(
    client, make_order, caplog, django_capture_on_commit_callbacks
):
    order = make_order(stock=5, quantity=2)

    def broken_listener(sender, order, **kwargs):
        raise RuntimeError("the loyalty service is down")

    order_confirmed.connect(broken_listener, sender=Order)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(f"/orders/{order.pk}/confirm/")
    finally:
        order_confirmed.disconnect(broken_listener, sender=Order)

    assert response.status_code == 200
    assert stock_of(order) == 3
    assert Sale.objects.count() == 1, "the other listener still ran"
    [logged] = [record for record in caplog.records if record.levelname == "ERROR"]
    assert "the loyalty service is down" in logged.getMessage(), "log the listener's error"
