import logging

from django.db.models import F

from products.exceptions import OutOfStock
from products.models import Product

log = logging.getLogger("products")


def update_quantity_on_order_confirmation(sender, order, **kwargs):
    rows = Product.objects.filter(id=order.product_id, quantity__gte=order.quantity).update(
        quantity=F("quantity") - order.quantity
    )
    product = Product.objects.get(id=order.product_id)
    if rows == 0:
        raise OutOfStock(product, order.quantity)
    log.info(f"Quantity updated for {product.name}. New quantity: {product.quantity}")
