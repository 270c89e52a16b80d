"""One email per comment: a task run twice sends it once, and a queue that is down loses none.

The guarantee is at least once, made once by a guard: the task sets
`Comment.notified_at` in the transaction that sends the email, and a comment that has it
is never emailed again. The queue going down at the moment a comment commits is survived
by `manage.py queue_missed_notifications`, which queues every comment still due.
"""

import dataclasses
import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from conftest import MAIL_SERVER_DOWN, TASKS_PACKAGE, TaskResultStatus, task_backends
from django.contrib.auth import get_user_model
from django.core.mail.backends import locmem
from django.core.management import CommandError, call_command
from django.db import connection, connections
from django.test import Client, override_settings
from django.utils import timezone

from blog.models import Blog, Comment
from blog.tasks import TASK_FINISHED_SIGNALS, notify_author, task

pytestmark = pytest.mark.django_db
User = get_user_model()
VALID_COMMENT = {"name": "Ada", "email": "ada@example.com", "body": "Lovely kettle."}
# The queue in Redis, with the server down: nothing listens on port 9 here.
redis_down = override_settings(
    TASKS={"default": {"BACKEND": "django_tasks_rq.RQBackend", "QUEUES": ["default"]}},
    RQ_QUEUES={"default": {"URL": "redis://127.0.0.1:9/0"}},
)


def post_comment(blog, capture):
    with capture(execute=True):
        return Client().post(f"/blog/{blog.pk}/", VALID_COMMENT)


def test_a_task_run_twice_sends_one_email(blog, mailoutbox, run_worker):
    comment = Comment.objects.create(blog=blog, **VALID_COMMENT)
    notify_author.enqueue(comment.pk)  # a duplicate job, or the operator's re-enqueue
    notify_author.enqueue(comment.pk)

    run_worker()
    notify_author.enqueue(comment.pk)  # and once more, after it was sent
    run_worker()

    assert len(mailoutbox) == 1
    comment.refresh_from_db()
    assert comment.notified_at is not None


def test_a_failed_email_is_sent_by_the_next_run(blog, settings, mailoutbox, run_worker):
    comment = Comment.objects.create(blog=blog, **VALID_COMMENT)
    settings.EMAIL_BACKEND = MAIL_SERVER_DOWN
    notify_author.enqueue(comment.pk)
    run_worker()
    comment.refresh_from_db()
    assert comment.notified_at is None, "a failed email is still due"

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    notify_author.enqueue(comment.pk)
    run_worker()

    assert len(mailoutbox) == 1
    comment.refresh_from_db()
    assert comment.notified_at is not None


def test_with_the_queue_down_the_comment_is_kept_and_the_failure_logged(
    blog, caplog, enqueued, django_capture_on_commit_callbacks
):
    with redis_down, caplog.at_level(logging.WARNING):
        response = post_comment(blog, django_capture_on_commit_callbacks)

    assert response.status_code == 302, "the reader sees an error for a saved comment"
    comment = Comment.objects.get()
    assert comment.notified_at is None
    assert enqueued == []
    ours = [r for r in caplog.records if r.name.startswith("blog")]
    assert [r.levelno for r in ours] == [logging.ERROR]
    assert f"comment {comment.pk}" in ours[0].getMessage()


def test_once_the_queue_is_back_the_missed_email_is_sent_once(
    blog, mailoutbox, run_worker, django_capture_on_commit_callbacks
):
    with redis_down:
        post_comment(blog, django_capture_on_commit_callbacks)
    # The queue is back: the scheduler runs the sweep.

    call_command("queue_missed_notifications", "--older-than", "0")
    call_command("queue_missed_notifications", "--older-than", "0")  # run twice by mistake
    run_worker()
    call_command("queue_missed_notifications", "--older-than", "0")  # the scheduler's next run
    run_worker()

    assert len(mailoutbox) == 1


def test_the_sweep_leaves_recent_notified_and_addressless_comments_alone(blog, enqueued):
    due = Comment.objects.create(blog=blog, **VALID_COMMENT)
    already = Comment.objects.create(blog=blog, **VALID_COMMENT)
    Comment.objects.filter(pk=already.pk).update(notified_at=already.created_at)
    silent_author = User.objects.create_user("silent", email="")
    silent_blog = Blog.objects.create(title="Quiet", body="", author=silent_author)
    Comment.objects.create(blog=silent_blog, **VALID_COMMENT)
    enqueued.clear()

    call_command("queue_missed_notifications")  # comments younger than 10 minutes wait
    assert enqueued == []
    call_command("queue_missed_notifications", "--older-than", "0")
    assert [result.args for result in enqueued] == [[due.pk]]


@pytest.mark.course_only
def test_the_sweep_says_how_many_it_queued(blog, capsys):
    Comment.objects.create(blog=blog, **VALID_COMMENT)

    call_command("queue_missed_notifications")
    call_command("queue_missed_notifications", "--older-than", "0")

    assert capsys.readouterr().out.splitlines() == [
        "Queued the email for 0 comment(s).",
        "Left 1 younger than 10 minute(s) to the workers; --older-than 0 queues them too.",
        "Queued the email for 1 comment(s).",
    ]


def test_the_sweep_refuses_a_negative_age():
    with pytest.raises(CommandError):
        call_command("queue_missed_notifications", "--older-than", "-1")


def test_the_sweep_fails_without_a_traceback_when_the_queue_is_still_down(blog):
    Comment.objects.create(blog=blog, **VALID_COMMENT)

    with redis_down, pytest.raises(CommandError):  # manage.py prints its message alone
        call_command("queue_missed_notifications", "--older-than", "0")


def test_a_failed_task_enqueued_by_keyword_is_logged_with_its_comment(
    blog, settings, caplog, run_worker
):
    comment = Comment.objects.create(blog=blog, **VALID_COMMENT)
    settings.EMAIL_BACKEND = MAIL_SERVER_DOWN
    result = notify_author.enqueue(comment_id=comment.pk)

    with caplog.at_level(logging.ERROR):
        run_worker()

    assert notify_author.get_result(result.id).status == TaskResultStatus.FAILED
    ours = [r.getMessage() for r in caplog.records if r.name.startswith("blog")]
    assert len(ours) == 1 and f"comment {comment.pk}" in ours[0], ours


def test_a_sent_email_logs_nothing(blog, caplog, mailoutbox, run_worker):
    """task_finished is sent after every task, a success too: only a failure is news."""
    comment = Comment.objects.create(blog=blog, **VALID_COMMENT)
    notify_author.enqueue(comment.pk)

    with caplog.at_level(logging.WARNING):
        run_worker()

    assert len(mailoutbox) == 1
    assert [r.getMessage() for r in caplog.records if r.name.startswith("blog")] == []


@task()
def count_the_stock():
    """A task of another app, which fails: not the blog's to report."""
    raise RuntimeError("the warehouse is unreachable")


def test_another_task_s_failure_is_not_logged_as_a_comment_s(caplog, run_worker):
    """task_finished is sent for every task: the receiver reports notify_author's alone."""
    count_the_stock.enqueue()

    with caplog.at_level(logging.WARNING):
        run_worker()

    assert [r.getMessage() for r in caplog.records if r.name.startswith("blog")] == []


def test_a_failure_announced_before_its_error_is_recorded_is_logged_all_the_same(
    blog, settings, caplog, run_worker
):
    """RQ sends task_finished before it records the error: the result has no errors yet."""
    comment = Comment.objects.create(blog=blog, **VALID_COMMENT)
    settings.EMAIL_BACKEND = MAIL_SERVER_DOWN
    result = notify_author.enqueue(comment.pk)
    run_worker()
    as_rq_announces_it = dataclasses.replace(notify_author.get_result(result.id), errors=[])
    caplog.clear()

    rqs_signal = TASK_FINISHED_SIGNALS[-1]  # the backport's, where Django 6 has its own too
    with caplog.at_level(logging.ERROR):
        rqs_signal.send(sender=type(task_backends["default"]), task_result=as_rq_announces_it)

    ours = [r.getMessage() for r in caplog.records if r.name.startswith("blog")]
    assert len(ours) == 1 and f"comment {comment.pk}" in ours[0], ours


class SlowEmailBackend(locmem.EmailBackend):
    """A mail server that takes half a second to accept each message."""

    def send_messages(self, messages):
        time.sleep(0.5)
        return super().send_messages(messages)


@pytest.mark.django_db(transaction=True)
def test_one_comment_s_task_run_twice_at_once_sends_one_email(blog, settings, mailoutbox):
    """The comment stays locked while its email is sent: the second run waits, then stops."""
    comment = Comment.objects.create(blog=blog, **VALID_COMMENT)
    settings.EMAIL_BACKEND = f"{__name__}.SlowEmailBackend"
    start = threading.Barrier(2)

    def run_the_task(_):
        start.wait()
        try:
            notify_author.call(comment.pk)
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=2) as workers:
        list(workers.map(run_the_task, range(2)))

    assert len(mailoutbox) == 1


@pytest.mark.django_db(transaction=True)
def test_the_migration_marks_the_comments_already_there_as_notified(blog, enqueued):
    """Step 05 emailed their authors in the request: the sweep must not email them again."""
    call_command("migrate", "blog", "0001", verbosity=0)
    with connection.cursor() as cursor:  # a comment as step 05 stored it: no notified_at
        cursor.execute(
            "INSERT INTO blog_comment (blog_id, name, email, body, created_at)"
            " VALUES (%s, %s, %s, %s, %s)",
            [
                blog.pk,
                "Lin",
                "lin@example.com",
                "Nice!",
                connection.ops.adapt_datetimefield_value(timezone.now() - timedelta(hours=1)),
            ],
        )
    call_command("migrate", "blog", verbosity=0)

    call_command("queue_missed_notifications", "--older-than", "0")

    comment = Comment.objects.get()
    assert comment.notified_at == comment.created_at
    assert enqueued == [], "the sweep queued an email that step 05 sent"


def test_failures_are_heard_from_every_tasks_signal_module():
    """Django 6's own task_finished and, where installed, the backport's, which RQ sends."""
    try:
        from django_tasks.signals import task_finished as backport_task_finished
    except ImportError:
        backport_task_finished = None
    from blog.signals import log_failed_notification

    for signal in {*TASK_FINISHED_SIGNALS, backport_task_finished} - {None}:
        was_connected = signal.disconnect(dispatch_uid="log_failed_notification")
        signal.connect(log_failed_notification, dispatch_uid="log_failed_notification")
        assert was_connected, f"log_failed_notification is not connected to {signal}"


def backend(name):
    """TASKS naming one of the framework's backends for tests."""
    path = f"{TASKS_PACKAGE}.backends.{name.lower()}.{name}Backend"
    return override_settings(TASKS={"default": {"BACKEND": path}})


def test_with_the_immediate_backend_the_email_goes_out_at_the_commit(
    blog, mailoutbox, django_capture_on_commit_callbacks
):
    with backend("Immediate"):
        response = post_comment(blog, django_capture_on_commit_callbacks)

    assert response.status_code == 302
    assert [mail.to for mail in mailoutbox] == [["writer@example.com"]]


def test_with_the_dummy_backend_the_task_is_kept_and_nothing_runs(
    blog, mailoutbox, django_capture_on_commit_callbacks
):
    with backend("Dummy"):
        post_comment(blog, django_capture_on_commit_callbacks)
        kept = task_backends["default"].results

    assert [(result.task.name, result.args) for result in kept] == [
        ("notify_author", [Comment.objects.get().pk])
    ]
    assert mailoutbox == []
