from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError, connections, router
from django.utils import timezone

from products.models import Product


class Command(BaseCommand):
    help = (
        "Delete the files in the product images' folder that no product names. An upload "
        "whose transaction rolled back leaves such a file, and no signal is sent for it. "
        "Run it from a scheduler, as queue_missed_notifications is."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--older-than",
            type=int,
            default=60,
            metavar="MINUTES",
            help="leave newer files alone: their product may not be committed yet (default: 60)",
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="list the files, and delete nothing"
        )

    def handle(self, *args, older_than, dry_run, **options):
        if older_than < 0:
            raise CommandError("--older-than takes a number of minutes, 0 or more.")
        field = Product._meta.get_field("image")
        storage, folder = field.storage, field.upload_to
        cutoff = timezone.now() - timedelta(minutes=older_than)
        named = names_in_use()
        unused = [
            name
            for name in files_in(storage, folder)
            if name not in named and storage.get_modified_time(name) <= cutoff
        ]
        for name in unused:
            if not dry_run:
                storage.delete(name)
            self.stdout.write(name)
        verb = "Would delete" if dry_run else "Deleted"
        self.stdout.write(f"{verb} {len(unused)} unused image file(s).")


def names_in_use():
    """Every image name that a product has, on every database that holds products.

    The files are shared: a file that one database no longer names may be another's.
    """
    names = set()
    for alias in connections:
        if router.allow_migrate_model(alias, Product):
            try:
                names.update(Product.objects.using(alias).values_list("image", flat=True))
            except DatabaseError as error:
                raise CommandError(
                    f"Could not read the products on the database {alias!r} ({error}): "
                    "nothing was deleted."
                ) from error
    return names


def files_in(storage, folder):
    """Every file under folder in storage, as the names a FileField stores."""
    if not storage.exists(folder):
        return
    folders, files = storage.listdir(folder)
    for file in files:
        yield f"{folder.rstrip('/')}/{file}"
    for subfolder in folders:
        yield from files_in(storage, f"{folder.rstrip('/')}/{subfolder}")
