from django.core.management.base import BaseCommand

from orders.models import Order
from sales.tasks import record_sale


class Command(BaseCommand):
    help = (
        "Record the sale of every confirmed order that has none: those whose task was "
        "lost or never queued. Run it from a scheduler. No order gets two sales."
    )

    def handle(self, *args, **options):
        missing = Order.objects.filter(confirmed=True, sale__isnull=True)
        recorded = sum(
            record_sale.call(order_id) for order_id in missing.values_list("pk", flat=True)
        )
        self.stdout.write(f"Recorded the sale of {recorded} order(s).")
