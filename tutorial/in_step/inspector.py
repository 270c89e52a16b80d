"""List every signal of the running Django project and the receivers connected to it.

django-extensions' ``list_signals`` shows model signals only and breaks on Django 6;
this works from the receivers themselves, on Django 5.2 and 6.x.
"""

import sys
from collections import Counter
from dataclasses import dataclass, replace

from django.apps import apps

from tutorial.in_step import signals_compat
from tutorial.in_step.naming import (
    all_signals,
    callable_name,
    is_signal,
    sender_name,
    source_location,
)
from tutorial.in_step.tables import html_table, text_table

HEADERS = ["signal", "receiver", "defined at", "sender", "dispatch_uid", "ref", "kind"]
COLUMN_STYLES = ["cyan", "green", "dim", None, None, "dim", "dim"]
INSPECTOR_ONLY = "Not in a served step, only in the inspector's process (it imports django.test):"


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

    def __init__(self, rows, signals_without_receivers=(), inspector_only=()):
        self.rows = rows
        self.signals_without_receivers = list(signals_without_receivers)
        self.inspector_only = list(inspector_only)  # rows a served step does not have

    def __iter__(self):
        return iter(self.rows)

    def __len__(self):
        return len(self.rows)

    def for_signal(self, name):
        """The rows of one signal, by dotted name, as a table of their own."""
        return ReceiverTable([row for row in self.rows if row.signal == name])

    @staticmethod
    def _cells(rows):
        return [list(vars(row).values()) for row in rows]

    def _uniform_columns(self):
        """The ref and kind columns when every row has the same value: said once instead."""
        rows = [*self.rows, *self.inspector_only]
        return {
            header: next(iter(values))
            for header in ("ref", "kind")
            if len(values := {getattr(row, header) for row in rows}) == 1
        }

    def _text_table(self, rows, uniform):
        shown = [index for index, header in enumerate(HEADERS) if header not in uniform]
        cells = [[row[index] for index in shown] for row in self._cells(rows)]
        headers = [HEADERS[index] for index in shown]
        return text_table(headers, cells, styles=[COLUMN_STYLES[index] for index in shown])

    def __str__(self):
        text = "No receivers connected."
        uniform = self._uniform_columns()
        if self.rows:
            text = self._text_table(self.rows, uniform)
        if uniform:
            said = " and ".join(f"{header} {value}" for header, value in uniform.items())
            text += f"\n\nEvery receiver listed: {said}."
        if self.signals_without_receivers:
            text += "\n\nSignals with no receivers: " + ", ".join(self.signals_without_receivers)
        if self.inspector_only:
            table = self._text_table(self.inspector_only, uniform)
            text += f"\n\n{INSPECTOR_ONLY}\n\n{table}"
        return text

    def _repr_html_(self):
        html = html_table(HEADERS, self._cells(self.rows))
        if self.signals_without_receivers:
            names = ", ".join(f"<code>{name}</code>" for name in self.signals_without_receivers)
            html += f"<p>Signals with no receivers: {names}</p>"
        return html

    __repr__ = __str__


def receivers_table(include_empty=False, served=None):
    """Every known signal's receivers; with include_empty, also name the silent signals.

    served, from served_connections(), sets apart the rows a served step does not have.
    """
    senders = known_senders()
    rows, silent, inspector_only = [], [], []
    for signal, name in all_signals().items():
        live = [c for c in signals_compat.connections(signal) if c.receiver is not None]
        if served is None:
            rows += counted([describe(name, c, senders) for c in live])
        else:
            rows += counted([describe(name, c, senders) for c in live if (signal, c.key) in served])
            inspector_only += counted(
                [describe(name, c, senders) for c in live if (signal, c.key) not in served]
            )
        if not live:
            silent.append(name)
    return ReceiverTable(rows, silent if include_empty else (), inspector_only)


def load_as_served():
    """Load what `make step-N`'s runserver loads before its first answer: the system
    checks it runs, the middleware, through the WSGI handler, and every view module,
    through the URLconf."""
    from django.core import checks
    from django.core.handlers.wsgi import WSGIHandler
    from django.urls import get_resolver

    checks.run_checks()
    WSGIHandler()
    get_resolver().url_patterns  # noqa: B018 - imports every view module


def served_connections():
    """Every connection of the signals loaded so far, to compare with later.

    Call it after load_as_served() and before anything the inspector alone imports.
    """
    return {
        (value, connection.key)
        for module in list(sys.modules.values())
        for value in list(getattr(module, "__dict__", {}).values())
        if is_signal(value)
        for connection in signals_compat.connections(value)
    }


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
    from django.core.handlers.asgi import ASGIHandler
    from django.core.handlers.wsgi import WSGIHandler
    from django.test.client import AsyncClientHandler, ClientHandler

    candidates = [
        *(
            value
            for module in sys.modules.copy().values()
            for value in getattr(module, "__dict__", {}).copy().values()
        ),
        *apps.get_models(include_auto_created=True),
        *apps.get_app_configs(),
        *[WSGIHandler, ASGIHandler, ClientHandler, AsyncClientHandler],
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
