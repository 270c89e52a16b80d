from django.core.management.base import BaseCommand, CommandError

from orders.models import Order
from sales.tasks import record_sale


class Command(BaseCommand):
    help = (
        "Record the sale of every confirmed order that has none: those whose task was "
        "lost or never queued. Run it from a scheduler. No order gets two sales."
    )

    def handle(self, *args, **options):
        missing = Order.objects.filter(confirmed=True, sale__isnull=True).order_by("pk")
        # update() and bulk_create() can write an order without its total: say so,
        # and go on with the others.
        without_total = list(missing.filter(total_price__isnull=True).values_list("pk", flat=True))
        to_record = missing.exclude(pk__in=without_total).values_list("pk", flat=True)
        recorded = sum(record_sale.call(order_id) for order_id in to_record)
        self.stdout.write(f"Recorded the sale of {recorded} order(s).")
        if without_total:
            numbers = ", ".join(str(number) for number in without_total)
            raise CommandError(f"No total_price, so no sale recorded, for order(s) {numbers}.")
