"""The measurements that run inside one step's interpreter (see tutorial/bench/command.py)."""

import contextlib
import statistics
import time
import timeit
from decimal import Decimal

from django.db import connection, reset_queries
from django.dispatch import Signal
from django.test import Client
from django.test.utils import CaptureQueriesContext, setup_test_environment

TRANSACTION_CONTROL = ("BEGIN", "COMMIT", "SAVEPOINT", "RELEASE SAVEPOINT", "ROLLBACK")


def make_order(stock, quantity=1, name="Bench mug"):
    from orders.models import Order
    from products.models import Product

    product = Product.objects.create(
        name=name, description="", price=Decimal("14.00"), quantity=stock
    )
    return Order.objects.create(product=product, quantity=quantity)


def test_environment():
    """The test client's host name and in-memory mail, once per interpreter (a batch may ask
    for it more than once)."""
    with contextlib.suppress(RuntimeError):  # "setup_test_environment() was already called"
        setup_test_environment()


def count_confirmation_queries():
    """Statements for one successful POST /orders/<id>/confirm/, with and without BEGIN/COMMIT."""
    test_environment()
    order = make_order(stock=5, quantity=2)
    # With DEBUG on, the measurements before this one in the batch may have filled the
    # connection's query log (9,000 entries): then the capture would see no new query.
    reset_queries()
    with CaptureQueriesContext(connection) as captured:
        status = Client().post(f"/orders/{order.pk}/confirm/").status_code
    statements = [query["sql"] for query in captured.captured_queries]
    work = [sql for sql in statements if not sql.upper().startswith(TRANSACTION_CONTROL)]
    return {"status": status, "all": len(statements), "work": len(work)}


def articles_receiver(sender, **kwargs):
    """The article's receiver, reading the order from the keyword argument."""
    order = kwargs["order"]
    product = order.product
    product.quantity -= order.quantity
    product.save()


def count_article_queries():
    """Step 3 with the article's read-modify-write receiver in place of ours."""
    from orders.models import Order
    from orders.signals import order_confirmed

    ours_removed = order_confirmed.disconnect(
        sender=Order, dispatch_uid="update_quantity_on_order_confirmation"
    )
    assert ours_removed, "the step's own receiver must not run beside the article's"
    order_confirmed.connect(articles_receiver, dispatch_uid="articles_receiver")
    return count_confirmation_queries()


def median_seconds(function, repetitions, rounds=7):
    timings = timeit.repeat(function, number=repetitions, repeat=rounds)
    return statistics.median(timings) / repetitions


def signal_versus_direct_call(repetitions, rounds):
    """A confirmation's stock update through order_confirmed.send() and as a plain call.

    The two alternate call by call, so that whatever else slows the machine down slows
    both alike, and each round runs in one transaction, so that no disk flush lands in
    one and not the other. Each round gives one ratio; the median ratio is reported with
    the spread of the others.
    """
    from django.db import transaction

    from orders.models import Order
    from orders.signals import order_confirmed
    from products.signals import update_quantity_on_order_confirmation

    order = make_order(stock=10**9)
    calls = [
        lambda: order_confirmed.send(sender=Order, order=order),
        lambda: update_quantity_on_order_confirmation(sender=Order, order=order),
    ]
    for call in calls:  # warm up: the first calls compile queries and fill caches
        call()
    signal_times, direct_times = [], []
    for _round in range(rounds):
        totals = [0, 0]
        with transaction.atomic():
            for repetition in range(repetitions):
                # Alternate which goes first, too.
                for which in (0, 1) if repetition % 2 == 0 else (1, 0):
                    started = time.perf_counter_ns()
                    calls[which]()
                    totals[which] += time.perf_counter_ns() - started
        signal_times.append(totals[0] / repetitions / 1e9)
        direct_times.append(totals[1] / repetitions / 1e9)
    ratios = sorted(s / d for s, d in zip(signal_times, direct_times, strict=True))
    return {
        "signal": statistics.median(signal_times),
        "direct": statistics.median(direct_times),
        "ratio": statistics.median(ratios),
        "ratio_low": ratios[len(ratios) // 4],
        "ratio_high": ratios[-(len(ratios) // 4) - 1],
    }


def comment_post_queries():
    """Statements for one valid comment POST, the work after its commit included."""
    from django.contrib.auth import get_user_model

    from blog.models import Blog

    test_environment()
    author = get_user_model().objects.create_user("bench-writer", email="writer@example.com")
    blog = Blog.objects.create(title="Bench", body="", author=author)
    comment = {"name": "Ada", "email": "ada@example.com", "body": "Counted."}
    with CaptureQueriesContext(connection) as captured:
        status = Client().post(f"/blog/{blog.pk}/", comment).status_code
    statements = [query["sql"] for query in captured.captured_queries]
    work = [sql for sql in statements if not sql.upper().startswith(TRANSACTION_CONTROL)]
    return {"status": status, "all": len(statements), "work": len(work)}


def enqueue_queries():
    """Statements that notify_author.enqueue() itself issues (step 06)."""
    from blog.tasks import notify_author

    with CaptureQueriesContext(connection) as captured:
        notify_author.enqueue(1)
    return {"all": len(captured.captured_queries)}


def prepare_blog():
    """A post by an author with an email address, for the comment benchmark."""
    from django.contrib.auth import get_user_model

    from blog.models import Blog

    author = get_user_model().objects.create_user("bench-writer", email="writer@example.com")
    return {"blog": Blog.objects.create(title="Bench", body="", author=author).pk}


def send_cost(repetitions):
    """Signal.send() with 0, 1 and 10 do-nothing receivers, next to a plain call."""

    def do_nothing(sender, **kwargs):
        return None

    results = {"plain call": median_seconds(lambda: do_nothing(None, order=1), repetitions)}
    for count in (0, 1, 10):
        signal = Signal()
        receivers = [lambda sender, **kwargs: None for _ in range(count)]
        for receiver in receivers:
            signal.connect(receiver)
        label = f"send(), {count} receiver" + ("" if count == 1 else "s")
        results[label] = median_seconds(
            lambda signal=signal: signal.send(sender=None, order=1), repetitions
        )
    return results


def prepare_load(batches, orders_per_batch, stock):
    """One product per batch, with ``orders_per_batch`` orders of 1 item each."""
    from orders.models import Order

    prepared = []
    for batch in range(batches):
        first = make_order(stock=stock, name=f"Load product {batch}")
        others = [Order(product=first.product, quantity=1) for _ in range(orders_per_batch - 1)]
        for order in others:
            order.save()
        prepared.append(
            {"product": first.product.pk, "orders": [first.pk, *[o.pk for o in others]]}
        )
    return prepared


def stock_of(product_ids):
    from products.models import Product

    return dict(Product.objects.filter(pk__in=product_ids).values_list("pk", "quantity"))


# The delete receivers that step 07 connects to Product: (signal name, dispatch_uid).
SHOP_DELETE_RECEIVERS = [
    ("pre_delete", "untag_deleted_product"),
    ("post_delete", "delete_image_file"),
]
DELETE_SETUPS = NO_RECEIVER, ORDER_RECEIVER, SHOP_RECEIVERS = (
    "none",
    "a no-op post_delete on Order",
    "step 07's own, on Product",
)


def delete_cost(sizes, repetitions):
    """Queries and median seconds to delete N products, each with two orders and a tag,
    with no delete receiver connected, with one on Order, and with step 07's own."""
    from django.db import transaction
    from django.test.utils import override_settings

    from products.models import Product

    results = []
    for size in sizes:
        product_ids = create_products_to_delete(size)
        timings = {setup: [] for setup in DELETE_SETUPS}
        queries = {}
        # DEBUG off: Django's query log would add its own cost to every query.
        with override_settings(DEBUG=False):
            for _repetition in range(repetitions(size)):
                for setup in DELETE_SETUPS:  # interleaved, so that drift hits each alike
                    with delete_receivers(setup), counting_queries() as counted:
                        with transaction.atomic():
                            started = time.perf_counter()
                            Product.objects.filter(pk__in=product_ids).delete()
                            timings[setup].append(time.perf_counter() - started)
                            transaction.set_rollback(True)  # the next run deletes them again
                    queries[setup] = counted[0]
        results.append(
            {
                "size": size,
                "rows": [
                    {
                        "receivers": setup,
                        "queries": queries[setup],
                        "seconds": statistics.median(timings[setup]),
                    }
                    for setup in DELETE_SETUPS
                ],
            }
        )
    return results


def create_products_to_delete(size):
    from orders.models import Order
    from products.models import Product, Tag

    tag = Tag.objects.create(name=f"bench {size}")
    products = Product.objects.bulk_create(
        Product(name=f"Bench {number}", description="", price=Decimal("1.00"), quantity=9)
        for number in range(size)
    )
    Order.objects.bulk_create(
        Order(product=product, quantity=1, total_price=Decimal("1.00"))
        for product in products
        for _order in range(2)
    )
    Product.tags.through.objects.bulk_create(
        Product.tags.through(product=product, tag=tag) for product in products
    )
    return [product.pk for product in products]


@contextlib.contextmanager
def delete_receivers(setup):
    from django.db.models import signals

    from orders.models import Order
    from products import signals as shop_receivers
    from products.models import Product

    def ignore_order_delete(sender, **kwargs):
        pass

    shop = [(getattr(signals, name), uid) for name, uid in SHOP_DELETE_RECEIVERS]
    if setup != SHOP_RECEIVERS:
        for signal, uid in shop:
            signal.disconnect(sender=Product, dispatch_uid=uid)
    if setup == ORDER_RECEIVER:
        signals.post_delete.connect(ignore_order_delete, sender=Order)
    try:
        yield
    finally:
        signals.post_delete.disconnect(ignore_order_delete, sender=Order)
        for signal, uid in shop:
            receiver = getattr(shop_receivers, uid)
            signal.connect(receiver, sender=Product, dispatch_uid=uid)


@contextlib.contextmanager
def counting_queries():
    """Count the statements sent to the database, BEGIN and COMMIT aside: [count]."""
    counted = [0]

    def count(execute, sql, params, many, context):
        if not sql.upper().startswith(TRANSACTION_CONTROL):
            counted[0] += 1
        return execute(sql, params, many, context)

    with connection.execute_wrapper(count):
        yield counted


def confirmation_seconds(repetitions, without_listeners=False):
    """Median seconds of one successful POST /orders/<id>/confirm/, through the test
    client, each for an order of its own; DEBUG off, as the query log would add to it.

    without_listeners: step 08 with nothing listening to order_confirmed.
    """
    from django.test.utils import override_settings

    test_environment()
    if without_listeners:
        from orders.models import Order
        from orders.signals import order_confirmed

        assert order_confirmed.disconnect(sender=Order, dispatch_uid="queue_sale")
    orders = [make_order(stock=1) for _ in range(repetitions)]
    client, timings = Client(), []
    with override_settings(DEBUG=False):
        for order in orders:
            started = time.perf_counter()
            status = client.post(f"/orders/{order.pk}/confirm/").status_code
            timings.append(time.perf_counter() - started)
            assert status == 200, f"confirming order {order.pk} answered {status}"
    return {"median": statistics.median(timings)}


def project_receivers():
    """The receivers the project itself connects (not Django's or a package's), by signal."""
    from tutorial.in_step.inspector import receivers_table
    from tutorial.in_step.naming import project_root

    folders = {path.name for path in project_root().iterdir() if path.is_dir()}
    return sorted(
        f"{row.signal.rsplit('.', 1)[-1]}: {row.receiver}"
        for row in receivers_table()
        if row.location.split("/", 1)[0] in folders
    )


MEASUREMENTS = {
    "queries": lambda options: count_confirmation_queries(),
    "article_queries": lambda options: count_article_queries(),
    "signal_vs_direct": lambda options: signal_versus_direct_call(**options),
    "comment_queries": lambda options: comment_post_queries(),
    "enqueue_queries": lambda options: enqueue_queries(),
    "prepare_blog": lambda options: prepare_blog(),
    "send_cost": lambda options: send_cost(options["repetitions"]),
    "prepare_load": lambda options: prepare_load(**options),
    "delete_cost": lambda options: delete_cost(
        options["sizes"], lambda size: options["repetitions"].get(str(size), 1)
    ),
    "confirmation_seconds": lambda options: confirmation_seconds(**options),
    "project_receivers": lambda options: project_receivers(),
    "stock": lambda options: {str(k): v for k, v in stock_of(options["products"]).items()},
}
