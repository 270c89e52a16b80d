"""Record every signal sent inside a ``with trace_signals() as trace:`` block.

The four send methods and the method they all use to find their receivers are
replaced on the Signal class while the block runs, and put back on the way out, even
when the block raises. Each receiver is wrapped for one send only, to note what it
returned or raised; senders see the same return values and exceptions as without the
tracer.
"""

import contextlib
import contextvars
import functools
import inspect
import threading
import time
from dataclasses import dataclass, field

from django.dispatch import Signal

from tutorial.in_step.naming import (
    all_signals,
    callable_name,
    sender_name,
    short_repr,
    signal_name,
    source_location,
)
from tutorial.in_step.signals_compat import LIVE_RECEIVERS_METHOD
from tutorial.in_step.tables import html_table, text_table

SEND_METHODS = ["send", "send_robust", "asend", "asend_robust"]
PATCHED = [*SEND_METHODS, LIVE_RECEIVERS_METHOD]
# Sent for every model instance Django builds; pass ignore=() to see them.
NOISY_SIGNALS = ("pre_init", "post_init")
HEADERS = ["#", "signal", "sender", "arguments / receiver", "result"]
COLUMN_STYLES = ["dim", "cyan", None, None, "green"]

# The events being sent right now, innermost last. A context variable, not a thread
# local: asyncio tasks and sync_to_async threads each see their own sender's chain.
_sending = contextvars.ContextVar("tutorial_tracer_sending", default=())


@dataclass
class ReceiverCall:
    receiver: str
    outcome: str  # "returned" or "raised"
    value: str
    location: str = ""  # path:line of the receiver's definition
    milliseconds: float = 0.0


@dataclass
class SignalEvent:
    signal: str
    method: str
    sender: str
    arguments: dict
    depth: int  # how many recorded sends were under way when this one started
    calls: list = field(default_factory=list)
    source: Signal = field(default=None, repr=False, compare=False)


class Trace:
    """What was sent, in order, with each receiver's result."""

    def __init__(self, ignore=NOISY_SIGNALS):
        self.ignore = tuple(ignore)
        self.events = []
        self._names = all_signals()
        self._lock = threading.Lock()

    @property
    def signals(self):
        """The short names of the signals sent, in order: ``["pre_save", "post_save"]``."""
        return [event.signal.rsplit(".", 1)[-1] for event in self.events]

    def records(self, signal):
        return signal_name(signal, self._names).rsplit(".", 1)[-1] not in self.ignore

    def start(self, signal, method, sender, named):
        event = SignalEvent(
            signal=signal_name(signal, self._names),
            method=method,
            sender="None" if sender is None else sender_name(sender),
            arguments={key: short_repr(value) for key, value in named.items()},
            depth=len(_sending.get()),
            source=signal,
        )
        with self._lock:
            self.events.append(event)
        return event

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
        return text_table(HEADERS, self._rows(), styles=COLUMN_STYLES)

    __repr__ = __str__

    def _repr_html_(self):
        if not self.events:
            return "<p>No signals were sent.</p>"
        return html_table(HEADERS, self._rows())


_active_trace = None


def trace_signals(ignore=NOISY_SIGNALS):
    """Context manager: ``with trace_signals() as trace: ...`` then ``print(trace)``.

    Signals whose short name is in ``ignore`` are sent as usual but not recorded.
    Only one trace records at a time; starting a second inside the first raises
    RuntimeError.
    """
    return _Tracing(ignore)


class _Tracing:
    def __init__(self, ignore):
        self.ignore = ignore

    def __enter__(self):
        global _active_trace
        if _active_trace is not None:
            raise RuntimeError("trace_signals() is already recording; nest nothing inside it.")
        self.trace = Trace(self.ignore)
        self.originals = {name: Signal.__dict__[name] for name in PATCHED}
        for name in SEND_METHODS:
            setattr(Signal, name, _recording(name, self.originals[name], self.trace))
        setattr(
            Signal,
            LIVE_RECEIVERS_METHOD,
            _watching_receivers(self.originals[LIVE_RECEIVERS_METHOD]),
        )
        _active_trace = self.trace
        return self.trace

    def __exit__(self, *exc_info):
        global _active_trace
        for name, original in self.originals.items():
            setattr(Signal, name, original)
        _active_trace = None
        return False


def _recording(method, original, trace):
    if inspect.iscoroutinefunction(original):

        @functools.wraps(original)
        async def record_async(signal, sender, **named):
            if not trace.records(signal):
                return await original(signal, sender, **named)
            token = _sending.set((*_sending.get(), trace.start(signal, method, sender, named)))
            try:
                return _original_receivers(await original(signal, sender, **named))
            finally:
                _sending.reset(token)

        return record_async

    @functools.wraps(original)
    def record(signal, sender, **named):
        if not trace.records(signal):
            return original(signal, sender, **named)
        token = _sending.set((*_sending.get(), trace.start(signal, method, sender, named)))
        try:
            return _original_receivers(original(signal, sender, **named))
        finally:
            _sending.reset(token)

    return record


def _original_receivers(responses):
    """send_robust() returns the watched wrappers; give back the receivers they wrap."""
    return [(getattr(receiver, "__wrapped__", receiver), value) for receiver, value in responses]


def _watching_receivers(original):
    @functools.wraps(original)
    def live_receivers(signal, sender):
        sync_receivers, async_receivers = original(signal, sender)
        sending = _sending.get()
        # Only the send being recorded gets watched receivers: not has_listeners(), and
        # not an ignored signal sent from inside a receiver.
        if not sending or sending[-1].source is not signal:
            return sync_receivers, async_receivers
        event = sending[-1]
        return (
            [_watch(receiver, event) for receiver in sync_receivers],
            [_watch_async(receiver, event) for receiver in async_receivers],
        )

    return live_receivers


def _note(event, receiver, outcome, value, started):
    milliseconds = (time.perf_counter() - started) * 1000
    event.calls.append(
        ReceiverCall(
            callable_name(receiver),
            outcome,
            short_repr(value),
            source_location(receiver),
            milliseconds,
        )
    )


@contextlib.contextmanager
def _noting(event, receiver):
    """Yield ``returned(value)``, which notes a result; an exception is noted on its way out."""
    started = time.perf_counter()

    def returned(value):
        _note(event, receiver, "returned", value, started)
        return value

    try:
        yield returned
    except Exception as error:
        _note(event, receiver, "raised", error, started)
        raise


def _watch(receiver, event):
    @functools.wraps(receiver)
    def watched(*args, **kwargs):
        with _noting(event, receiver) as returned:
            return returned(receiver(*args, **kwargs))

    return watched


def _watch_async(receiver, event):
    @functools.wraps(receiver)
    async def watched(*args, **kwargs):
        with _noting(event, receiver) as returned:
            return returned(await receiver(*args, **kwargs))

    return watched
