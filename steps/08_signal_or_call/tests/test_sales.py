"""The sales log: queued after the commit, recorded once, repaired by record_missing_sales."""

import io
from decimal import Decimal

import pytest
from conftest import new_product, project_console_handler, redis_down, stock_of
from django.contrib.auth.models import Group
from django.core.management import CommandError, call_command

from orders.models import Order
from orders.signals import order_confirmed
from products.models import Product
from sales.models import Sale
from sales.tasks import record_sale

pytestmark = pytest.mark.django_db


def record_missing_sales():
    output = io.StringIO()
    call_command("record_missing_sales", stdout=output)
    return output.getvalue()


def confirm(order, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        return order.confirm()


def test_a_confirmation_queues_the_sale_and_the_worker_records_it_once(
    make_order, enqueued, run_worker, django_capture_on_commit_callbacks
):
    order = make_order(stock=5, quantity=2)

    confirm(order, django_capture_on_commit_callbacks)
    confirm(order, django_capture_on_commit_callbacks)
    assert len(enqueued) == 1, "one announcement, one task"
    assert not Sale.objects.exists(), "recorded by the worker, not in the request"
    run_worker()

    sale = Sale.objects.get()
    assert (sale.order, sale.order_number, sale.product_name, sale.quantity) == (
        order,
        order.pk,
        "Ceramic mug",
        2,
    )
    assert record_sale.call(order.pk) is False, "running it again records nothing"
    assert Sale.objects.count() == 1


def test_a_sale_records_the_total_the_order_was_confirmed_at(
    make_order, run_worker, django_capture_on_commit_callbacks
):
    order = make_order(stock=5, quantity=2)  # 2 x 14.00, stored as 28.00
    Product.objects.filter(pk=order.product.pk).update(price=Decimal("20.00"))
    order = Order.objects.select_related("product").get(pk=order.pk)  # as the view loads it

    confirm(order, django_capture_on_commit_callbacks)
    run_worker()

    assert Order.objects.get(pk=order.pk).total_price == Decimal("28.00")
    assert Sale.objects.get().total_price == Decimal("28.00")


def test_a_sale_outlives_the_deleted_product_and_its_orders(
    make_order, run_worker, django_capture_on_commit_callbacks
):
    order = make_order(stock=5, quantity=2)
    confirm(order, django_capture_on_commit_callbacks)
    run_worker()

    order.product.delete()

    assert not Order.objects.exists()
    sale = Sale.objects.get()
    assert (sale.order, sale.order_number, sale.product_name) == (None, order.pk, "Ceramic mug")


def test_an_order_that_reuses_a_deleted_order_s_number_gets_its_own_sale(
    run_worker, django_capture_on_commit_callbacks
):
    """Fixtures give orders their numbers, and SQLite reuses the highest after a delete."""
    mug = new_product(stock=10)
    for _ in range(2):
        order = Order.objects.create(pk=900, product=mug, quantity=1)
        confirm(order, django_capture_on_commit_callbacks)
        run_worker()
        order.delete()

    assert list(Sale.objects.values_list("order_number", flat=True)) == [900, 900]


def test_record_missing_sales_names_orders_without_a_total_and_records_the_others(make_order):
    no_total, good = make_order(stock=5, quantity=1), make_order(stock=5, quantity=2)
    for order in (no_total, good):
        order.confirm()
    Order.objects.filter(pk=no_total.pk).update(total_price=None)  # as update() can

    with pytest.raises(CommandError, match=f"order\\(s\\) {no_total.pk}"):
        record_missing_sales()

    assert list(Sale.objects.values_list("order", flat=True)) == [good.pk]


def test_record_missing_sales_records_what_no_task_did_once(run_worker):
    call_command("loaddata", "demo", verbosity=0)  # order 1 is confirmed, with no sale

    first, second = record_missing_sales(), record_missing_sales()

    assert first == "Recorded the sale of 1 order(s).\n"
    assert second == "Recorded the sale of 0 order(s).\n"
    assert list(Sale.objects.values_list("order_number", flat=True)) == [1]


@pytest.mark.django_db(transaction=True)
def test_with_the_queue_down_the_error_reaches_the_console_and_the_sweep_records_the_sale(
    client, make_order, monkeypatch
):
    """Committed for real, with DEBUG off as in production (pytest-django's default)."""
    order = make_order(stock=5, quantity=2)
    console = io.StringIO()
    monkeypatch.setattr(project_console_handler("django.dispatch"), "stream", console)

    with redis_down:
        response = client.post(f"/orders/{order.pk}/confirm/")

    assert response.status_code == 200
    assert stock_of(order) == 3
    errors = [line for line in console.getvalue().splitlines() if line.startswith("[ERROR]")]
    assert len(errors) == 1 and "queue_sale" in errors[0]
    assert "Traceback (most recent call last)" in console.getvalue()
    assert not Sale.objects.exists()
    assert record_missing_sales() == "Recorded the sale of 1 order(s).\n"
    assert record_missing_sales() == "Recorded the sale of 0 order(s).\n"


def test_a_failing_listener_is_logged_and_the_other_listeners_still_run(
    client, make_order, caplog, enqueued, django_capture_on_commit_callbacks
):
    order = make_order(stock=5, quantity=2)

    def broken_listener(sender, order, **kwargs):
        raise RuntimeError("the loyalty service is down")

    order_confirmed.connect(broken_listener, sender=Order)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(f"/orders/{order.pk}/confirm/")
    finally:
        order_confirmed.disconnect(broken_listener, sender=Order)

    assert response.status_code == 200
    assert stock_of(order) == 3
    assert len(enqueued) == 1, "the sales log's listener still ran"
    [logged] = [record for record in caplog.records if record.levelname == "ERROR"]
    assert "the loyalty service is down" in logged.getMessage(), "log the listener's error"


def test_the_sales_log_is_read_only_in_the_admin(admin_client, make_order, run_worker):
    order = make_order(stock=5, quantity=2)
    order.confirm()
    record_missing_sales()
    sale = Sale.objects.get()

    listing = admin_client.get("/admin/sales/sale/")
    delete_page = admin_client.get(f"/admin/sales/sale/{sale.pk}/delete/")
    bulk_delete = admin_client.post(
        "/admin/sales/sale/", {"action": "delete_selected", "_selected_action": [sale.pk]}
    )

    assert listing.status_code == 200 and str(order.pk) in listing.text
    assert "delete_selected" not in listing.text
    assert delete_page.status_code == 403
    assert bulk_delete.status_code in (200, 302)
    assert Sale.objects.count() == 1


def test_the_admin_lets_nobody_add_or_change_a_sale(admin_client, make_order):
    order = make_order(stock=5, quantity=2)
    order.confirm()
    record_missing_sales()
    sale = Sale.objects.get()
    fields = {"order_number": 99, "product_name": "Mug", "quantity": 9, "total_price": "1.00"}

    added = admin_client.post("/admin/sales/sale/add/", fields)
    changed = admin_client.post(f"/admin/sales/sale/{sale.pk}/change/", fields)

    assert (added.status_code, changed.status_code) == (403, 403)
    assert list(Sale.objects.values_list("order_number", "quantity")) == [(order.pk, 2)]


def test_shop_staff_get_no_permission_on_the_sales_log():
    """A decision: the log is for whoever keeps the books, the superusers here."""
    staff = Group.objects.get(name="Shop staff")

    assert not staff.permissions.filter(content_type__app_label="sales").exists()


@pytest.mark.course_only
def test_deleting_orders_clears_their_sales_link_at_the_cost_of_two_queries(
    make_order, django_assert_num_queries, django_capture_on_commit_callbacks
):
    """SET_NULL: SELECT the orders, UPDATE their sales, DELETE them. A foreign key with
    on_delete=DO_NOTHING, db_constraint=False would keep the one DELETE, and leave each
    sale pointing at an id that the next order may get."""
    order = make_order(stock=5, quantity=2)
    order.confirm()
    record_missing_sales()

    with django_assert_num_queries(3):
        Order.objects.filter(pk=order.pk).delete()

    assert Sale.objects.get().order is None


@pytest.mark.django_db(transaction=True)
def test_outside_a_transaction_the_listeners_run_before_confirm_returns(make_order):
    """on_commit callbacks run in the thread that commits, inside confirm()'s atomic():
    a slow listener is time the customer waits for. The sales log only queues a task."""
    order = make_order(stock=5, quantity=2)
    happened = []

    def listener(sender, order, **kwargs):
        happened.append("listener ran")

    order_confirmed.connect(listener, sender=Order)
    try:
        order.confirm()
        happened.append("confirm() returned")
    finally:
        order_confirmed.disconnect(listener, sender=Order)

    assert happened == ["listener ran", "confirm() returned"]
