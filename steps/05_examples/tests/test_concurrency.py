"""Confirmations racing each other, with real threads on a file-backed database."""

import threading
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import pytest
from django.db import connections
from django.db.models.signals import post_save, pre_save
from django.test import Client

from orders.models import Order
from products.models import Product

pytestmark = pytest.mark.django_db(transaction=True)


def post_all_at_once(urls):
    """POST every URL from its own thread, released together; return the status codes."""
    start = threading.Barrier(len(urls))

    def post(url):
        client = Client()
        start.wait()
        try:
            return client.post(url).status_code
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=len(urls)) as pool:
        return list(pool.map(post, urls))


def make_product(stock):
    return Product.objects.create(
        name="Ceramic mug", description="Hand-thrown", price=Decimal("14.00"), quantity=stock
    )


def test_twenty_orders_for_ten_items_confirm_exactly_ten():
    """More than ten successes means two confirmations took the same item: updates were lost."""
    product = make_product(stock=10)
    orders = [Order.objects.create(product=product, quantity=1) for _ in range(20)]

    statuses = post_all_at_once([f"/orders/{order.pk}/confirm/" for order in orders])

    assert sorted(statuses) == [200] * 10 + [409] * 10
    assert Order.objects.filter(confirmed=True).count() == 10
    product.refresh_from_db()
    assert product.quantity == 0


def test_eight_posts_for_one_order_take_the_stock_once():
    """The same order confirmed by eight requests at once: only one may take its stock."""
    product = make_product(stock=10)
    order = Order.objects.create(product=product, quantity=3)

    statuses = post_all_at_once([f"/orders/{order.pk}/confirm/"] * 8)

    assert statuses == [200] * 8
    product.refresh_from_db()
    assert product.quantity == 7


def test_a_second_post_for_the_order_waits_until_the_first_has_committed():
    """Each request is held at its save until the other has read the order too, or 0.3 s.

    A lock taken when the order is read (BEGIN IMMEDIATE on SQLite, select_for_update on
    PostgreSQL) keeps the second request from reading it before the first commits.
    """
    product = make_product(stock=10)
    order = Order.objects.create(product=product, quantity=3)
    both_have_read = threading.Barrier(2)

    def hold_the_save(sender, instance, **kwargs):
        try:
            both_have_read.wait(timeout=0.3)
        except threading.BrokenBarrierError:
            pass  # the other request is kept out: this one goes on alone

    pre_save.connect(hold_the_save, sender=Order, dispatch_uid="hold_the_save")
    try:
        statuses = post_all_at_once([f"/orders/{order.pk}/confirm/"] * 2)
    finally:
        pre_save.disconnect(sender=Order, dispatch_uid="hold_the_save")

    assert statuses == [200, 200]
    product.refresh_from_db()
    assert product.quantity == 7, "both requests took the stock"


def test_the_stock_is_taken_in_the_database_not_from_a_stale_copy():
    """Another confirmation took stock after this order was read: keep its change."""
    product = make_product(stock=10)
    order_id = Order.objects.create(product=product, quantity=1).pk
    order = Order.objects.select_related("product").get(pk=order_id)
    Product.objects.filter(pk=product.pk).update(quantity=5)

    order.confirmed = True
    order.save()

    product.refresh_from_db()
    assert product.quantity == 4, "the receiver wrote back the stock it read before"


def articles_receiver(sender, instance, created, **kwargs):
    """The article's post_save receiver: read-modify-write on every new order."""
    if created:
        product = instance.product
        product.quantity -= instance.quantity
        product.save()


@pytest.mark.article
def test_the_articles_read_modify_write_receiver_loses_updates():
    """Each thread reads the stock, then writes back its own arithmetic: last write wins."""
    product_id = make_product(stock=10).pk
    post_save.connect(articles_receiver, sender=Order, dispatch_uid="articles_receiver")
    all_have_read = threading.Barrier(8)

    def order_one_like_the_article(_):
        try:
            product = Product.objects.get(pk=product_id)
            all_have_read.wait()  # every thread now holds the same stale quantity
            Order.objects.create(product=product, quantity=1)
        finally:
            connections.close_all()

    try:
        with ThreadPoolExecutor(max_workers=8) as pool:
            list(pool.map(order_one_like_the_article, range(8)))
    finally:
        post_save.disconnect(sender=Order, dispatch_uid="articles_receiver")

    assert Product.objects.get(pk=product_id).quantity == 9, "8 orders should leave 2"
