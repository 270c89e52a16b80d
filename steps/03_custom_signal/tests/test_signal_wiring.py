"""order_confirmed and its receiver, through the signal's public API."""

import importlib.util
import logging

import pytest
from conftest import stock_of
from django.apps import apps

from orders.models import Order
from orders.signals import order_confirmed
from products.exceptions import OutOfStock

pytestmark = pytest.mark.django_db


def test_the_stock_receiver_listens_for_orders():
    assert order_confirmed.has_listeners(Order), (
        "nothing listens to order_confirmed from Order: does ProductsConfig.ready() "
        "import products.signals?"
    )


def test_the_receivers_module_run_under_a_second_name_connects_no_second_copy(make_order):
    """Two module names for one file (signals and products.signals) run it twice: dispatch_uid.

    A plain second import runs nothing (the module is cached); a second name for the same
    file does, and without dispatch_uid the stock would be taken twice.
    """
    receivers_file = importlib.util.find_spec("products.signals").origin
    spec = importlib.util.spec_from_file_location("second_name", receivers_file)
    second_copy = importlib.util.module_from_spec(spec)
    connected_before = list(order_confirmed.receivers)
    order = make_order(stock=5, quantity=2)

    try:
        spec.loader.exec_module(second_copy)
        responses = order_confirmed.send(sender=Order, order=order)
    finally:
        # Whatever the copy connected must not reach the other tests.
        order_confirmed.receivers[:] = connected_before

    assert len(responses) == 1, "one receiver per dispatch_uid"
    assert stock_of(order) == 3


def test_sending_by_hand_updates_the_stock(make_order):
    order = make_order(stock=5, quantity=2)

    order_confirmed.send(sender=Order, order=order)

    assert stock_of(order) == 3


def test_an_instance_as_sender_misses_receivers_filtered_on_the_class(make_order):
    """The receiver filters on sender=Order, so the article's sender=order reaches nothing."""
    order = make_order(stock=5, quantity=2)

    responses = order_confirmed.send(sender=order, order=order)

    called = [receiver.__name__ for receiver, _response in responses]
    assert called == [], "a receiver with no sender filter: connect it with sender=Order"
    assert stock_of(order) == 5


def test_an_unsaved_instance_as_sender_raises_type_error(make_order):
    unsaved = Order(product=make_order().product, quantity=1)

    with pytest.raises(TypeError, match="unhashable"):
        order_confirmed.send(sender=unsaved, order=unsaved)


def test_send_lets_the_receivers_exception_through(make_order):
    order = make_order(stock=1, quantity=2)

    with pytest.raises(OutOfStock) as raised:
        order_confirmed.send(sender=Order, order=order)

    assert "short by 1" in str(raised.value)
    assert stock_of(order) == 1


def test_send_robust_returns_the_exception_instead(make_order):
    order = make_order(stock=1, quantity=2)

    [(receiver, outcome)] = order_confirmed.send_robust(sender=Order, order=order)

    assert receiver.__name__ == "update_quantity_on_order_confirmation"
    assert isinstance(outcome, OutOfStock)
    assert stock_of(order) == 1


def test_the_receiver_logs_the_new_quantity(client, make_order, caplog):
    """Through logging, not print(): the settings' LOGGING decides where the line goes."""
    order = make_order(stock=5, quantity=2, name="Ceramic mug")

    with caplog.at_level(logging.INFO):
        client.post(f"/orders/{order.pk}/confirm/")

    lines = [message for message in caplog.messages if "Ceramic mug" in message]
    assert len(lines) == 1, "one log line names the product"
    assert "3" in lines[0], "and gives its new quantity"


@pytest.mark.course_only
def test_the_receivers_log_line_reads_as_the_readme_shows(client, make_order, caplog):
    order = make_order(stock=5, quantity=2, name="Ceramic mug")

    with caplog.at_level(logging.INFO, logger="products"):
        client.post(f"/orders/{order.pk}/confirm/")

    assert "Quantity updated for Ceramic mug. New quantity: 3" in caplog.messages


def test_calling_ready_again_connects_no_second_receiver(make_order):
    """ready() runs once per process, and tests or a second process may run it again."""
    apps.get_app_config("products").ready()
    order = make_order(stock=5, quantity=2)

    responses = order_confirmed.send(sender=Order, order=order)

    assert len(responses) == 1
    assert stock_of(order) == 3
