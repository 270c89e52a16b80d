"""The comment form, the task its post_save receiver enqueues after commit, and the worker."""

import logging
import re
import subprocess
import sys

import django
import pytest
from conftest import MAIL_SERVER_DOWN, TaskResultStatus
from django.contrib.auth import get_user_model
from django.core import serializers
from django.core.management import call_command
from django.db import transaction
from django.db.models.signals import post_save
from django.test import Client

from blog.models import Comment

pytestmark = pytest.mark.django_db
User = get_user_model()
VALID_COMMENT = {
    "name": "Ada",
    "email": "ada@example.com",
    "body": "92 degrees for light roasts.",
}


def test_blog_list_shows_the_posts(client, blog):
    response = client.get("/blog/")

    assert response.status_code == 200
    assert list(response.context["blogs"]) == [blog]


def test_blog_page_shows_post_comments_and_form(client, blog):
    Comment.objects.create(blog=blog, name="Lin", email="lin@example.com", body="Nice!")

    response = client.get(f"/blog/{blog.pk}/")

    assert response.status_code == 200
    assert [c.name for c in response.context["comments"]] == ["Lin"]
    assert "body" in response.context["form"].fields


def test_unknown_post_is_not_found(client):
    assert client.get("/blog/999/").status_code == 404


def test_a_comment_is_answered_at_once_and_the_worker_emails_the_author(
    client, blog, mailoutbox, enqueued, run_worker, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/blog/{blog.pk}/", VALID_COMMENT, follow=True)

    assert response.redirect_chain == [(f"/blog/{blog.pk}/", 302)]
    assert [str(m) for m in response.context["messages"]] == [
        "Thank you, your comment is published."
    ]
    comment = Comment.objects.get(blog=blog)
    assert [result.args for result in enqueued] == [[comment.pk]], "one task, with the id"
    assert [mail.subject for mail in mailoutbox] == [], "the request sent the mail itself"

    run_worker()

    [email] = mailoutbox
    assert email.to == ["writer@example.com"]
    assert "Brewing with a kettle" in email.subject
    assert "Ada" in email.body
    assert "92 degrees for light roasts." in email.body
    assert f"/blog/{blog.pk}/" in email.body


@pytest.mark.course_only
def test_the_worker_sends_the_same_email_as_step_05(
    client, blog, settings, mailoutbox, run_worker, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/blog/{blog.pk}/", VALID_COMMENT)
    run_worker()

    [email] = mailoutbox
    assert email.subject == 'New comment on "Brewing with a kettle"'
    assert email.body == (
        'Ada (ada@example.com) commented on your post "Brewing with a kettle":\n\n'
        f"92 degrees for light roasts.\n\nRead it and reply: {settings.SITE_URL}/blog/{blog.pk}/\n"
    )
    assert email.from_email == settings.DEFAULT_FROM_EMAIL


def test_no_task_is_enqueued_before_the_commit(blog, enqueued, django_capture_on_commit_callbacks):
    """The receiver hands the enqueueing to transaction.on_commit() instead of doing it."""
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        Comment.objects.create(blog=blog, **VALID_COMMENT)

    assert [result.args for result in enqueued] == [], "the task was enqueued before the commit"
    assert len(callbacks) == 1, "no callback waits for the commit"


def test_a_rolled_back_comment_enqueues_nothing(blog, enqueued, django_capture_on_commit_callbacks):
    """A comment whose transaction rolls back never existed: nobody is told about it."""
    with django_capture_on_commit_callbacks(execute=True):
        with pytest.raises(RuntimeError), transaction.atomic():
            Comment.objects.create(blog=blog, **VALID_COMMENT)
            raise RuntimeError("something later in the request failed")

    assert not Comment.objects.exists()
    assert [result.args for result in enqueued] == [], (
        "a rolled-back comment was queued for an email"
    )


def test_an_author_without_email_gets_no_mail(
    client, blog, mailoutbox, run_worker, django_capture_on_commit_callbacks
):
    User.objects.filter(pk=blog.author.pk).update(email="")

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/blog/{blog.pk}/", VALID_COMMENT)
    run_worker()

    assert response.status_code == 302
    assert Comment.objects.count() == 1
    assert [mail.to for mail in mailoutbox] == [], "an email went to an author with no address"


def test_a_mail_failure_fails_the_task_is_logged_and_the_comment_kept(
    client,
    blog,
    settings,
    caplog,
    enqueued,
    run_worker,
    django_capture_on_commit_callbacks,
):
    """The task's result records the error; a task_finished receiver logs it with the comment."""
    settings.EMAIL_BACKEND = MAIL_SERVER_DOWN
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/blog/{blog.pk}/", VALID_COMMENT)

    with caplog.at_level(logging.ERROR):
        run_worker()

    assert response.status_code == 302
    comment = Comment.objects.get()
    [queued] = enqueued
    result = queued.task.get_result(queued.id)
    assert result.status == TaskResultStatus.FAILED
    assert result.errors[-1].exception_class_path == "builtins.ConnectionRefusedError"
    assert "mail server unreachable" in result.errors[-1].traceback
    ours = [r.getMessage() for r in caplog.records if r.name.startswith("blog")]
    assert len(ours) == 1, f"one log line from the blog app, not {ours}"
    assert f"comment {comment.pk}" in ours[0]


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"body": ""}, "body"),
        ({"email": "not-an-email"}, "email"),
        ({"name": ""}, "name"),
    ],
    ids=["empty-body", "bad-email", "no-name"],
)
def test_an_invalid_comment_shows_errors_and_saves_nothing(
    client, blog, enqueued, django_capture_on_commit_callbacks, changes, field
):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/blog/{blog.pk}/", {**VALID_COMMENT, **changes})

    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert not Comment.objects.exists()
    assert [result.args for result in enqueued] == [], "a refused comment was queued for an email"


def test_comments_loaded_from_fixtures_enqueue_nothing(
    blog, tmp_path, enqueued, django_capture_on_commit_callbacks
):
    """loaddata saves with raw=True: a comment that comes from a fixture is not news."""
    with django_capture_on_commit_callbacks(execute=False):
        comment = Comment.objects.create(blog=blog, **VALID_COMMENT)
    fixture = tmp_path / "comments.json"
    fixture.write_text(serializers.serialize("json", [comment]))
    comment.delete()

    with django_capture_on_commit_callbacks(execute=True):
        call_command("loaddata", str(fixture), verbosity=0)

    assert Comment.objects.count() == 1
    assert [result.args for result in enqueued] == [], (
        "a comment loaded by loaddata was queued for an email"
    )


# Without the test-wide transaction that pytest-django opens for every other test, the
# request commits (or rolls back) for real, as it does under runserver.
@pytest.mark.django_db(transaction=True)
def test_the_task_is_enqueued_after_the_views_commit(blog, enqueued):
    """post_save runs inside the view's atomic block, so on_commit waits for its COMMIT."""
    seen_by_receivers = []

    def note_the_transaction(sender, instance, **kwargs):
        seen_by_receivers.append(transaction.get_connection().in_atomic_block)

    post_save.connect(note_the_transaction, sender=Comment)
    try:
        response = Client().post(f"/blog/{blog.pk}/", VALID_COMMENT)
    finally:
        post_save.disconnect(note_the_transaction, sender=Comment)

    assert response.status_code == 302
    assert seen_by_receivers == [True], "post_save ran outside a transaction: wrap the save"
    assert [result.args for result in enqueued] == [[Comment.objects.get().pk]]


@pytest.mark.django_db(transaction=True)
def test_a_failure_after_the_save_rolls_the_comment_back_and_enqueues_nothing(blog, enqueued):
    """Another post_save receiver fails after ours: the request's whole transaction is undone."""

    def fail_after_the_save(sender, instance, **kwargs):
        raise RuntimeError("a later receiver failed")

    post_save.connect(fail_after_the_save, sender=Comment)
    try:
        response = Client(raise_request_exception=False).post(f"/blog/{blog.pk}/", VALID_COMMENT)
    finally:
        post_save.disconnect(fail_after_the_save, sender=Comment)

    assert response.status_code == 500
    assert not Comment.objects.exists(), "the comment was committed before the request failed"
    assert [result.args for result in enqueued] == [], (
        "a comment that was undone was queued for an email"
    )


def warnings_raised_as_errors(category):
    """Load the project in a fresh interpreter with one kind of warning turned into errors."""
    return subprocess.run(
        [
            sys.executable,
            "-W",
            f"error::{category}",
            "-c",
            "import django; django.setup()",
        ],
        capture_output=True,
        text=True,
    )


def test_email_backend_is_at_most_a_pending_deprecation():
    """Django 6.1 will drop EMAIL_BACKEND, but says so with a warning hidden by default."""
    assert warnings_raised_as_errors("DeprecationWarning").returncode == 0

    pending = warnings_raised_as_errors("PendingDeprecationWarning")
    if django.VERSION >= (6, 1):
        assert "RemovedInDjango2028Warning" in pending.stderr
        assert re.search(r"The EMAIL_\w+ setting is deprecated", pending.stderr)
    else:
        assert pending.returncode == 0, pending.stderr
