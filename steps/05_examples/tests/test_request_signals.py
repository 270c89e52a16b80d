"""request_started and request_finished around one request."""

import logging

import pytest
from django.core.signals import request_finished, request_started

pytestmark = pytest.mark.django_db


def test_one_request_sends_started_then_finished_once(client):
    events = []

    def on_started(sender, **kwargs):
        events.append("started")

    def on_finished(sender, **kwargs):
        events.append("finished")

    request_started.connect(on_started)
    request_finished.connect(on_finished)
    try:
        client.get("/orders/")
    finally:
        request_started.disconnect(on_started)
        request_finished.disconnect(on_finished)

    assert events == ["started", "finished"]


@pytest.mark.course_only
def test_each_request_is_logged_with_its_duration(client, caplog):
    with caplog.at_level(logging.DEBUG, logger="request_log"):
        client.get("/orders/")

    [line] = [r.getMessage() for r in caplog.records if r.name.startswith("request_log")]
    assert line.startswith("GET /orders/ finished in ")
    assert line.endswith(" ms")
