"""request_started and request_finished around one request, under WSGI and under ASGI."""

import asyncio
import io
import logging
import re

import pytest
from asgiref.sync import async_to_sync
from conftest import stock_of
from django.core.signals import request_finished, request_started
from django.test import AsyncClient

pytestmark = pytest.mark.django_db


@pytest.fixture
def sent():
    """Record what request_started and request_finished send, for one test."""
    events = []

    def on_started(sender, **kwargs):
        events.append(("started", sorted(set(kwargs) - {"signal"})))

    def on_finished(sender, **kwargs):
        events.append(("finished", sorted(set(kwargs) - {"signal"})))

    request_started.connect(on_started)
    request_finished.connect(on_finished)
    yield events
    request_started.disconnect(on_started)
    request_finished.disconnect(on_finished)


def test_wsgi_sends_started_with_the_environ_then_finished(client, sent):
    response = client.get("/orders/")

    assert response.status_code == 200
    assert sent == [("started", ["environ"]), ("finished", [])]


def test_asgi_sends_started_with_the_scope_and_no_environ(sent):
    """A receiver that requires ``environ`` raises TypeError on every ASGI request: see scope."""
    response = async_to_sync(AsyncClient().get)("/orders/")

    assert response.status_code == 200
    assert sent == [("started", ["scope"]), ("finished", [])]


class LoggedBody(io.BytesIO):
    """A WSGI request body that notes each read in events."""

    def __init__(self, data, events):
        super().__init__(data)
        self.events = events

    def read(self, *args):
        self.events.append("body read")
        return super().read(*args)


@pytest.fixture
def events():
    events = []

    def on_started(sender, **kwargs):
        events.append("request_started")

    request_started.connect(on_started)
    yield events
    request_started.disconnect(on_started)


# A POST with its CSRF cookie and token, so that CsrfViewMiddleware reads the form.
CSRF_SECRET = "s" * 32
FORM = f"csrfmiddlewaretoken={CSRF_SECRET}&note={'x' * 1000}".encode()


def test_wsgi_sends_request_started_before_it_reads_the_body(events):
    from my_shop.wsgi import application

    environ = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": "/orders/",
        "QUERY_STRING": "",
        "SERVER_NAME": "testserver",
        "SERVER_PORT": "80",
        "CONTENT_TYPE": "application/x-www-form-urlencoded",
        "CONTENT_LENGTH": str(len(FORM)),
        "HTTP_COOKIE": f"csrftoken={CSRF_SECRET}",
        "wsgi.url_scheme": "http",
        "wsgi.input": LoggedBody(FORM, events),
    }
    application(environ, lambda status, headers: None)

    assert events.index("request_started") < events.index("body read")


def test_asgi_reads_the_whole_body_before_request_started(events):
    """Under uvicorn, a request's duration from request_started leaves out its upload."""
    from my_shop.asgi import application

    chunks = [FORM[:500], FORM[500:]]

    async def receive():
        if not chunks:  # Django then listens for a disconnect: the client stays
            await asyncio.Event().wait()
        events.append("body chunk received")
        body = chunks.pop(0)
        return {"type": "http.request", "body": body, "more_body": bool(chunks)}

    async def send(message):
        pass

    scope = {
        "type": "http",
        "method": "POST",
        "path": "/orders/",
        "query_string": b"",
        "headers": [(b"content-type", b"application/x-www-form-urlencoded")],
        "server": ("testserver", 80),
    }
    async_to_sync(application)(scope, receive, send)

    assert events[:3] == ["body chunk received", "body chunk received", "request_started"]


def test_an_order_confirms_under_asgi(make_order):
    """Every step ships my_shop/asgi.py: uvicorn or daphne serve the same receivers."""
    order = make_order(stock=5, quantity=2)

    response = async_to_sync(AsyncClient().post)(f"/orders/{order.pk}/confirm/")

    assert response.status_code == 200
    assert stock_of(order) == 3


def test_the_settings_send_the_request_log_to_the_console():
    """What runserver shows: LOGGING gives request_log DEBUG and a console handler.

    caplog sets levels itself, so the tests that read the line cannot see this."""
    logger = logging.getLogger("request_log")

    assert logger.isEnabledFor(logging.DEBUG), (
        "request_log drops DEBUG lines: LOGGING sets its level"
    )
    handlers = []
    while logger is not None:
        handlers += logger.handlers
        logger = logger.parent if logger.propagate else None
    console = [
        handler
        for handler in handlers
        if isinstance(handler, logging.StreamHandler)
        and not isinstance(handler, logging.FileHandler)
        and not type(handler).__module__.startswith("_pytest")  # caplog's own
    ]
    assert console, "no console handler: LOGGING's request_log entry names one"


def test_each_request_is_logged_with_its_duration(client, caplog):
    with caplog.at_level(logging.DEBUG, logger="request_log"):
        client.get("/orders/")

    [line] = [r.getMessage() for r in caplog.records if r.name.startswith("request_log")]
    assert "GET /orders/" in line, "one line per request, naming it"
    assert re.search(r"\d", line), "the line gives the request's duration"


def test_each_request_under_asgi_is_logged_with_its_duration(caplog):
    """Called as uvicorn calls it (AsyncClient differs): the noted start lasts until the end."""
    from my_shop.asgi import application

    sent_body = False

    async def receive():
        nonlocal sent_body
        if sent_body:  # Django then listens for a disconnect: the client stays
            await asyncio.Event().wait()
        sent_body = True
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message):
        pass

    scope = {
        "type": "http",
        "method": "GET",
        "path": "/orders/",
        "query_string": b"",
        "headers": [],
        "server": ("testserver", 80),
    }
    with caplog.at_level(logging.DEBUG, logger="request_log"):
        async_to_sync(application)(scope, receive, send)

    [line] = [r.getMessage() for r in caplog.records if r.name.startswith("request_log")]
    assert "GET /orders/" in line, "one line per request, naming it"


@pytest.mark.library
def test_the_async_test_client_writes_no_duration_line(caplog):
    """AsyncClient sends request_finished from a thread of its own, unlike a real ASGI server."""
    with caplog.at_level(logging.DEBUG, logger="request_log"):
        response = async_to_sync(AsyncClient().get)("/orders/")

    assert response.status_code == 200
    assert [r.getMessage() for r in caplog.records if r.name.startswith("request_log")] == []
