import logging

from django.db.models import F

from products.exceptions import OutOfStock
from products.models import Product

logger = logging.getLogger(__name__)


def take_stock(product, quantity):
    """Take quantity items of product out of stock, or raise OutOfStock.

    One UPDATE that checks and subtracts in the database: two confirmations at once
    can neither both read the same old quantity nor take more than there is.
    """
    in_stock = Product.objects.using(product._state.db).filter(
        pk=product.pk, quantity__gte=quantity
    )
    taken = in_stock.update(quantity=F("quantity") - quantity)
    product.refresh_from_db(fields=["quantity"])
    if not taken:
        raise OutOfStock(product, requested=quantity)
    logger.info("Quantity updated for %s. New quantity: %s", product.name, product.quantity)
