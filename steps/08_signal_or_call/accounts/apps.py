from django.apps import AppConfig
from django.db.models.signals import post_migrate


class AccountsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "accounts"

    def ready(self):
        from accounts import signals

        # post_migrate is sent once per app with models, each time migrate runs:
        # sender=self runs this once. INSTALLED_APPS lists accounts after products
        # and orders, whose permissions exist by the time it runs for accounts.
        post_migrate.connect(
            signals.create_shop_staff_group, sender=self, dispatch_uid="create_shop_staff_group"
        )
