"""The tracer records what is sent, in order, and leaves Django as it found it."""

import pytest
from conftest import run_inside_step

STEP4_CONFIRMATION = """
from django.test import Client
from orders.models import Order
from products.models import Product
from django.test.utils import setup_test_environment
from tutorial.tracer import trace_signals

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
    events = run_inside_step(4, STEP4_CONFIRMATION)

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
from tutorial.tracer import PATCHED, trace_signals

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
    return run_inside_step(1, BEHAVIOUR)


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
