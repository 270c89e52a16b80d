"""Ticking "confirmed" in the admin takes stock too: the receivers see every save."""

import pytest
from conftest import stock_of

pytestmark = pytest.mark.django_db


def change_order(admin_client, order, **changes):
    data = {"product": order.product.pk, "quantity": order.quantity, **changes}
    if data.pop("confirmed", order.confirmed):
        data["confirmed"] = "on"
    return admin_client.post(f"/admin/orders/order/{order.pk}/change/", data)


def test_confirming_in_the_admin_takes_stock_once(admin_client, make_order):
    order = make_order(stock=5, quantity=2)

    response = change_order(admin_client, order, confirmed=True)

    assert response.status_code == 302
    order.refresh_from_db()
    assert order.confirmed is True
    assert stock_of(order) == 3

    change_order(admin_client, order, confirmed=True)
    assert stock_of(order) == 3


def test_confirming_in_the_admin_without_stock_shows_a_form_error(admin_client, make_order):
    order = make_order(stock=1, quantity=2, name="Ceramic mug")

    response = change_order(admin_client, order, confirmed=True)

    assert response.status_code == 200, "the admin shows the form again instead of saving"
    assert response.context["adminform"].form.errors, "the form has an error to show"
    order.refresh_from_db()
    assert order.confirmed is False
    assert stock_of(order) == 1


@pytest.mark.course_only
def test_the_admins_form_error_names_the_product_and_the_numbers(admin_client, make_order):
    order = make_order(stock=1, quantity=2, name="Ceramic mug")

    response = change_order(admin_client, order, confirmed=True)

    assert response.context["adminform"].form.non_field_errors() == [
        "Not enough Ceramic mug in stock to confirm: 2 needed, 1 available."
    ]


def test_adding_a_confirmed_order_in_the_admin_takes_stock(admin_client, make_order):
    product = make_order(stock=5).product

    response = admin_client.post(
        "/admin/orders/order/add/", {"product": product.pk, "quantity": 2, "confirmed": "on"}
    )

    assert response.status_code == 302
    product.refresh_from_db()
    assert product.quantity == 3
