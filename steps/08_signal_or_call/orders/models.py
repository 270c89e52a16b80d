from functools import partial

from django.core.validators import MinValueValidator
from django.db import models, router, transaction

from orders.signals import order_confirmed
from products.models import Product
from products.stock import take_stock

# What confirm() reads again under its lock: every field, product included, also for
# an order loaded with only() or defer().
RELOADED_FIELDS = ["product", "quantity", "total_price", "confirmed"]


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
        update_fields = kwargs.get("update_fields")
        using = kwargs.get("using") or router.db_for_write(Order, instance=self)
        with transaction.atomic(using=using):
            self.refuse_a_change_of_confirmed(update_fields, using)
            # A confirmed order keeps the total it was confirmed at.
            recompute = update_fields is None or "total_price" in update_fields
            if recompute and not self.confirmed:
                self.total_price = self.product.price * self.quantity
            super().save(*args, **kwargs)

    def refuse_a_change_of_confirmed(self, update_fields, using):
        """Raise ValueError if this save would write another confirmed than the stored one.

        An order is confirmed by confirm(), which takes its stock, and never
        unconfirmed: a save that flipped the flag would do neither. The stored row is
        locked until the save is committed, so a confirmation cannot land in between.
        """
        if update_fields is not None and "confirmed" not in update_fields:
            return
        stored = False
        if self.pk is not None:
            row = Order.objects.using(using).select_for_update().filter(pk=self.pk)
            stored = bool(row.values_list("confirmed", flat=True).first())
        if self.confirmed != stored:
            raise ValueError(
                "An order is confirmed by Order.confirm() and never unconfirmed; "
                "save() does not change confirmed."
            )

    def confirm(self):
        """Confirm the order and take its stock; return False if it was confirmed already.

        Raises OutOfStock, and leaves the order unconfirmed, when the stock is short.
        The row is locked and read again first: what is stored decides, not this
        instance, which may be older than another request's confirmation or change.
        The lock holds until the caller's transaction ends, so two confirmations of
        one order take its stock once.
        """
        if self.pk is None:
            raise ValueError("Save the order before confirming it.")
        using = self._state.db or router.db_for_write(Order, instance=self)
        orders = Order.objects.using(using)
        locked = orders.select_for_update(of=("self",)).select_related("product")
        with transaction.atomic(using=using):
            self.refresh_from_db(fields=RELOADED_FIELDS, from_queryset=locked)
            if self.confirmed:
                return False
            take_stock(self.product, self.quantity)
            orders.filter(pk=self.pk).update(confirmed=True)
            self.confirmed = True
            # After the commit, to listeners the orders app does not know: send_robust
            # logs a listener's exception and goes on to the next one.
            announce = partial(order_confirmed.send_robust, sender=Order, order=self)
            transaction.on_commit(announce, using=using)
        return True
