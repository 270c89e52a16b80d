"""The scripted tours: ``python -m tutorial tour N`` runs step N's story and prints the trace.

Each tour runs inside its step's interpreter on a scratch database (tutorial.in_step).
"""

import sys
import textwrap

from django.test import Client
from django.test.utils import setup_test_environment

from tutorial.in_step.tables import table_width
from tutorial.in_step.tracer import NOISY_SIGNALS, trace_signals


def say(text):
    """Print a line of the tour, wrapped to the width the tables use."""
    blank_lines, text = len(text) - len(text.lstrip("\n")), text.lstrip("\n")
    print("\n" * blank_lines + textwrap.fill(text, width=table_width(sys.stdout.isatty())))


def heading(text):
    say(f"\n== {text} ==")


def show(trace):
    print(trace)


def tour_1():
    from django.dispatch import Signal

    heading("A signal of our own, with two receivers")
    order_placed = Signal()

    def thank_customer(sender, **kwargs):
        return "thank-you email queued"

    def refuse_everything(sender, **kwargs):
        raise ValueError("no orders today")

    order_placed.connect(thank_customer)
    order_placed.connect(refuse_everything)
    with trace_signals() as trace:
        responses = order_placed.send_robust(sender=None, order_id=7)
    show(trace)
    say(f"send_robust() returned the error instead of raising it: {responses[1][1]}")


def tour_2():
    from orders.models import Order
    from products.models import Product

    heading("Saving models sends pre_save and post_save, listened to or not")
    with trace_signals() as trace:
        mug = Product.objects.create(name="Mug", description="", price=14, quantity=3)
        Order.objects.create(product=mug, quantity=2)
    show(trace)
    heading("QuerySet.update() sends nothing")
    with trace_signals() as trace:
        Order.objects.update(confirmed=True)
    show(trace)


def confirm_and_show(order, title):
    from products.models import Product

    heading(title)
    with trace_signals() as trace:
        response = Client().post(f"/orders/{order.pk}/confirm/")
    show(trace)
    say(f"\nHTTP {response.status_code}: {response.content.decode()}")
    say(f"Stock of {order.product.name} now: {Product.objects.get(pk=order.product_id).quantity}")


def shop_tour(step_name):
    from orders.models import Order
    from products.models import Product

    mug = Product.objects.create(name="Ceramic mug", description="", price=14, quantity=3)
    first = Order.objects.create(product=mug, quantity=2)
    second = Order.objects.create(product=mug, quantity=2)
    say(f"{step_name}: 3 mugs in stock, orders #{first.pk} and #{second.pk} for 2 each.")
    confirm_and_show(first, f"POST /orders/{first.pk}/confirm/: enough stock")
    confirm_and_show(second, f"POST /orders/{second.pk}/confirm/: only 1 mug left")
    return mug


def tour_3():
    shop_tour("Step 3 sends its own order_confirmed")


def tour_4():
    shop_tour("Step 4 listens to pre_save and post_save")


def tour_5():
    from django.contrib.auth import get_user_model
    from django.core import mail
    from django.db import transaction

    from blog.models import Blog, Comment

    heading("A new user gets a customer profile")
    with trace_signals() as trace:
        author = get_user_model().objects.create_user("writer", email="writer@example.com")
    show(trace)
    say(f"\nProfile: {author.customer}")

    heading("A comment emails the author, after the commit")
    blog = Blog.objects.create(title="Brewing", body="Pour slowly.", author=author)
    with trace_signals() as trace, transaction.atomic():
        Comment.objects.create(blog=blog, name="Ada", email="ada@example.com", body="Nice!")
        say(f"Inside the transaction: {len(mail.outbox)} email(s) sent")
    show(trace)
    say(f"After the commit: {len(mail.outbox)} email(s), subject {mail.outbox[0].subject!r}")

    heading("A comment whose transaction rolls back sends nothing")
    try:
        with transaction.atomic():
            Comment.objects.create(blog=blog, name="Bo", email="bo@example.com", body="Hm")
            raise RuntimeError("the request failed after the save")
    except RuntimeError:
        pass
    say(f"Still {len(mail.outbox)} email(s) in the outbox.")


def tour_6():
    from django.contrib.auth import get_user_model
    from django.core import mail
    from django.core.management import call_command
    from django.db import transaction

    from blog.models import Blog, Comment

    author = get_user_model().objects.create_user("writer", email="writer@example.com")
    blog = Blog.objects.create(title="Brewing", body="Pour slowly.", author=author)

    heading("A comment enqueues a task after the commit; nothing is sent yet")
    with trace_signals() as trace, transaction.atomic():
        Comment.objects.create(blog=blog, name="Ada", email="ada@example.com", body="Nice!")
    show(trace)
    say(f"\nAfter the commit: {len(mail.outbox)} email(s) sent; the task waits for a worker.")

    heading("A worker runs it: task_started, the email, task_finished")
    with trace_signals() as trace:
        call_command("db_worker", batch=True, startup_delay=False, reload=False, verbosity=0)
    show(trace)
    say(f"\nNow {len(mail.outbox)} email(s), subject {mail.outbox[0].subject!r}")


def tour_7():
    from django.contrib.auth import get_user_model

    from accounts.models import LoginEvent
    from orders.models import Order
    from products.models import Product, Tag

    mug = Product.objects.create(name="Ceramic mug", description="", price=14, quantity=3)
    gifts, sale = Tag.objects.create(name="gifts"), Tag.objects.create(name="sale")

    heading("Tags added, then set: m2m_changed, sent by the through model")
    with trace_signals() as trace:
        mug.tags.add(gifts, sale)
        mug.tags.set([sale])
    show(trace)
    counts = ", ".join(f"{tag.name}: {tag.product_count}" for tag in Tag.objects.all())
    say(f"\nProducts per tag: {counts}")

    heading("A product deleted: its tags cleared, its orders cascade")
    Order.objects.create(product=mug, quantity=1)
    with trace_signals() as trace:
        mug.delete()
    show(trace)
    say("The orders went in one DELETE, with no signal: nothing listens to their deletes.")

    heading("A failed login, then a good one: the auth signals")
    get_user_model().objects.create_user("ada", password="a long pass phrase")
    client = Client()
    # The requests' other signals (their start and end, the saves, each template) are
    # left out of this trace.
    quiet = (*NOISY_SIGNALS, "request_started", "request_finished", "pre_save", "post_save")
    quiet += ("template_rendered",)
    with trace_signals(ignore=quiet) as trace:
        client.post("/login/", {"username": "ada", "password": "guess"})
        client.post("/login/", {"username": "ada", "password": "a long pass phrase"})
    show(trace)
    events = ", ".join(str(event) for event in LoginEvent.objects.order_by("pk"))
    say(f"\nAudit log: {events}")


def tour_8():
    from django.core.management import call_command

    from orders.models import Order
    from orders.signals import order_confirmed
    from sales.models import Sale

    mug = shop_tour("Step 8 calls Order.confirm(), which sends order_confirmed after the commit")
    say(f"\nSales log, before a worker ran: {Sale.objects.count()} sale(s)")
    call_command("db_worker", batch=True, startup_delay=False, reload=False, verbosity=0)
    say(f"Sales log: {', '.join(str(sale) for sale in Sale.objects.all())}")

    def broken_listener(sender, order, **kwargs):
        raise RuntimeError("the loyalty service is down")

    third = Order.objects.create(product=mug, quantity=1)
    order_confirmed.connect(broken_listener, sender=Order)
    try:
        title = f"POST /orders/{third.pk}/confirm/, a listener fails: the confirmation stands"
        confirm_and_show(third, title)
    finally:
        order_confirmed.disconnect(broken_listener, sender=Order)


TOURS = {1: tour_1, 2: tour_2, 3: tour_3, 4: tour_4, 5: tour_5, 6: tour_6, 7: tour_7, 8: tour_8}


def run_tour(number):
    setup_test_environment()  # the test client's host name, and email kept in memory
    TOURS[number]()
