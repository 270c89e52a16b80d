from django.dispatch import receiver

from orders.models import Order
from orders.signals import order_confirmed
from sales.tasks import record_sale


@receiver(order_confirmed, sender=Order, dispatch_uid="queue_sale")
def queue_sale(sender, order, **kwargs):
    """Queue the sale's recording. orders announces confirmations; it does not know this app.

    The announcement comes once, after the commit, and nothing sends it again: a queue
    that is down, or a process that dies first, loses it. record_missing_sales finds
    the confirmed orders that have no sale and records theirs.
    """
    record_sale.enqueue(order.pk)
