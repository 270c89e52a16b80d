from django.db import transaction
from django.db.models.signals import post_delete, post_init, post_save, pre_delete, pre_save
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


@receiver(post_init, sender=Product, dispatch_uid="note_loaded_image")
def note_loaded_image(sender, instance, **kwargs):
    """Note the image's name as the instance starts out, to tell later if a save changes it.

    A product loaded without its image (only(), defer()) has no name to note.
    """
    loaded = instance.__dict__.get("image")
    instance._loaded_image = getattr(loaded, "name", loaded)


@receiver(pre_save, sender=Product, dispatch_uid="note_replaced_image")
def note_replaced_image(sender, instance, using, update_fields, **kwargs):
    """Note the stored image that this save replaces, if it changes the image at all.

    An instance whose image is as it was loaded changes nothing, even if another
    request replaced the stored one since: a stale save must not delete that file.
    loaddata builds each instance from the fixture, so its image is as loaded too.
    """
    instance._replaced_image = None
    saves_the_image = update_fields is None or "image" in update_fields
    if instance.pk is None or not saves_the_image:
        return
    if instance.image.name == instance._loaded_image:
        return
    stored = Product.objects.using(using).filter(pk=instance.pk)
    instance._replaced_image = stored.values_list("image", flat=True).first()


@receiver(post_save, sender=Product, dispatch_uid="delete_replaced_image_file")
def delete_replaced_image_file(sender, instance, using, **kwargs):
    """Delete the old file when a save cleared or replaced the image, once committed."""
    old_name, instance._replaced_image = getattr(instance, "_replaced_image", None), None
    instance._loaded_image = instance.image.name
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
