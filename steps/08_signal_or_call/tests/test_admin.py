from decimal import Decimal

import pytest

from orders.models import Order
from products.models import Product

pytestmark = pytest.mark.django_db


@pytest.fixture
def order():
    product = Product.objects.create(
        name="Mug", description="Ceramic", price=Decimal("14.00"), quantity=3
    )
    return Order.objects.create(product=product, quantity=2)


@pytest.mark.parametrize(
    "url",
    [
        "/admin/products/product/",
        "/admin/products/product/add/",
        "/admin/orders/order/",
        "/admin/orders/order/add/",
    ],
)
def test_admin_pages_load_for_a_superuser(admin_client, order, url):
    assert admin_client.get(url).status_code == 200


def test_admin_change_pages_load(admin_client, order):
    assert admin_client.get(f"/admin/orders/order/{order.pk}/change/").status_code == 200
    assert (
        admin_client.get(f"/admin/products/product/{order.product.pk}/change/").status_code == 200
    )


def test_order_list_shows_product_and_total(admin_client, order):
    response = admin_client.get("/admin/orders/order/")

    assert "Mug" in response.text, "the order list should name each order's product"
    assert "28.00" in response.text, "the order list should show each order's total_price"


def test_admin_requires_a_login(client):
    response = client.get("/admin/orders/order/")

    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]
