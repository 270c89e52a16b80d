from django.core.validators import MinValueValidator
from django.db import models, transaction

from products.models import Product


class Order(models.Model):
    product = models.ForeignKey(Product, on_delete=models.CASCADE)
    quantity = models.PositiveIntegerField(validators=[MinValueValidator(1)])
    total_price = models.DecimalField(max_digits=10, decimal_places=2, blank=True, null=True)
    confirmed = models.BooleanField(default=False)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(quantity__gte=1),
                name="order_quantity_at_least_one",
            ),
        ]

    def __str__(self):
        return f"{self.quantity} x {self.product.name}"

    def save(self, *args, **kwargs):
        self.total_price = self.product.price * self.quantity
        # pre_save and post_save receivers run inside save(): one transaction makes
        # their writes (the stock) and this row commit or roll back together.
        with transaction.atomic(savepoint=False):
            super().save(*args, **kwargs)
