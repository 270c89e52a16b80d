import logging
import time

logger = logging.getLogger(__name__)


class RequestDurationMiddleware:
    """Log each request's method, path and duration, from the first middleware to the last.

    It sees the request and the response together, so it needs nothing kept between two
    receivers, and it runs once per request under WSGI and under ASGI alike.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        started = time.perf_counter()
        response = self.get_response(request)
        milliseconds = (time.perf_counter() - started) * 1000
        logger.debug("%s %s finished in %.1f ms", request.method, request.path, milliseconds)
        return response
