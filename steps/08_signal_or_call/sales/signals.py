from django.dispatch import receiver

from orders.models import Order
from orders.signals import order_confirmed
from sales.models import Sale


@receiver(order_confirmed, sender=Order, dispatch_uid="record_sale")
def record_sale(sender, order, **kwargs):
    """Log the sale. orders announces confirmations; it does not know this app exists."""
    Sale.objects.get_or_create(
        order_number=order.pk,
        defaults={
            "product_name": order.product.name,
            "quantity": order.quantity,
            "total_price": order.total_price,
        },
    )
