"""POST /orders/<order_id>/confirm/: every row of the step's status table."""

import pytest
from conftest import stock_of
from django.test import Client

pytestmark = pytest.mark.django_db


def confirm_url(order_id):
    return f"/orders/{order_id}/confirm/"


def test_confirming_takes_the_ordered_quantity_from_stock(client, make_order):
    """A confirmed order with unchanged stock means the receiver never ran: see ready(), sender."""
    order = make_order(stock=5, quantity=2)

    response = client.post(confirm_url(order.pk))

    assert response.status_code == 200
    assert response.text == f"Order {order.pk} confirmed successfully."
    order.refresh_from_db()
    assert order.confirmed is True
    assert stock_of(order) == 3


def test_confirming_twice_changes_nothing_the_second_time(client, make_order):
    order = make_order(stock=5, quantity=2)
    client.post(confirm_url(order.pk))

    response = client.post(confirm_url(order.pk))

    assert response.status_code == 200
    assert "already confirmed" in response.text
    order.refresh_from_db()
    assert order.confirmed is True
    assert stock_of(order) == 3


def test_short_stock_is_a_conflict_and_confirms_nothing(client, make_order):
    order = make_order(stock=1, quantity=3, name="Pour-over kettle")

    response = client.post(confirm_url(order.pk))

    assert response.status_code == 409
    assert "Pour-over kettle" in response.text
    assert "short by 2" in response.text
    order.refresh_from_db()
    assert order.confirmed is False
    assert stock_of(order) == 1


@pytest.mark.parametrize("method", ["get", "put", "delete"])
def test_only_post_is_allowed(client, make_order, method):
    order = make_order(stock=5, quantity=2)

    response = getattr(client, method)(confirm_url(order.pk))

    assert response.status_code == 405
    assert response["Allow"] == "POST"
    order.refresh_from_db()
    assert order.confirmed is False
    assert stock_of(order) == 5


def test_unknown_order_is_not_found(client, make_order):
    order = make_order(stock=5)

    response = client.post(confirm_url(order.pk + 1000))

    assert response.status_code == 404
    assert stock_of(order) == 5


def test_post_without_csrf_token_is_forbidden(make_order):
    order = make_order(stock=5, quantity=2)
    browser = Client(enforce_csrf_checks=True)

    response = browser.post(confirm_url(order.pk))

    assert response.status_code == 403
    order.refresh_from_db()
    assert order.confirmed is False
    assert stock_of(order) == 5
