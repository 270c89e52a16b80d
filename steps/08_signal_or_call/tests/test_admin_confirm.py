"""The admin confirms through Order.confirm(): an action on the list, a button on the page."""

import pytest
from conftest import stock_of
from django.contrib.auth.models import Permission

from orders.models import Order

pytestmark = pytest.mark.django_db


def confirm_selected(admin_client, *orders):
    return admin_client.post(
        "/admin/orders/order/",
        {"action": "confirm_orders", "_selected_action": [order.pk for order in orders]},
        follow=True,
    )


def messages_of(response):
    return [str(message) for message in response.context["messages"]]


def test_the_action_confirms_the_selected_orders_and_takes_their_stock_once(
    admin_client, make_order
):
    order = make_order(stock=5, quantity=2)

    first = confirm_selected(admin_client, order)
    again = confirm_selected(admin_client, order)

    order.refresh_from_db()
    assert order.confirmed is True
    assert stock_of(order) == 3
    assert messages_of(first) == [f"Order {order.pk} confirmed."]
    assert messages_of(again) == [f"Order {order.pk} was already confirmed."]


def test_the_action_says_which_orders_lack_stock_and_confirms_the_others(admin_client, make_order):
    short, enough = make_order(stock=1, quantity=2), make_order(stock=5, quantity=1)

    response = confirm_selected(admin_client, short, enough)

    assert response.status_code == 200
    assert Order.objects.get(pk=short.pk).confirmed is False
    assert Order.objects.get(pk=enough.pk).confirmed is True
    assert (stock_of(short), stock_of(enough)) == (1, 4)
    [refused, confirmed] = messages_of(response)
    assert refused.startswith(f"Order {short.pk} was not confirmed:")
    assert confirmed == f"Order {enough.pk} confirmed."


def test_the_order_s_page_has_a_confirm_button_that_takes_stock(admin_client, make_order):
    order = make_order(stock=5, quantity=2)
    confirm_url = f"/admin/orders/order/{order.pk}/confirm/"

    page = admin_client.get(f"/admin/orders/order/{order.pk}/change/")
    refused = admin_client.get(confirm_url)
    response = admin_client.post(confirm_url, follow=True)

    assert f'action="{confirm_url}"' in page.text
    assert refused.status_code == 405
    assert response.redirect_chain[-1][0] == f"/admin/orders/order/{order.pk}/change/"
    assert stock_of(order) == 3
    assert "Confirm this order" not in response.text, "a confirmed order has no button"


def test_staff_who_may_only_view_orders_cannot_confirm_them(client, django_user_model, make_order):
    """Confirming changes the order: the button and the action need the change permission."""
    viewer = django_user_model.objects.create_user("viewer", is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_order"))
    client.force_login(viewer)
    order = make_order(stock=5, quantity=2)

    button = client.post(f"/admin/orders/order/{order.pk}/confirm/")
    client.post(
        "/admin/orders/order/",
        {"action": "confirm_orders", "_selected_action": [order.pk]},
    )

    assert button.status_code == 403
    assert Order.objects.get(pk=order.pk).confirmed is False
    assert stock_of(order) == 5


def test_confirmed_is_read_only_so_ticking_it_changes_nothing(admin_client, make_order):
    order = make_order(stock=5, quantity=2)
    product = order.product.pk

    admin_client.post(
        f"/admin/orders/order/{order.pk}/change/",
        {"product": product, "quantity": 2, "confirmed": "on"},
    )
    added = admin_client.post(
        "/admin/orders/order/add/", {"product": product, "quantity": 1, "confirmed": "on"}
    )

    assert added.status_code == 302
    assert not Order.objects.filter(confirmed=True).exists()
    assert stock_of(order) == 5


def test_a_confirmed_order_cannot_be_changed_in_the_admin(admin_client, make_order):
    order = make_order(stock=5, quantity=2)
    order.confirm()

    admin_client.post(
        f"/admin/orders/order/{order.pk}/change/",
        {"product": order.product.pk, "quantity": 1},
    )

    order.refresh_from_db()
    assert order.quantity == 2
    assert stock_of(order) == 3


def test_a_confirmed_order_s_page_shows_its_product_and_quantity_read_only(
    admin_client, make_order
):
    order = make_order(stock=5, quantity=2)
    order.confirm()

    page = admin_client.get(f"/admin/orders/order/{order.pk}/change/")

    assert page.status_code == 200
    assert list(page.context["adminform"].form.fields) == []


def test_an_order_confirmed_while_its_form_was_open_is_not_overwritten(admin_client, make_order):
    order = make_order(stock=5, quantity=2)
    admin_client.get(f"/admin/orders/order/{order.pk}/change/")
    Order.objects.get(pk=order.pk).confirm()  # a customer, meanwhile

    response = admin_client.post(
        f"/admin/orders/order/{order.pk}/change/",
        {"product": order.product.pk, "quantity": 2},
    )

    assert response.status_code == 200
    assert "confirmed meanwhile" in response.text
    order.refresh_from_db()
    assert order.confirmed is True
    assert stock_of(order) == 3


def test_a_confirmed_order_cannot_be_deleted_in_the_admin(admin_client, make_order):
    order = make_order(stock=5, quantity=2)
    order.confirm()

    page = admin_client.get(f"/admin/orders/order/{order.pk}/delete/")
    admin_client.post(
        "/admin/orders/order/", {"action": "delete_selected", "_selected_action": [order.pk]}
    )

    assert page.status_code == 403
    assert Order.objects.filter(pk=order.pk).exists()
