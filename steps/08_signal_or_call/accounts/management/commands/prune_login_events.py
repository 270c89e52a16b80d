from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from accounts.models import LoginEvent


class Command(BaseCommand):
    help = (
        "Delete the login events older than the number of days given. Run it from a "
        "scheduler: every failed login adds a row, and nothing else removes them."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--older-than",
            type=int,
            required=True,
            metavar="DAYS",
            help="delete the events older than this many days; 0 deletes them all",
        )

    def handle(self, *args, older_than, **options):
        if older_than < 0:
            raise CommandError("--older-than takes a number of days, 0 or more.")
        cutoff = timezone.now() - timedelta(days=older_than)
        deleted, _ = LoginEvent.objects.filter(happened_at__lt=cutoff).delete()
        self.stdout.write(f"Deleted {deleted} login event(s) older than {older_than} day(s).")
