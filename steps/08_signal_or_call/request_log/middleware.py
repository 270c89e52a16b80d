import logging
import time

from asgiref.sync import iscoroutinefunction, markcoroutinefunction

logger = logging.getLogger(__name__)


class RequestDurationMiddleware:
    """Log each request's method, path and duration, from the first middleware to the last.

    It sees the request and the response together, so it needs nothing kept between two
    receivers. It is sync and async capable: under ASGI, a sync-only middleware would
    make Django run every request's whole stack in a thread.
    """

    sync_capable = True
    async_capable = True

    def __init__(self, get_response):
        self.get_response = get_response
        if iscoroutinefunction(get_response):
            markcoroutinefunction(self)

    def __call__(self, request):
        if iscoroutinefunction(self):
            return self.__acall__(request)
        started = time.perf_counter()
        response = self.get_response(request)
        log_duration(request, started)
        return response

    async def __acall__(self, request):
        started = time.perf_counter()
        response = await self.get_response(request)
        log_duration(request, started)
        return response


def log_duration(request, started):
    milliseconds = (time.perf_counter() - started) * 1000
    logger.debug("%s %s finished in %.1f ms", request.method, request.path, milliseconds)
