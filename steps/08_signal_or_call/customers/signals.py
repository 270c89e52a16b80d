from django.conf import settings
from django.db.models.signals import post_save
from django.dispatch import receiver

from customers.models import Customer


@receiver(post_save, sender=settings.AUTH_USER_MODEL, dispatch_uid="create_customer_profile")
def create_customer_profile(sender, instance, created, raw, **kwargs):
    """Give every new user a customer profile, exactly once."""
    if created and not raw:
        Customer.objects.get_or_create(user=instance)
