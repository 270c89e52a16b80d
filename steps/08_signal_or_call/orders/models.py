from functools import partial

from django.core.validators import MinValueValidator
from django.db import models, transaction

from orders.signals import order_confirmed
from products.models import Product
from products.stock import take_stock


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
        super().save(*args, **kwargs)

    def confirm(self):
        """Confirm the order and take its stock; return False if it was confirmed already.

        Raises OutOfStock, and leaves the order unconfirmed, when the stock is short.
        The order's row stays locked until the caller's transaction ends, so two
        confirmations of one order take its stock once.
        """
        with transaction.atomic():
            stored = Order.objects.select_for_update().filter(pk=self.pk)
            if stored.values_list("confirmed", flat=True).get():
                self.confirmed = True
                return False
            take_stock(self.product, self.quantity)
            self.confirmed = True
            self.save(update_fields=["confirmed"])
            # After the commit, to listeners the orders app does not know: send_robust
            # logs a listener's exception and goes on to the next one.
            announce = partial(order_confirmed.send_robust, sender=Order, order=self)
            transaction.on_commit(announce)
        return True
