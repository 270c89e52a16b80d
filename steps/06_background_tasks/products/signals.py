import logging

from django.db.models import F
from django.db.models.signals import post_save, pre_save
from django.dispatch import receiver

from orders.models import Order
from products.exceptions import OutOfStock
from products.models import Product

logger = logging.getLogger(__name__)


@receiver(pre_save, sender=Order, dispatch_uid="note_order_confirmation")
def note_order_confirmation(sender, instance, raw, update_fields, **kwargs):
    """Note on the order itself whether this save turns it from unconfirmed to confirmed.

    The note travels on the instance, which belongs to the request that saves it, so
    concurrent requests never see each other's notes (a module-level variable would
    be shared by every thread).
    """
    instance._is_being_confirmed = not raw and is_being_confirmed(instance, update_fields)


def is_being_confirmed(order, update_fields):
    if not order.confirmed or (update_fields is not None and "confirmed" not in update_fields):
        return False
    if order.pk is None:
        return True
    # Order.save() runs in a transaction, so this lock holds until the stock is taken.
    stored = Order.objects.select_for_update().filter(pk=order.pk)
    return stored.values_list("confirmed", flat=True).first() is not True


@receiver(post_save, sender=Order, dispatch_uid="update_quantity_on_order_confirmation")
def update_quantity_on_order_confirmation(sender, instance, **kwargs):
    """Take the order's quantity out of stock when the save just confirmed it."""
    if not getattr(instance, "_is_being_confirmed", False):
        return
    instance._is_being_confirmed = False
    product = instance.product
    # One UPDATE that checks and subtracts in the database: two confirmations at
    # once can neither both read the same old quantity nor take more than there is.
    in_stock = Product.objects.filter(pk=product.pk, quantity__gte=instance.quantity)
    taken = in_stock.update(quantity=F("quantity") - instance.quantity)
    product.refresh_from_db(fields=["quantity"])
    if not taken:
        raise OutOfStock(product, requested=instance.quantity)
    logger.info("Quantity updated for %s. New quantity: %s", product.name, product.quantity)
