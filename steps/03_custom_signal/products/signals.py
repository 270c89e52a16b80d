import logging

from django.db.models import F
from django.dispatch import receiver

from orders.models import Order
from orders.signals import order_confirmed
from products.exceptions import OutOfStock
from products.models import Product

logger = logging.getLogger(__name__)


@receiver(order_confirmed, sender=Order, dispatch_uid="update_quantity_on_order_confirmation")
def update_quantity_on_order_confirmation(sender, order, **kwargs):
    """Take a confirmed order's quantity out of its product's stock."""
    product = order.product
    # One UPDATE that checks and subtracts in the database: two confirmations at
    # once can neither both read the same old quantity nor take more than there is.
    in_stock = Product.objects.filter(pk=product.pk, quantity__gte=order.quantity)
    taken = in_stock.update(quantity=F("quantity") - order.quantity)
    product.refresh_from_db(fields=["quantity"])
    if not taken:
        raise OutOfStock(product, requested=order.quantity)
    logger.info("Quantity updated for %s. New quantity: %s", product.name, product.quantity)
