"""List every signal of the running Django project and the receivers connected to it.

django-extensions' ``list_signals`` shows model signals only and breaks on Django 6;
this works from the receivers themselves, on Django 5.2 and 6.x.
"""

import sys
from collections import Counter
from dataclasses import dataclass, replace

from django.apps import apps
from django.core.handlers.asgi import ASGIHandler
from django.core.handlers.wsgi import WSGIHandler
from django.test.client import AsyncClientHandler, ClientHandler

from tutorial.in_step import signals_compat
from tutorial.in_step.naming import all_signals, callable_name, sender_name, source_location
from tutorial.in_step.tables import html_table, text_table

HEADERS = ["signal", "receiver", "defined at", "sender", "dispatch_uid", "ref", "kind"]
COLUMN_STYLES = ["cyan", "green", "dim", None, None, "dim", "dim"]
HANDLER_CLASSES = [WSGIHandler, ASGIHandler, ClientHandler, AsyncClientHandler]


@dataclass(frozen=True)
class ReceiverRow:
    signal: str
    receiver: str
    location: str
    sender: str
    dispatch_uid: str
    ref: str
    kind: str


class ReceiverTable:
    """The rows, printable in a terminal and shown as HTML by Jupyter."""

    def __init__(self, rows, signals_without_receivers=()):
        self.rows = rows
        self.signals_without_receivers = list(signals_without_receivers)

    def __iter__(self):
        return iter(self.rows)

    def __len__(self):
        return len(self.rows)

    def for_signal(self, name):
        """The rows of one signal, by dotted name, as a table of their own."""
        return ReceiverTable([row for row in self.rows if row.signal == name])

    def _cells(self):
        return [list(vars(row).values()) for row in self.rows]

    def __str__(self):
        text = "No receivers connected."
        if self.rows:
            text = text_table(HEADERS, self._cells(), styles=COLUMN_STYLES)
        if self.signals_without_receivers:
            text += "\n\nSignals with no receivers: " + ", ".join(self.signals_without_receivers)
        return text

    def _repr_html_(self):
        html = html_table(HEADERS, self._cells())
        if self.signals_without_receivers:
            names = ", ".join(f"<code>{name}</code>" for name in self.signals_without_receivers)
            html += f"<p>Signals with no receivers: {names}</p>"
        return html

    __repr__ = __str__


def receivers_table(include_empty=False):
    """Every known signal's receivers; with include_empty, also name the silent signals."""
    senders = known_senders()
    rows, silent = [], []
    for signal, name in all_signals().items():
        signal_rows = [
            describe(name, connection, senders)
            for connection in signals_compat.connections(signal)
            if connection.receiver is not None
        ]
        rows += counted(signal_rows)
        if not signal_rows:
            silent.append(name)
    return ReceiverTable(rows, silent if include_empty else ())


def counted(rows):
    """One row for receivers that look the same (one per model, say), with their number."""
    counts = Counter(rows)
    return [
        replace(row, receiver=f"{row.receiver} (×{counts[row]})") if counts[row] > 1 else row
        for row in counts
    ]


def known_senders():
    """Objects that may be senders, by id: Django 5.2 keeps only the sender's id.

    Whatever a loaded module holds at its top level (a class of the project's own, say),
    overridden by the usual senders: models, app configs and request handlers.
    """
    candidates = [
        *(
            value
            for module in sys.modules.copy().values()
            for value in getattr(module, "__dict__", {}).copy().values()
        ),
        *apps.get_models(include_auto_created=True),
        *apps.get_app_configs(),
        *HANDLER_CLASSES,
    ]
    return {id(candidate): candidate for candidate in candidates}


def describe(signal_name, connection, senders):
    if connection.sender_id is None:
        sender = "any"
    else:
        resolved = connection.sender
        if resolved is None:
            resolved = senders.get(connection.sender_id)
        sender = sender_name(resolved) if resolved is not None else "(an object we cannot name)"
    return ReceiverRow(
        signal=signal_name,
        receiver=callable_name(connection.receiver),
        location=source_location(connection.receiver),
        sender=sender,
        dispatch_uid=connection.dispatch_uid or "-",
        ref="weak" if connection.weak else "strong",
        kind="async" if connection.is_async else "sync",
    )
