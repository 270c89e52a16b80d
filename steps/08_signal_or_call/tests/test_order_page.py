"""GET /orders/ and its Confirm buttons, used the way a browser uses them."""

import pytest
from conftest import stock_of
from django.test import Client

pytestmark = pytest.mark.django_db


@pytest.fixture
def browser():
    """A client that checks CSRF tokens, as a real browser session would."""
    return Client(enforce_csrf_checks=True)


def submit_confirm(browser, order):
    """Load the page, then post its Confirm form with the page's CSRF token."""
    page = browser.get("/orders/")
    assert page.status_code == 200
    token = browser.cookies["csrftoken"].value
    return browser.post(
        f"/orders/{order.pk}/confirm/",
        {"csrfmiddlewaretoken": token, "next": "/orders/"},
        follow=True,
    )


def test_page_lists_products_with_stock_and_orders(client, make_order):
    order = make_order(stock=7, quantity=2, name="Espresso beans")

    response = client.get("/orders/")

    assert response.status_code == 200
    assert list(response.context["orders"]) == [order]
    assert list(response.context["products"]) == [order.product]
    assert "Espresso beans" in response.text
    assert "28.00" in response.text


def test_confirm_button_round_trip_shows_a_success_message(browser, make_order):
    order = make_order(stock=5, quantity=2)

    response = submit_confirm(browser, order)

    assert response.redirect_chain == [("/orders/", 302)]
    assert [str(m) for m in response.context["messages"]] == [
        f"Order {order.pk} confirmed successfully."
    ]
    assert stock_of(order) == 3


def test_confirm_button_round_trip_reports_short_stock(browser, make_order):
    order = make_order(stock=1, quantity=2, name="Ceramic mug")

    response = submit_confirm(browser, order)

    (message,) = response.context["messages"]
    assert message.level_tag == "error"
    assert "Ceramic mug" in str(message)
    assert stock_of(order) == 1


def test_a_next_url_on_another_site_is_never_followed(client, make_order):
    order = make_order(stock=5, quantity=1)

    response = client.post(f"/orders/{order.pk}/confirm/", {"next": "https://evil.example/"})

    assert "evil.example" not in response.get("Location", ""), "an open redirect"
    assert stock_of(order) == 4


@pytest.mark.course_only
def test_confirmed_orders_have_no_button(client, make_order):
    order = make_order(stock=5, quantity=1)
    client.post(f"/orders/{order.pk}/confirm/")

    response = client.get("/orders/")

    assert f'action="/orders/{order.pk}/confirm/"' not in response.text
    assert "Confirmed" in response.text
