"""The tracer records what is sent, in order, and leaves Django as it found it."""

import pytest
from conftest import run_inside_step

STEP4_CONFIRMATION = """
from django.test import Client
from orders.models import Order
from products.models import Product
from django.test.utils import setup_test_environment
from tutorial.notebook import trace_signals

setup_test_environment()
mug = Product.objects.create(name="Mug", description="", price=14, quantity=3)
order = Order.objects.create(product=mug, quantity=2)
with trace_signals() as trace:
    Client().post(f"/orders/{order.pk}/confirm/")
result = [
    [event.signal, event.sender, event.depth, [[c.receiver, c.outcome] for c in event.calls]]
    for event in trace.events
]
"""


def test_a_step_4_confirmation_is_recorded_in_order():
    events = run_inside_step(4, STEP4_CONFIRMATION, from_migrated_copy=True)

    assert events == [
        [
            "django.core.signals.request_started",
            "ClientHandler",
            0,
            [
                ["django.db.reset_queries", "returned"],
                ["request_log.signals.note_request_start", "returned"],
            ],
        ],
        [
            "django.db.models.signals.pre_save",
            "Order",
            0,
            [["products.signals.note_order_confirmation", "returned"]],
        ],
        [
            "django.db.models.signals.post_save",
            "Order",
            0,
            [["products.signals.update_quantity_on_order_confirmation", "returned"]],
        ],
        [
            "django.core.signals.request_finished",
            "None",
            0,
            [
                ["django.core.cache.close_caches", "returned"],
                ["request_log.signals.log_request_duration", "returned"],
                ["django.core.handlers.base.reset_urlconf", "returned"],
            ],
        ],
    ]


BEHAVIOUR = """
import asyncio
from django.dispatch import Signal
from tutorial.in_step.tracer import PATCHED
from tutorial.notebook import trace_signals

original = {name: Signal.__dict__[name] for name in PATCHED}
signal = Signal()
def fine(sender, **kwargs): return "fine"
def broken(sender, **kwargs): raise ValueError("broken")
signal.connect(fine)
signal.connect(broken)
result = {}

try:
    with trace_signals():
        raise KeyError("the body failed")
except KeyError:
    pass
result["restored_after_error"] = all(Signal.__dict__[n] is f for n, f in original.items())

with trace_signals() as trace:
    try:
        signal.send(sender=None, number=1)
    except ValueError as error:
        result["send_still_raises"] = str(error)
    responses = signal.send_robust(sender=None, number=2)
result["robust_receivers_are_the_originals"] = [r is fine or r is broken for r, _ in responses]
calls = [call for event in trace.events for call in event.calls]
result["calls"] = [[c.receiver.rsplit(".", 1)[1], c.outcome, c.value] for c in calls]
result["methods"] = [e.method for e in trace.events]

try:
    with trace_signals(), trace_signals():
        pass
except RuntimeError as error:
    result["nesting"] = str(error)
result["restored_after_nesting"] = all(Signal.__dict__[n] is f for n, f in original.items())

async def coroutine_receiver(sender, **kwargs): return "async result"
signal.disconnect(broken)
signal.connect(coroutine_receiver)
with trace_signals() as trace:
    asyncio.run(signal.asend(sender=None))
result["async"] = [[e.method, sorted(c.value for c in e.calls)] for e in trace.events]
"""


@pytest.fixture(scope="module")
def behaviour():
    return run_inside_step(1, BEHAVIOUR, from_migrated_copy=True)


def test_signal_methods_are_restored_when_the_body_raises(behaviour):
    assert behaviour["restored_after_error"] is True


def test_senders_see_the_same_results_and_exceptions(behaviour):
    assert behaviour["send_still_raises"] == "broken"
    assert behaviour["robust_receivers_are_the_originals"] == [True, True]


def test_each_receivers_result_or_exception_is_recorded(behaviour):
    assert behaviour["methods"] == ["send", "send_robust"]
    assert behaviour["calls"] == [
        ["fine", "returned", "'fine'"],
        ["broken", "raised", "ValueError('broken')"],
        ["fine", "returned", "'fine'"],
        ["broken", "raised", "ValueError('broken')"],
    ]


def test_nesting_is_refused_and_still_restores(behaviour):
    assert "already recording" in behaviour["nesting"]
    assert behaviour["restored_after_nesting"] is True


def test_asend_is_recorded_with_sync_and_async_receivers(behaviour):
    assert behaviour["async"] == [["asend", ["'async result'", "'fine'"]]]


STEP2_SAVES = """
from orders.models import Order
from products.models import Product
from tutorial.notebook import trace_signals

with trace_signals() as saving:
    kettle = Product.objects.create(name="Kettle", description="", price=39, quantity=6)
with trace_signals() as bypassing:
    Product.objects.filter(pk=kettle.pk).update(quantity=5)
    Order.objects.bulk_create([Order(product=kettle, quantity=1, total_price=39)])
with trace_signals(ignore=()) as loading:
    Product.objects.get(pk=kettle.pk)
result = {
    "saving": [[e.signal, e.sender, e.arguments] for e in saving.events],
    "bypassing": str(bypassing),
    "loading": loading.signals,
}
"""


@pytest.fixture(scope="module")
def step2_saves():
    return run_inside_step(2, STEP2_SAVES, from_migrated_copy=True)


def test_a_save_sends_pre_save_and_post_save_with_no_receiver(step2_saves):
    common = {"raw": "False", "using": "'default'", "update_fields": "None"}

    assert step2_saves["saving"] == [
        [
            "django.db.models.signals.pre_save",
            "Product",
            {"instance": "<Product pk=None>", **common},
        ],
        [
            "django.db.models.signals.post_save",
            "Product",
            {"instance": "<Product pk=1>", "created": "True", **common},
        ],
    ]


def test_update_and_bulk_create_send_nothing(step2_saves):
    assert step2_saves["bypassing"] == "No signals were sent."


def test_ignore_chooses_what_is_left_out(step2_saves):
    assert step2_saves["loading"] == ["pre_init", "post_init"]


EDGES = """
import asyncio
import functools
from django.db import connection
from django.dispatch import Signal
from django.test.utils import CaptureQueriesContext
from orders.models import Order
from tutorial.notebook import trace_signals

outer, inner, quiet = Signal(), Signal(), Signal()

def logged(function):
    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        return function(*args, **kwargs)
    return wrapper

@logged
def decorated(sender, **kwargs):
    quiet.send(sender=None)
    return inner.send(sender=None) and "sent inner"

def on_inner(sender, **kwargs): return "inner seen"
def on_quiet(sender, **kwargs): return "quiet seen"
outer.connect(decorated)
inner.connect(on_inner)
quiet.connect(on_quiet)

result = {}
with trace_signals(ignore=["quiet"]) as trace:
    responses = outer.send_robust(sender=None)
    with CaptureQueriesContext(connection) as queries:
        inner.send(sender=None, orders=Order.objects.all())
result["decorated_receiver_returned_as_is"] = responses[0][0] is decorated
result["events"] = [
    [e.signal.rsplit(".", 1)[1], e.depth, [c.receiver.rsplit(".", 1)[1] for c in e.calls]]
    for e in trace.events
]
result["queryset"] = [trace.events[-1].arguments["orders"], len(queries)]
result["text"], result["html"] = str(trace), trace._repr_html_()

async def on_outer_async(sender, **kwargs): return "async seen"
outer.connect(on_outer_async)
with trace_signals(ignore=["quiet"]) as trace:
    asyncio.run(outer.asend_robust(sender=None))
result["async"] = [[e.method, e.depth] for e in trace.events]
"""


@pytest.fixture(scope="module")
def edges():
    return run_inside_step(2, EDGES, from_migrated_copy=True)


def test_senders_get_the_receiver_they_connected_even_when_decorated(edges):
    assert edges["decorated_receiver_returned_as_is"] is True


def test_nested_sends_are_indented_and_ignored_ones_add_no_calls(edges):
    assert edges["events"] == [
        ["outer", 0, ["decorated"]],
        ["inner", 1, ["on_inner"]],
        ["inner", 0, ["on_inner"]],
    ]


def test_text_and_html_show_the_nesting(edges):
    assert "\n2 │   __main__.inner" in edges["text"], "two spaces of indent after the │"
    assert "<code>&nbsp;&nbsp;__main__.inner</code>" in edges["html"]


def test_a_queryset_argument_is_shown_without_running_it(edges):
    assert edges["queryset"] == ["<QuerySet of Order>", 0]


def test_a_send_from_a_sync_receiver_under_asend_is_nested(edges):
    assert edges["async"] == [["asend_robust", 0], ["send", 1]]
