import logging
from functools import partial

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.db.models.signals import post_save
from django.dispatch import receiver
from django.utils.text import Truncator

from blog.models import Comment

logger = logging.getLogger(__name__)


@receiver(post_save, sender=Comment, dispatch_uid="send_comment_notification")
def send_comment_notification(sender, instance, created, raw, **kwargs):
    """Email the post's author about a new comment, once the comment is committed."""
    if created and not raw:
        # Not now: the transaction that saves the comment may still roll back.
        transaction.on_commit(partial(email_author, instance))


def email_author(comment):
    author = comment.blog.author
    if not author.email:
        return
    try:
        send_mail(
            subject=f'New comment on "{comment.blog.title}"',
            message=notification_text(comment),
            from_email=None,  # settings.DEFAULT_FROM_EMAIL
            recipient_list=[author.email],
        )
    except Exception:
        # Whatever the mail backend raises, the comment is saved and the commenter
        # is done; the failure belongs in the log, not in their response.
        logger.exception("Could not email %s about comment %s", author.email, comment.pk)


def notification_text(comment):
    excerpt = Truncator(comment.body).words(30)
    link = settings.SITE_URL + comment.blog.get_absolute_url()
    return (
        f"{comment.name} ({comment.email}) commented on your post "
        f'"{comment.blog.title}":\n\n{excerpt}\n\nRead it and reply: {link}\n'
    )
