from django.apps import AppConfig


class ProductsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "products"

    def ready(self):
        from orders.models import Order
        from orders.signals import order_confirmed
        from products.signals import update_quantity_on_order_confirmation

        order_confirmed.connect(
            update_quantity_on_order_confirmation, sender=Order, dispatch_uid="stock-update"
        )
