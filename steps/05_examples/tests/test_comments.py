"""The blog's comment form, and the email its post_save receiver sends after commit."""

import logging
import re
import subprocess
import sys

import django
import pytest
from django.contrib.auth import get_user_model
from django.core import serializers
from django.core.management import call_command
from django.db import transaction
from django.db.models.signals import post_save
from django.test import Client

from blog.models import Blog, Comment

pytestmark = pytest.mark.django_db
User = get_user_model()
VALID_COMMENT = {"name": "Ada", "email": "ada@example.com", "body": "92 degrees for light roasts."}


class FailingEmailBackend:
    """A mail backend whose server is down."""

    def __init__(self, **kwargs):
        pass

    def send_messages(self, messages):
        raise ConnectionRefusedError("mail server unreachable")


@pytest.fixture
def blog():
    author = User.objects.create_user("writer", email="writer@example.com")
    return Blog.objects.create(title="Brewing with a kettle", body="Pour slowly.", author=author)


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


def test_a_comment_is_saved_and_emails_the_author_once(
    client, blog, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/blog/{blog.pk}/", VALID_COMMENT, follow=True)

    assert response.redirect_chain == [(f"/blog/{blog.pk}/", 302)]
    assert [str(m) for m in response.context["messages"]] == [
        "Thank you, your comment is published."
    ]
    assert Comment.objects.filter(blog=blog).count() == 1
    [email] = mailoutbox
    assert email.to == ["writer@example.com"]
    assert "Brewing with a kettle" in email.subject
    assert "Ada" in email.body
    assert "92 degrees for light roasts." in email.body
    assert f"/blog/{blog.pk}/" in email.body


def test_no_email_is_sent_before_the_commit(blog, mailoutbox, django_capture_on_commit_callbacks):
    """The receiver hands the email to transaction.on_commit() instead of sending it."""
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        Comment.objects.create(blog=blog, **VALID_COMMENT)

    assert [mail.subject for mail in mailoutbox] == [], "the email went out before the commit"
    assert len(callbacks) == 1, "no callback waits for the commit"


def test_a_rolled_back_comment_sends_nothing(blog, mailoutbox, django_capture_on_commit_callbacks):
    """A comment whose transaction rolls back never existed: nobody is told about it."""
    with django_capture_on_commit_callbacks(execute=True):
        with pytest.raises(RuntimeError), transaction.atomic():
            Comment.objects.create(blog=blog, **VALID_COMMENT)
            raise RuntimeError("something later in the request failed")

    assert not Comment.objects.exists()
    assert [mail.subject for mail in mailoutbox] == [], "a rolled-back comment was emailed"


def test_an_author_without_email_gets_no_mail(
    client, blog, mailoutbox, django_capture_on_commit_callbacks
):
    User.objects.filter(pk=blog.author.pk).update(email="")

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/blog/{blog.pk}/", VALID_COMMENT)

    assert response.status_code == 302
    assert Comment.objects.count() == 1
    assert [mail.to for mail in mailoutbox] == [], "an email went to an author with no address"


def test_a_mail_failure_is_logged_and_the_comment_kept(
    client, blog, settings, caplog, django_capture_on_commit_callbacks
):
    settings.EMAIL_BACKEND = f"{__name__}.FailingEmailBackend"

    with caplog.at_level(logging.ERROR), django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/blog/{blog.pk}/", VALID_COMMENT)

    assert response.status_code == 302
    assert Comment.objects.count() == 1
    [record] = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert "writer@example.com" in record.getMessage()
    assert "mail server unreachable" in record.exc_text


@pytest.mark.parametrize(
    ("changes", "field"),
    [({"body": ""}, "body"), ({"email": "not-an-email"}, "email"), ({"name": ""}, "name")],
    ids=["empty-body", "bad-email", "no-name"],
)
def test_an_invalid_comment_shows_errors_and_saves_nothing(
    client, blog, mailoutbox, django_capture_on_commit_callbacks, changes, field
):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/blog/{blog.pk}/", {**VALID_COMMENT, **changes})

    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert not Comment.objects.exists()
    assert [mail.subject for mail in mailoutbox] == [], "a refused comment was emailed"


def test_comments_loaded_from_fixtures_send_nothing(
    blog, tmp_path, mailoutbox, django_capture_on_commit_callbacks
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
    assert [mail.subject for mail in mailoutbox] == [], "a comment loaded by loaddata was emailed"


# Without the test-wide transaction that pytest-django opens for every other test, the
# request commits (or rolls back) for real, as it does under runserver.
@pytest.mark.django_db(transaction=True)
def test_the_view_saves_the_comment_in_a_transaction_and_mails_after_it(blog, mailoutbox):
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
    assert Comment.objects.count() == 1
    assert [mail.to for mail in mailoutbox] == [["writer@example.com"]]


@pytest.mark.django_db(transaction=True)
def test_a_failure_after_the_save_rolls_the_comment_back_and_mails_nothing(blog, mailoutbox):
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
    assert [mail.subject for mail in mailoutbox] == [], "a comment that was undone was emailed"


def setup_warnings():
    """Load the project in a fresh interpreter: a deprecation fails it, pending ones print."""
    return subprocess.run(
        [
            *[sys.executable, "-W", "error::DeprecationWarning"],
            *["-W", "always::PendingDeprecationWarning", "-c", "import django; django.setup()"],
        ],
        capture_output=True,
        text=True,
    )


def test_email_backend_is_at_most_a_pending_deprecation():
    """Django 6.1 will drop EMAIL_BACKEND, but says so with a warning hidden by default."""
    loaded = setup_warnings()

    assert loaded.returncode == 0, loaded.stderr
    if django.VERSION >= (6, 1):
        assert "RemovedInDjango2028Warning" in loaded.stderr
        assert re.search(r"The EMAIL_\w+ setting is deprecated", loaded.stderr)
    else:
        assert loaded.stderr == ""
