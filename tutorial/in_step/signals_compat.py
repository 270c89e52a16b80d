"""The only place that reads Django's private receiver bookkeeping.

``Signal.receivers`` holds one tuple per connection. Its shape changed in Django 6.0:

- Django 5.2: ``(lookup_key, receiver, is_async)``
- Django 6.x: ``(lookup_key, receiver, sender_ref, is_async)``, where ``sender_ref`` is a
  weak reference to the sender, or None (any sender, or a sender that cannot be
  weakly referenced)

``lookup_key`` is ``(dispatch_uid or _make_id(receiver), _make_id(sender))`` in both, and
``receiver`` is a weak reference unless the connection used ``weak=False``.

Every send path (send, send_robust, asend, asend_robust) asks
``self._live_receivers(sender)`` for ``(sync_receivers, async_receivers)`` in both
versions; the tracer wraps that method, by the name below.
"""

import weakref
from dataclasses import dataclass

from django.dispatch.dispatcher import NONE_ID, _make_id

LIVE_RECEIVERS_METHOD = "_live_receivers"


@dataclass(frozen=True)
class Connection:
    receiver: object  # the callable, or None when a weak reference has died
    dispatch_uid: object  # None when the connection has none
    sender_id: object  # None: any sender; else Django's id of the sender
    sender: object  # the sender object when Django keeps it (6.x), else None
    weak: bool
    is_async: bool
    key: tuple  # Django's lookup key, the same for as long as the connection lasts


def connections(signal):
    """Every receiver connected to a signal, live or dead, in connection order."""
    for entry in list(signal.receivers):
        if len(entry) == 4:
            lookup_key, stored, sender_ref, is_async = entry
        else:
            (lookup_key, stored, is_async), sender_ref = entry, None
        receiver_key, sender_key = lookup_key
        weak = isinstance(stored, weakref.ReferenceType)
        receiver = stored() if weak else stored
        yield Connection(
            receiver=receiver,
            dispatch_uid=_dispatch_uid(receiver_key, receiver),
            sender_id=None if sender_key == NONE_ID else sender_key,
            sender=sender_ref() if sender_ref is not None else None,
            weak=weak,
            is_async=is_async,
            key=lookup_key,
        )


def _dispatch_uid(receiver_key, receiver):
    """Django keys a connection by its dispatch_uid when given, else by the receiver's id."""
    if receiver is None:
        return receiver_key if isinstance(receiver_key, str) else None
    return None if receiver_key == _make_id(receiver) else receiver_key


def live_receivers(signal, sender):
    """The receivers a send from ``sender`` would call: ``(sync, async)`` lists."""
    return getattr(signal, LIVE_RECEIVERS_METHOD)(sender)
