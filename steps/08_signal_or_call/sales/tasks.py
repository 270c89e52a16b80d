# blog.tasks is the one module that chooses between Django 6's tasks and the backport.
from blog.tasks import task
from orders.models import Order
from sales.models import Sale


@task()
def record_sale(order_id):
    """Record the sale of a confirmed order, once; return whether this run recorded it.

    Running it again, or beside the record_missing_sales command, records nothing
    more: an order has at most one sale.
    """
    order = Order.objects.select_related("product").filter(pk=order_id, confirmed=True).first()
    if order is None:
        return False  # deleted since, or not confirmed
    _sale, recorded = Sale.objects.get_or_create(
        order=order,
        defaults={
            "order_number": order.pk,
            "product_name": order.product.name,
            "quantity": order.quantity,
            "total_price": order.total_price,
        },
    )
    return recorded
