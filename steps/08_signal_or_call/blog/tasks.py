import contextlib

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone
from django.utils.text import Truncator

# The tasks framework is part of Django from 6.0; Django 5.2 LTS gets the same API from
# the django-tasks backport. This module is the only one that chooses.
try:
    from django.tasks import TaskResultStatus, task
    from django.tasks.signals import task_enqueued, task_finished, task_started
except ImportError:
    from django_tasks import TaskResultStatus, task
    from django_tasks.signals import task_enqueued, task_finished, task_started

from blog.models import Comment

# django-tasks-rq sends the backport's signals, on Django 6 too: listen to both there.
TASK_FINISHED_SIGNALS = [task_finished]
with contextlib.suppress(ImportError):
    from django_tasks.signals import task_finished as backport_task_finished

    if backport_task_finished is not task_finished:
        TASK_FINISHED_SIGNALS.append(backport_task_finished)

__all__ = [
    "TASK_FINISHED_SIGNALS",
    "TaskResultStatus",
    "notify_author",
    "task_enqueued",
    "task_finished",
    "task_started",
]


@task()
def notify_author(comment_id):
    """Email the post's author about a comment, once. A mail error fails the task.

    The comment's row stays locked until the email is sent and ``notified_at`` is set,
    so a second job for the same comment waits, then finds it notified and stops. A
    mail error rolls ``notified_at`` back: running the task again sends the email.
    """
    with transaction.atomic():
        comment = (
            Comment.objects.select_for_update(of=("self",))
            .select_related("blog__author")
            .filter(pk=comment_id, notified_at__isnull=True)
            .first()
        )
        if comment is None or not comment.blog.author.email:
            return  # deleted, already notified, or an author without an address
        send_mail(
            subject=f'New comment on "{comment.blog.title}"',
            message=notification_text(comment),
            from_email=None,  # settings.DEFAULT_FROM_EMAIL
            recipient_list=[comment.blog.author.email],
        )
        Comment.objects.filter(pk=comment.pk).update(notified_at=timezone.now())


def notification_text(comment):
    excerpt = Truncator(comment.body).words(30)
    link = settings.SITE_URL + comment.blog.get_absolute_url()
    return (
        f"{comment.name} ({comment.email}) commented on your post "
        f'"{comment.blog.title}":\n\n{excerpt}\n\nRead it and reply: {link}\n'
    )
