"""Async receivers run inside the request all the same; only the task leaves it."""

import asyncio
import threading
import time

import pytest
from asgiref.sync import async_to_sync
from django.contrib.auth import get_user_model
from django.db.models.signals import post_save
from django.dispatch import Signal
from django.test import AsyncClient

from blog.models import Comment

pytestmark = pytest.mark.django_db
User = get_user_model()
VALID_COMMENT = {"name": "Ada", "email": "ada@example.com", "body": "92 degrees for light roasts."}


def test_asend_runs_a_sync_receiver_in_a_thread_and_waits_for_it():
    announced, threads = Signal(), {}

    def sync_receiver(sender, **kwargs):
        threads["receiver"] = threading.get_ident()
        return "done"

    announced.connect(sync_receiver)

    async def send_from_async_code():
        threads["event loop"] = threading.get_ident()
        return await announced.asend(sender=object)

    [(_receiver, result)] = asyncio.run(send_from_async_code())

    assert result == "done", "asend() returns once the receiver has returned"
    assert threads["receiver"] != threads["event loop"], "the sync receiver ran in a thread"


def test_asend_runs_all_the_sync_receivers_one_after_another_in_one_thread():
    announced, calls = Signal(), []

    def first(sender, **kwargs):
        calls.append(("first starts", threading.get_ident()))
        time.sleep(0.05)
        calls.append(("first ends", threading.get_ident()))

    def second(sender, **kwargs):
        calls.append(("second starts", threading.get_ident()))

    announced.connect(first)
    announced.connect(second)
    asyncio.run(announced.asend(sender=object))

    assert [event for event, _thread in calls] == ["first starts", "first ends", "second starts"]
    assert len({thread for _event, thread in calls}) == 1, "one sync_to_async call for all"


def test_an_async_receiver_still_holds_up_the_response(blog):
    """An async def receiver of post_save finishes before the comment POST is answered."""
    events = []

    async def slow_async_receiver(sender, **kwargs):
        await asyncio.sleep(0.05)
        events.append("receiver finished")

    post_save.connect(slow_async_receiver, sender=Comment)
    try:

        async def post_a_comment():
            response = await AsyncClient().post(f"/blog/{blog.pk}/", VALID_COMMENT)
            events.append(f"response {response.status_code}")

        async_to_sync(post_a_comment)()
    finally:
        post_save.disconnect(slow_async_receiver, sender=Comment)

    assert events == ["receiver finished", "response 302"]


def test_under_asgi_the_comment_is_answered_with_the_task_queued_and_no_mail_sent(
    blog, mailoutbox, enqueued, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = async_to_sync(AsyncClient().post)(f"/blog/{blog.pk}/", VALID_COMMENT)

    assert response.status_code == 302
    assert [result.args for result in enqueued] == [[Comment.objects.get().pk]]
    assert [mail.subject for mail in mailoutbox] == [], "the request sent the mail itself"
