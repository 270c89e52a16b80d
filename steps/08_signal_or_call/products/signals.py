from django.db import transaction
from django.db.models.signals import post_delete, post_save, pre_delete, pre_save
from django.dispatch import receiver

from products.models import Product


@receiver(pre_delete, sender=Product, dispatch_uid="note_image_of_deleted_product")
def note_image_of_deleted_product(sender, instance, **kwargs):
    """Note the image's name while the row is still there to read it from.

    A product loaded with only() or defer() has no image in memory; reading it in
    post_delete would make Django load it from a row that is gone (DoesNotExist).
    """
    instance._image_to_delete = instance.image.name


@receiver(post_delete, sender=Product, dispatch_uid="delete_image_file")
def delete_image_file(sender, instance, using, **kwargs):
    """Delete the product's image file, once the delete is committed."""
    delete_unused_file_on_commit(instance.image.storage, instance._image_to_delete, using)


@receiver(pre_save, sender=Product, dispatch_uid="note_stored_image")
def note_stored_image(sender, instance, raw, using, update_fields, **kwargs):
    """Note the image the row has now, so that post_save can tell it was replaced.

    A product loaded with only() or defer() saves only the fields it loaded, so
    update_fields says whether the image may change.
    """
    instance._stored_image = None
    image_may_change = update_fields is None or "image" in update_fields
    if raw or instance.pk is None or not image_may_change:
        return
    stored = Product.objects.using(using).filter(pk=instance.pk)
    instance._stored_image = stored.values_list("image", flat=True).first()


@receiver(post_save, sender=Product, dispatch_uid="delete_replaced_image_file")
def delete_replaced_image_file(sender, instance, using, **kwargs):
    """Delete the old file when a save cleared or replaced the image, once committed."""
    old_name = getattr(instance, "_stored_image", None)
    if old_name and old_name != instance.image.name:
        delete_unused_file_on_commit(instance.image.storage, old_name, using)


def delete_unused_file_on_commit(storage, name, using):
    """After the commit, delete the file unless a product still names it.

    Django itself never deletes a FileField's file: a rolled-back delete would lose
    it, and so would deleting a file that another row shares (a product copied
    with ``pk = None; save()`` names the same file). Waiting for the commit, then
    looking for such a row, answers both.
    """
    if not name:
        return

    def delete_if_unused():
        if not Product.objects.using(using).filter(image=name).exists():
            storage.delete(name)

    # robust=True: an error is logged and the other callbacks still run; without it,
    # the exception would reach whoever committed (a 500, though the delete stands).
    transaction.on_commit(delete_if_unused, using=using, robust=True)
