"""Record every signal sent inside a ``with trace_signals() as trace:`` block.

The four send methods and ``_live_receivers`` are replaced on the Signal class while
the block runs, and put back on the way out, even when the block raises. Senders see
the same return values and exceptions as without the tracer.
"""

import functools
import inspect
import threading
from dataclasses import dataclass, field

from django.dispatch import Signal

from tutorial.naming import all_signals, callable_name, sender_name, short_repr, signal_name
from tutorial.tables import html_table, text_table

SEND_METHODS = ["send", "send_robust", "asend", "asend_robust"]
PATCHED = [*SEND_METHODS, "_live_receivers"]
# Sent for every model instance Django builds; pass ignore=() to see them.
NOISY_SIGNALS = ("pre_init", "post_init")


@dataclass
class ReceiverCall:
    receiver: str
    outcome: str  # "returned" or "raised"
    value: str


@dataclass
class SignalEvent:
    signal: str
    method: str
    sender: str
    arguments: dict
    depth: int
    calls: list = field(default_factory=list)


class Trace:
    """What was sent, in order, with each receiver's result."""

    def __init__(self, ignore=NOISY_SIGNALS):
        self.ignore = tuple(ignore)
        self.events = []
        self._names = all_signals()
        self._lock = threading.Lock()
        self._active = threading.local()

    @property
    def signals(self):
        return [event.signal.rsplit(".", 1)[-1] for event in self.events]

    def _stack(self):
        if not hasattr(self._active, "stack"):
            self._active.stack = []
        return self._active.stack

    def _rows(self):
        rows = []
        for number, event in enumerate(self.events, 1):
            indent = "  " * event.depth
            arguments = ", ".join(f"{key}={value}" for key, value in event.arguments.items())
            rows.append([f"{number}", f"{indent}{event.signal}", event.sender, arguments, ""])
            rows += [
                ["", "", "", f"{indent}→ {call.receiver}", f"{call.outcome} {call.value}"]
                for call in event.calls
            ]
        return rows

    def __str__(self):
        if not self.events:
            return "No signals were sent."
        return text_table(["#", "signal", "sender", "arguments / receiver", "result"], self._rows())

    __repr__ = __str__

    def _repr_html_(self):
        if not self.events:
            return "<p>No signals were sent.</p>"
        return html_table(["#", "signal", "sender", "arguments / receiver", "result"], self._rows())


_active_trace = None


def trace_signals(ignore=NOISY_SIGNALS):
    """Context manager: ``with trace_signals() as trace: ...`` then ``print(trace)``.

    Signals whose short name is in ``ignore`` are sent as usual but not recorded.
    """
    return _Tracing(ignore)


class _Tracing:
    def __init__(self, ignore):
        self.ignore = ignore

    def __enter__(self):
        global _active_trace
        if _active_trace is not None:
            raise RuntimeError("trace_signals() is already recording; nest nothing inside it.")
        self.trace = Trace()
        self.originals = {
            name: getattr(Signal, name) for name in [*SEND_METHODS, "_live_receivers"]
        }
        for name in SEND_METHODS:
            setattr(Signal, name, _recording(name, self.originals[name], self.trace))
        Signal._live_receivers = _wrapping_live_receivers(
            self.originals["_live_receivers"], self.trace
        )
        _active_trace = self.trace
        return self.trace

    def __exit__(self, *exc_info):
        global _active_trace
        for name, original in self.originals.items():
            setattr(Signal, name, original)
        _active_trace = None
        return False


def _is_recorded(trace, signal):
    return signal_name(signal, trace._names).rsplit(".", 1)[-1] not in trace.ignore


def _start_event(trace, signal, method, sender, named):
    stack = trace._stack()
    event = SignalEvent(
        signal=signal_name(signal, trace._names),
        method=method,
        sender="None" if sender is None else sender_name(sender),
        arguments={key: short_repr(value) for key, value in named.items()},
        depth=len(stack),
    )
    with trace._lock:
        trace.events.append(event)
    stack.append(event)
    return event


def _unwrap_responses(responses):
    return [(getattr(receiver, "__wrapped__", receiver), value) for receiver, value in responses]


def _recording(method, original, trace):
    if inspect.iscoroutinefunction(original):

        @functools.wraps(original)
        async def record_async(signal, sender, **named):
            if not _is_recorded(trace, signal):
                return await original(signal, sender, **named)
            _start_event(trace, signal, method, sender, named)
            try:
                return _unwrap_responses(await original(signal, sender, **named))
            finally:
                trace._stack().pop()

        return record_async

    @functools.wraps(original)
    def record(signal, sender, **named):
        if not _is_recorded(trace, signal):
            return original(signal, sender, **named)
        _start_event(trace, signal, method, sender, named)
        try:
            return _unwrap_responses(original(signal, sender, **named))
        finally:
            trace._stack().pop()

    return record


def _wrapping_live_receivers(original, trace):
    @functools.wraps(original)
    def live_receivers(signal, sender):
        sync_receivers, async_receivers = original(signal, sender)
        stack = trace._stack()
        if not stack:
            return sync_receivers, async_receivers
        event = stack[-1]
        return (
            [_watch(receiver, event) for receiver in sync_receivers],
            [_watch_async(receiver, event) for receiver in async_receivers],
        )

    return live_receivers


def _note(event, receiver, outcome, value):
    event.calls.append(ReceiverCall(callable_name(receiver), outcome, short_repr(value)))


def _watch(receiver, event):
    @functools.wraps(receiver)
    def watched(*args, **kwargs):
        try:
            value = receiver(*args, **kwargs)
        except Exception as error:
            _note(event, receiver, "raised", error)
            raise
        _note(event, receiver, "returned", value)
        return value

    return watched


def _watch_async(receiver, event):
    @functools.wraps(receiver)
    async def watched(*args, **kwargs):
        try:
            value = await receiver(*args, **kwargs)
        except Exception as error:
            _note(event, receiver, "raised", error)
            raise
        _note(event, receiver, "returned", value)
        return value

    return watched
