import logging
from functools import partial

from django.db import transaction
from django.db.models.signals import post_save
from django.dispatch import receiver

from blog.models import Comment
from blog.tasks import TASK_FINISHED_SIGNALS, TaskResultStatus, notify_author

logger = logging.getLogger(__name__)


@receiver(post_save, sender=Comment, dispatch_uid="send_comment_notification")
def send_comment_notification(sender, instance, created, raw, **kwargs):
    """Queue the email to the post's author, once the comment is committed."""
    if created and not raw:
        # After the commit: a worker must find the comment, and a rolled-back comment
        # must queue nothing. The task gets the id: its arguments are stored as JSON.
        transaction.on_commit(partial(queue_notification, instance.pk))


def queue_notification(comment_id):
    """Enqueue the author's email; if the queue cannot take it, log it and go on.

    This runs after the COMMIT: the comment is saved whatever happens here, and an
    exception would only turn the reader's answer into an error page. The comment keeps
    no ``notified_at``, so ``manage.py queue_missed_notifications`` queues it later.
    """
    try:
        notify_author.enqueue(comment_id)
    except Exception as error:  # each backend raises its own: Redis, the database, ...
        logger.error(
            "Could not queue the email about comment %s (%s: %s); "
            "manage.py queue_missed_notifications will queue it",
            comment_id,
            type(error).__name__,
            error,
        )


@receiver(TASK_FINISHED_SIGNALS, dispatch_uid="log_failed_notification")
def log_failed_notification(sender, task_result, **kwargs):
    """Name the comment whose email failed, and the error, for whoever runs the site.

    One line per failure; the whole traceback stays in the task's result. The worker
    sends this signal in the middle of its own bookkeeping, where an exception would
    stop db_worker, so nothing here may raise.
    """
    is_ours = task_result.task.module_path == notify_author.module_path
    if not is_ours or task_result.status != TaskResultStatus.FAILED:
        return
    # RQ announces the failure before it records the error: then there is none yet.
    lines = task_result.errors[-1].traceback.strip().splitlines() if task_result.errors else []
    exception = lines[-1] if lines else "see the result"
    logger.error(
        "Could not email the author about comment %s (task %s): %s",
        comment_id_of(task_result),
        task_result.id,
        exception,
    )


def comment_id_of(task_result):
    """notify_author.enqueue(42) and notify_author.enqueue(comment_id=42) both mean 42."""
    if task_result.args:
        return task_result.args[0]
    return task_result.kwargs.get("comment_id")
