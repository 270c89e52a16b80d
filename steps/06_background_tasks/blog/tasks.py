from django.conf import settings
from django.core.mail import send_mail
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

__all__ = [
    "TaskResultStatus",
    "notify_author",
    "task_enqueued",
    "task_finished",
    "task_started",
]


@task()
def notify_author(comment_id):
    """Email the post's author about a comment. A mail error fails the task, and is kept."""
    comment = Comment.objects.select_related("blog__author").filter(pk=comment_id).first()
    if comment is None or not comment.blog.author.email:
        return  # deleted since, or an author without an address: nothing to do
    send_mail(
        subject=f'New comment on "{comment.blog.title}"',
        message=notification_text(comment),
        from_email=None,  # settings.DEFAULT_FROM_EMAIL
        recipient_list=[comment.blog.author.email],
    )


def notification_text(comment):
    excerpt = Truncator(comment.body).words(30)
    link = settings.SITE_URL + comment.blog.get_absolute_url()
    return (
        f"{comment.name} ({comment.email}) commented on your post "
        f'"{comment.blog.title}":\n\n{excerpt}\n\nRead it and reply: {link}\n'
    )
