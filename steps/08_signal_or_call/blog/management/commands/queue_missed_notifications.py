from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from blog.models import Comment
from blog.tasks import notify_author


class Command(BaseCommand):
    help = (
        "Queue the author's email for every comment still waiting for it: those whose "
        "email could not be queued, or whose task was lost. Run it from a scheduler. "
        "A comment already emailed is never emailed again."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--older-than",
            type=int,
            default=10,
            metavar="MINUTES",
            help="leave newer comments to the queue and its workers (default: 10)",
        )

    def handle(self, *args, older_than, **options):
        if older_than < 0:
            raise CommandError("--older-than takes a number of minutes, 0 or more.")
        due_before = timezone.now() - timedelta(minutes=older_than)
        due = Comment.objects.filter(
            notified_at__isnull=True,
            created_at__lte=due_before,
        ).exclude(blog__author__email="")
        queued = 0
        for comment_id in due.values_list("pk", flat=True):
            try:
                notify_author.enqueue(comment_id)
            except Exception as error:  # the queue is still down: try again later
                raise CommandError(
                    f"Queued {queued} email(s), then could not queue comment {comment_id}'s: "
                    f"{error!r}. Run this again once the queue is back."
                ) from error
            queued += 1
        self.stdout.write(f"Queued the email for {queued} comment(s).")
        # Said, so that a sweep run right after a fault does not look as if it did nothing.
        younger = Comment.objects.filter(notified_at=None, created_at__gt=due_before)
        left = younger.exclude(blog__author__email="").count()
        if left:
            self.stdout.write(
                f"Left {left} younger than {older_than} minute(s) to the workers; "
                "--older-than 0 queues them too."
            )
