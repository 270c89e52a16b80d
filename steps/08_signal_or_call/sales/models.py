from django.db import models


class Sale(models.Model):
    """One line of the sales log, written when an order's confirmation is committed.

    It copies what it needs from the order, so that it outlives the order: deleting a
    product deletes its orders, not its sales. The order's number is a plain column,
    not a foreign key, so that deleting orders never has to touch this table.
    """

    order_number = models.PositiveBigIntegerField(unique=True)
    product_name = models.CharField(max_length=100)
    quantity = models.PositiveIntegerField()
    total_price = models.DecimalField(max_digits=10, decimal_places=2)
    recorded_at = models.DateTimeField(auto_now_add=True)

    def __str__(self):
        return f"{self.quantity} x {self.product_name}"
