from django.db import models

from orders.models import Order


class Sale(models.Model):
    """One line of the sales log: a confirmed order, as the sales task found it.

    It copies what it needs from the order, so that it outlives the order: deleting
    a product deletes its orders, not its sales. The quantity and total are those
    the order was confirmed with; the product's name is the one it had when the task
    ran. The link to the order makes a second sale for the same order impossible;
    when the order is deleted, the link is cleared, and order_number keeps its number.
    """

    order = models.OneToOneField(
        Order, null=True, blank=True, on_delete=models.SET_NULL, related_name="sale"
    )
    order_number = models.PositiveBigIntegerField()
    product_name = models.CharField(max_length=100)
    quantity = models.PositiveIntegerField()
    total_price = models.DecimalField(max_digits=10, decimal_places=2)
    recorded_at = models.DateTimeField(auto_now_add=True)

    def __str__(self):
        return f"{self.quantity} x {self.product_name}"
