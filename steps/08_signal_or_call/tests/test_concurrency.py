"""Confirmations racing each other, with real threads on a file-backed database."""

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.db import connection, connections, transaction
from django.db.models.signals import post_save
from django.test import Client

from orders.admin import OrderAdmin, OrderAdminForm
from orders.models import Order
from products.models import Product

User = get_user_model()

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


def test_the_stock_is_taken_in_the_database_not_from_a_stale_copy():
    """Another confirmation took stock after this order was read: keep its change."""
    product = make_product(stock=10)
    order_id = Order.objects.create(product=product, quantity=1).pk
    order = Order.objects.select_related("product").get(pk=order_id)
    Product.objects.filter(pk=product.pk).update(quantity=5)

    order.confirm()

    product.refresh_from_db()
    assert product.quantity == 4, "confirm() wrote back the stock it read before"


def in_a_thread(work):
    """Run work in a thread with a database connection of its own; return the thread."""
    outcome = {}

    def run():
        try:
            outcome["result"] = work()
        except Exception as error:  # the test asserts on it
            outcome["error"] = error
        finally:
            connections.close_all()

    thread = threading.Thread(target=run)
    thread.outcome = outcome
    thread.start()
    return thread


def wait_while_it_runs_or_waits_for_a_lock(thread):
    """Return once thread has finished, or waits for a row lock (PostgreSQL).

    SQLite shows nothing to look at: there a writer waits at BEGIN for the one lock,
    and half a second is time enough to be sure it got there.
    """
    deadline = time.monotonic() + (10 if connection.vendor == "postgresql" else 0.5)
    while thread.is_alive() and time.monotonic() < deadline:
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT 1 FROM pg_stat_activity WHERE wait_event_type = 'Lock'")
                if cursor.fetchone():
                    return
        time.sleep(0.02)


def admin_client_for_thread():
    client = Client()
    client.force_login(User.objects.create_superuser("admin", password="admin"))
    return client


def pause_admin_after(monkeypatch, cls, method_name):
    """Make cls.method_name wait, after it ran, until the returned event is set."""
    reached, go_on = threading.Event(), threading.Event()
    original = getattr(cls, method_name)

    def paused(*args, **kwargs):
        result = original(*args, **kwargs)
        reached.set()
        assert go_on.wait(timeout=10), "the test never let the admin go on"
        return result

    monkeypatch.setattr(cls, method_name, paused)
    return reached, go_on


def test_a_customer_confirming_while_the_admin_saves_the_order_takes_the_stock_once(
    monkeypatch,
):
    """The admin loads the order; a customer confirms it; the admin's save lands after.

    Step 08 before this test: the admin's full save wrote confirmed=False over the
    customer's confirmation, and its confirm() then took the stock a second time.
    """
    order = Order.objects.create(product=make_product(stock=10), quantity=2)
    loaded, go_on = pause_admin_after(monkeypatch, OrderAdmin, "get_object")
    admin = admin_client_for_thread()
    data = {"product": order.product_id, "quantity": 2}
    saving = in_a_thread(lambda: admin.post(f"/admin/orders/order/{order.pk}/change/", data))
    assert loaded.wait(timeout=10)

    customer = in_a_thread(lambda: Client().post(f"/orders/{order.pk}/confirm/").status_code)
    wait_while_it_runs_or_waits_for_a_lock(customer)
    go_on.set()
    saving.join(timeout=20)
    customer.join(timeout=20)

    assert "error" not in saving.outcome and "error" not in customer.outcome
    assert saving.outcome["result"].status_code in (200, 302), "a form error or a save, no 500"
    assert customer.outcome["result"] == 200
    assert Order.objects.get(pk=order.pk).confirmed is True
    assert Product.objects.get(pk=order.product_id).quantity == 8


def test_the_admin_changing_an_order_and_a_customer_confirming_it_do_not_deadlock(
    monkeypatch,
):
    """Both lock the order first. Step 08 before this test: the admin's form locked the
    product and then wrote the order, the view the other way round: PostgreSQL found a
    deadlock and the customer got a 500."""
    order = Order.objects.create(product=make_product(stock=10), quantity=2)
    validated, go_on = pause_admin_after(monkeypatch, OrderAdminForm, "clean")
    admin = admin_client_for_thread()
    data = {"product": order.product_id, "quantity": 3}
    saving = in_a_thread(lambda: admin.post(f"/admin/orders/order/{order.pk}/change/", data))
    assert validated.wait(timeout=10)

    customer = in_a_thread(lambda: Client().post(f"/orders/{order.pk}/confirm/").status_code)
    wait_while_it_runs_or_waits_for_a_lock(customer)
    go_on.set()
    saving.join(timeout=20)
    customer.join(timeout=20)

    assert "error" not in saving.outcome and "error" not in customer.outcome
    assert saving.outcome["result"].status_code == 302
    assert customer.outcome["result"] == 200
    assert Product.objects.get(pk=order.product_id).quantity == 7, "the saved quantity, 3"


def test_a_second_confirm_waits_for_the_first_and_then_finds_the_order_confirmed():
    """confirm() locks the order's row before it reads it: started while the first
    confirmation holds that lock, a second one waits, then reads confirmed=True and takes
    no stock. Read without the lock, it would see the committed confirmed=False and take
    the stock a second time (the eight-posts test above catches that only sometimes)."""
    order = Order.objects.create(product=make_product(stock=10), quantity=3)
    confirmed, go_on = threading.Event(), threading.Event()

    def confirm_and_hold():
        with transaction.atomic():
            taken = Order.objects.get(pk=order.pk).confirm()
            confirmed.set()
            assert go_on.wait(timeout=10)
        return taken

    first = in_a_thread(confirm_and_hold)
    assert confirmed.wait(timeout=10)
    second = in_a_thread(lambda: Order.objects.get(pk=order.pk).confirm())
    wait_while_it_runs_or_waits_for_a_lock(second)
    go_on.set()
    first.join(timeout=20)
    second.join(timeout=20)

    assert first.outcome == {"result": True}
    assert second.outcome == {"result": False}, "the second confirmation took the stock too"
    assert Product.objects.get(pk=order.product_id).quantity == 7


def test_a_stale_save_while_a_confirmation_commits_is_refused_not_written_over_it():
    """save() checks the stored flag under the row's lock: it waits for the confirmation
    to commit, then sees it, and refuses to write the stale confirmed=False."""
    order = Order.objects.create(product=make_product(stock=10), quantity=2)
    stale = Order.objects.get(pk=order.pk)
    confirmed, go_on = threading.Event(), threading.Event()

    def confirm_and_hold():
        with transaction.atomic():
            Order.objects.get(pk=order.pk).confirm()
            confirmed.set()
            assert go_on.wait(timeout=10)

    confirming = in_a_thread(confirm_and_hold)
    assert confirmed.wait(timeout=10)

    def save_the_stale_copy():
        stale.quantity = 5
        stale.save()

    saving = in_a_thread(save_the_stale_copy)
    wait_while_it_runs_or_waits_for_a_lock(saving)
    go_on.set()
    confirming.join(timeout=20)
    saving.join(timeout=20)

    assert "error" not in confirming.outcome
    assert isinstance(saving.outcome.get("error"), ValueError)
    stored = Order.objects.get(pk=order.pk)
    assert (stored.confirmed, stored.quantity) == (True, 2)
    assert Product.objects.get(pk=order.product_id).quantity == 8


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
