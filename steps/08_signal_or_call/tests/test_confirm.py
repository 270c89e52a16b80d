"""Stock is taken by Order.confirm(), an explicit call, and nothing else."""

import json

import pytest
from conftest import stock_of
from django.core.management import call_command
from django.db import transaction
from second_database import manage

from orders.models import Order
from orders.signals import order_confirmed
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


def test_save_refuses_to_confirm_an_order_or_to_unconfirm_it(make_order):
    """Only confirm() confirms: a save that flipped the flag would take no stock."""
    order = make_order(stock=5, quantity=2)
    product = order.product

    order.confirmed = True
    with pytest.raises(ValueError, match="confirm"):
        order.save()
    with pytest.raises(ValueError, match="confirm"):
        Order.objects.create(product=product, quantity=2, confirmed=True)
    order = Order.objects.get(pk=order.pk)
    order.confirm()
    order.confirmed = False
    with pytest.raises(ValueError, match="confirm"):
        order.save()

    assert Order.objects.get(pk=order.pk).confirmed is True
    assert stock_of(order) == 3


def test_saving_other_fields_of_a_confirmed_order_is_allowed(make_order):
    order = make_order(stock=5, quantity=2)
    order.confirm()

    order.save()
    order.save(update_fields=["quantity"])

    assert Order.objects.get(pk=order.pk).confirmed is True


def test_queryset_update_takes_no_stock(make_order):
    """The door save() cannot guard: update() writes the column, and a review must see it."""
    order = make_order(stock=5, quantity=2)

    Order.objects.filter(pk=order.pk).update(confirmed=True)

    assert stock_of(order) == 5


def test_confirm_takes_the_stock_of_the_stored_order_not_of_a_stale_copy(make_order):
    order = make_order(stock=10, quantity=2)
    Order.objects.filter(pk=order.pk).update(quantity=5)  # changed since order was loaded

    order.confirm()

    assert order.quantity == 5
    assert stock_of(order) == 5


def test_confirming_an_unsaved_order_says_to_save_it_first(make_order):
    product = make_order().product

    with pytest.raises(ValueError, match="Save the order before confirming it"):
        Order(product=product, quantity=1).confirm()


def test_after_the_caller_rolls_back_the_instance_still_says_confirmed(make_order):
    """The database is rolled back; the Python object is not: read the row again."""
    order = make_order(stock=5, quantity=2)

    with pytest.raises(RuntimeError), transaction.atomic():
        order.confirm()
        raise RuntimeError("the caller failed after confirming")

    assert order.confirmed is True
    order.refresh_from_db()
    assert order.confirmed is False


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


def test_a_new_instance_with_a_confirmed_order_s_id_cannot_unconfirm_it(make_order):
    order = make_order(stock=10, quantity=2)
    order.confirm()

    with pytest.raises(ValueError, match="confirm"):
        Order(pk=order.pk, product=order.product, quantity=3).save()

    assert Order.objects.get(pk=order.pk).confirmed is True


def test_an_order_loaded_with_only_some_fields_confirms_all_the_same(make_order):
    order = make_order(stock=10, quantity=2)

    assert Order.objects.only("pk", "quantity").get(pk=order.pk).confirm() is True

    assert stock_of(order) == 8


def test_a_confirmed_order_keeps_the_total_it_was_confirmed_at(make_order):
    order = make_order(stock=10, quantity=2)  # 2 x 14.00
    order.confirm()
    Product.objects.filter(pk=order.product.pk).update(price=20)

    Order.objects.select_related("product").get(pk=order.pk).save()

    assert Order.objects.get(pk=order.pk).total_price == 28


ON_TWO_DATABASES = """
from orders.models import Order
from products.models import Product

for alias in ("default", "catalogue"):
    mug = Product.objects.using(alias).create(
        pk=1, name="Mug", description="", price=14, quantity=10
    )
    Order.objects.using(alias).create(pk=1, product=mug, quantity=3)
Order.objects.using("default").get(pk=1).confirm()
order = Order.objects.using("catalogue").get(pk=1)
order.save()
print(order.confirm(), order._state.db)
for alias in ("default", "catalogue"):
    stored = Order.objects.using(alias).get(pk=1).confirmed
    print(alias, stored, Product.objects.using(alias).get(pk=1).quantity)
"""


def test_an_order_saves_and_confirms_on_its_own_database(two_databases):
    """Order 1 on default is confirmed; order 1 on catalogue is not, and saves and
    confirms there, whatever default holds."""
    printed = manage(two_databases, "shell", "-c", ON_TWO_DATABASES)

    assert printed.splitlines() == ["True catalogue", "default True 7", "catalogue True 7"]
