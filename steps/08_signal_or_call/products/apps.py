from django.apps import AppConfig


class ProductsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "products"

    def ready(self):
        # Importing the module runs its @receiver decorators, which connect the receivers.
        from products import signals  # noqa: F401
