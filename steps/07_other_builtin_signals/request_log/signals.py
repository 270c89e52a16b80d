import logging
import threading
import time

from django.core.signals import request_finished, request_started
from django.dispatch import receiver

logger = logging.getLogger(__name__)

# request_finished says nothing about the request, so its start is kept until then.
# Both receivers run on the thread that runs the request's synchronous code: under WSGI
# the request's own thread, under ASGI the thread Django keeps for that one request. A
# context variable would not do: under ASGI, request_started's receivers run in a task
# of their own, and what they set there is gone when that task ends.
current_request = threading.local()


@receiver(request_started, dispatch_uid="note_request_start")
def note_request_start(sender, environ=None, scope=None, **kwargs):
    """WSGI sends the request's ``environ``; ASGI sends its ``scope`` instead."""
    if scope is not None:
        method, path = scope["method"], scope["path"]
    else:
        method, path = environ["REQUEST_METHOD"], environ["PATH_INFO"]
    current_request.started = (method, path, time.perf_counter())


@receiver(request_finished, dispatch_uid="log_request_duration")
def log_request_duration(sender, **kwargs):
    started = getattr(current_request, "started", None)
    if started is None:
        return
    del current_request.started
    method, path, started_at = started
    milliseconds = (time.perf_counter() - started_at) * 1000
    logger.debug("%s %s finished in %.1f ms", method, path, milliseconds)
