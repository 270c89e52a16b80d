"""What the tasks framework's database backend does, as README 06 describes it.

Who sends its signals with which sender, what a raising receiver of them does to the
worker, when a task enqueued inside a transaction becomes visible, and where the admin
lists the results. These are facts about `db_worker` and `DatabaseBackend`.
"""

import logging
from concurrent.futures import ThreadPoolExecutor

import pytest
from conftest import MAIL_SERVER_DOWN, TaskResultStatus
from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django_tasks_db.backend import DatabaseBackend
from django_tasks_db.models import DBTaskResult

from blog.models import Comment
from blog.tasks import notify_author, task_enqueued, task_finished, task_started

pytestmark = pytest.mark.django_db
User = get_user_model()


@pytest.fixture(autouse=True)
def database_backend(settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}


@pytest.fixture
def comment(blog):
    return Comment.objects.create(blog=blog, name="Ada", email="a@example.com", body="Nice.")


@pytest.fixture
def senders():
    """(signal, sender) for each tasks signal sent during the test."""
    sent = []
    receivers = {}
    for name, signal in [
        ("task_enqueued", task_enqueued),
        ("task_started", task_started),
        ("task_finished", task_finished),
    ]:
        receivers[signal] = lambda sender, name=name, **kwargs: sent.append((name, sender))
        signal.connect(receivers[signal])
    yield sent
    for signal, receiver in receivers.items():
        signal.disconnect(receiver)


def test_db_worker_sends_starts_and_successes_with_the_backend_instance(
    comment, settings, senders, run_worker
):
    notify_author.enqueue(comment.pk)
    run_worker()
    settings.EMAIL_BACKEND = MAIL_SERVER_DOWN
    Comment.objects.filter(pk=comment.pk).update(notified_at=None)
    notify_author.enqueue(comment.pk)
    run_worker()

    kinds = [
        (name, "class" if isinstance(sender, type) else "instance") for name, sender in senders
    ]
    assert kinds == [
        ("task_enqueued", "class"),
        ("task_started", "instance"),
        ("task_finished", "instance"),  # the success
        ("task_enqueued", "class"),
        ("task_started", "instance"),
        ("task_finished", "class"),  # the failure
    ]
    assert all(
        sender is DatabaseBackend or isinstance(sender, DatabaseBackend) for _, sender in senders
    )


def test_a_task_finished_receiver_that_raises_turns_a_sent_email_into_a_failure(
    comment, mailoutbox, caplog, run_worker
):
    """The pitfall log_failed_notification must avoid: db_worker does not guard the send."""
    calls = []

    def broken_receiver(sender, task_result, **kwargs):
        calls.append(task_result.status)
        raise RuntimeError("a bug in a receiver")

    result = notify_author.enqueue(comment.pk)
    task_finished.connect(broken_receiver)
    try:
        with caplog.at_level(logging.ERROR), pytest.raises(RuntimeError, match="a bug"):
            run_worker()  # the worker itself stops: the exception leaves db_worker
    finally:
        task_finished.disconnect(broken_receiver)

    assert len(mailoutbox) == 1, "the email went out"
    assert notify_author.get_result(result.id).status == TaskResultStatus.FAILED
    assert calls == [TaskResultStatus.SUCCESSFUL, TaskResultStatus.FAILED], "sent twice"
    assert any(f"comment {comment.pk}" in message for message in caplog.messages)


def count_from_another_connection(model):
    def count():
        try:
            return model.objects.count()
        finally:
            connection.close()  # this thread's own connection

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(count).result()


@pytest.mark.django_db(transaction=True)
def test_a_task_enqueued_inside_a_transaction_is_invisible_until_the_commit(comment):
    before = count_from_another_connection(DBTaskResult)  # the comment's own task

    with transaction.atomic():
        notify_author.enqueue(comment.pk)
        assert count_from_another_connection(DBTaskResult) == before, "a worker could see it"

    assert count_from_another_connection(DBTaskResult) == before + 1


def test_prune_db_task_results_deletes_finished_results_after_14_days(comment, run_worker):
    from datetime import timedelta

    from django.core.management import call_command
    from django.utils import timezone

    finished = notify_author.enqueue(comment.pk)
    run_worker()
    waiting = notify_author.enqueue(comment.pk)
    fifteen_days_ago = timezone.now() - timedelta(days=15)
    DBTaskResult.objects.update(enqueued_at=fifteen_days_ago)
    DBTaskResult.objects.filter(pk=finished.id).update(finished_at=fifteen_days_ago)

    call_command("prune_db_task_results", verbosity=0)

    assert [str(pk) for pk in DBTaskResult.objects.values_list("id", flat=True)] == [waiting.id]


def test_the_admin_lists_the_task_results(admin_client, comment):
    notify_author.enqueue(comment.pk)

    response = admin_client.get("/admin/django_tasks_database/dbtaskresult/")

    assert response.status_code == 200
    assert b"notify_author" in response.content
    assert admin_client.get("/admin/django_tasks_db/dbtaskresult/").status_code == 404
