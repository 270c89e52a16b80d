import logging
import time
from contextvars import ContextVar

from django.core.signals import request_finished, request_started
from django.dispatch import receiver

logger = logging.getLogger(__name__)

# request_finished carries no request, so the start is kept per request context
# (per thread under WSGI), never in a variable that all requests share.
current_request = ContextVar("current_request", default=None)


@receiver(request_started, dispatch_uid="note_request_start")
def note_request_start(sender, environ, **kwargs):
    started = (environ.get("REQUEST_METHOD"), environ.get("PATH_INFO"), time.perf_counter())
    current_request.set(started)


@receiver(request_finished, dispatch_uid="log_request_duration")
def log_request_duration(sender, **kwargs):
    started = current_request.get()
    if started is None:
        return
    current_request.set(None)
    method, path, started_at = started
    milliseconds = (time.perf_counter() - started_at) * 1000
    logger.debug("%s %s finished in %.1f ms", method, path, milliseconds)
