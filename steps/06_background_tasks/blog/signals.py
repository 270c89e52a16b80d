import logging
from functools import partial

from django.db import transaction
from django.db.models.signals import post_save
from django.dispatch import receiver

from blog.models import Comment
from blog.tasks import TaskResultStatus, notify_author, task_finished

logger = logging.getLogger(__name__)


@receiver(post_save, sender=Comment, dispatch_uid="send_comment_notification")
def send_comment_notification(sender, instance, created, raw, **kwargs):
    """Queue the email to the post's author, once the comment is committed."""
    if created and not raw:
        # After the commit: a worker must find the comment, and a rolled-back comment
        # must queue nothing. The task gets the id: its arguments are stored as JSON.
        transaction.on_commit(partial(notify_author.enqueue, instance.pk))


@receiver(task_finished, dispatch_uid="log_failed_notification")
def log_failed_notification(sender, task_result, **kwargs):
    """Name the comment whose email failed, and the error, for whoever runs the site.

    One line per failure; the whole traceback stays in the task's result.
    """
    is_ours = task_result.task.module_path == notify_author.module_path
    if not is_ours or task_result.status != TaskResultStatus.FAILED:
        return
    [comment_id] = task_result.args
    # RQ announces the failure before it records the error: then there is none yet.
    errors = task_result.errors
    exception = errors[-1].traceback.strip().splitlines()[-1] if errors else "see the result"
    logger.error(
        "Could not email the author about comment %s (task %s): %s",
        comment_id,
        task_result.id,
        exception,
    )
