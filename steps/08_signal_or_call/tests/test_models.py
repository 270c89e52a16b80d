from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import IntegrityError, transaction

from orders.models import Order
from products.models import Product

pytestmark = pytest.mark.django_db


@pytest.fixture
def kettle():
    return Product.objects.create(
        name="Kettle", description="Gooseneck", price=Decimal("39.50"), quantity=6
    )


def test_total_price_is_computed_on_save(kettle):
    order = Order.objects.create(product=kettle, quantity=3)

    order.refresh_from_db()
    assert order.total_price == Decimal("118.50")


def test_total_price_follows_a_changed_quantity(kettle):
    order = Order.objects.create(product=kettle, quantity=3)
    order.quantity = 1
    order.save()

    order.refresh_from_db()
    assert order.total_price == Decimal("39.50")


def test_string_representations(kettle):
    order = Order.objects.create(product=kettle, quantity=2)

    assert str(kettle) == "Kettle"
    assert str(order) == "2 x Kettle"


def test_new_orders_are_not_confirmed(kettle):
    assert Order.objects.create(product=kettle, quantity=1).confirmed is False


def test_quantity_zero_fails_validation(kettle):
    order = Order(product=kettle, quantity=0)

    with pytest.raises(ValidationError) as raised:
        order.full_clean()

    assert "quantity" in raised.value.message_dict


def test_quantity_zero_is_refused_by_the_database(kettle):
    order = Order.objects.create(product=kettle, quantity=1)

    with pytest.raises(IntegrityError), transaction.atomic():
        Order.objects.filter(pk=order.pk).update(quantity=0)


@pytest.mark.course_only
def test_demo_fixture_loads():
    call_command("loaddata", "demo", verbosity=0)

    assert Product.objects.count() == 3
    assert Order.objects.count() == 4
    assert Order.objects.get(pk=1).total_price == Decimal("37.00")


@pytest.mark.course_only
def test_demo_data_has_a_product_that_runs_out(client):
    """Orders 3 and 4 both want 2 of the 3 mugs: the second one cannot be confirmed."""
    call_command("loaddata", "demo", verbosity=0)

    assert client.post("/orders/3/confirm/").status_code == 200
    assert client.post("/orders/4/confirm/").status_code == 409
