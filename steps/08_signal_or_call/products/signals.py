from django.db import transaction
from django.db.models.signals import post_delete
from django.dispatch import receiver

from products.models import Product


@receiver(post_delete, sender=Product, dispatch_uid="delete_image_file")
def delete_image_file(sender, instance, using, **kwargs):
    """Delete the product's image file, once the delete is committed.

    Django never deletes a FileField's file. Deleting it here, before the commit,
    would leave a product whose delete rolled back without its image.
    """
    if not instance.image:
        return
    storage, name = instance.image.storage, instance.image.name

    def delete_file():
        storage.delete(name)

    # robust=True: a file that cannot be deleted is logged, and the delete stands.
    transaction.on_commit(delete_file, using=using, robust=True)
