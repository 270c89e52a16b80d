"""The only place that reads Django's private receiver bookkeeping.

``Signal.receivers`` holds one tuple per connection. Its shape changed in Django 6.0:

- Django 5.2: ``(lookup_key, receiver, is_async)``
- Django 6.x: ``(lookup_key, receiver, sender_ref, is_async)``

``lookup_key`` is ``(dispatch_uid or id(receiver), id(sender))`` in both, and
``receiver`` is a weak reference unless the connection used ``weak=False``.
``Signal._live_receivers(sender)`` returns ``(sync_receivers, async_receivers)`` in both.
"""

import weakref
from dataclasses import dataclass

from django.dispatch.dispatcher import NONE_ID


@dataclass(frozen=True)
class Connection:
    receiver: object  # the callable, or None when a weak reference has died
    dispatch_uid: str | None
    sender_id: int | None  # None: any sender
    sender: object  # the sender object when Django keeps it (6.x), else None
    weak: bool
    is_async: bool


def connections(signal):
    """Every receiver connected to a signal, live or dead, in connection order."""
    for entry in list(signal.receivers):
        if len(entry) == 4:
            lookup_key, stored, sender_ref, is_async = entry
        else:
            (lookup_key, stored, is_async), sender_ref = entry, None
        receiver_key, sender_key = lookup_key
        weak = isinstance(stored, weakref.ReferenceType)
        yield Connection(
            receiver=stored() if weak else stored,
            dispatch_uid=receiver_key if isinstance(receiver_key, str) else None,
            sender_id=None if sender_key == NONE_ID else sender_key,
            sender=sender_ref() if sender_ref is not None else None,
            weak=weak,
            is_async=is_async,
        )


def live_receivers(signal, sender):
    """The receivers a send from ``sender`` would call: ``(sync, async)`` lists."""
    return signal._live_receivers(sender)
