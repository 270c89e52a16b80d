import logging

from django.db import transaction
from django.db.models import Count, F, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.db.models.signals import (
    m2m_changed,
    post_delete,
    post_init,
    post_save,
    pre_delete,
    pre_save,
)
from django.dispatch import receiver

from orders.models import Order
from products.exceptions import OutOfStock
from products.models import Product, Tag

logger = logging.getLogger(__name__)


@receiver(pre_save, sender=Order, dispatch_uid="note_order_confirmation")
def note_order_confirmation(sender, instance, raw, update_fields, **kwargs):
    """Note on the order itself whether this save turns it from unconfirmed to confirmed.

    The note travels on the instance, which belongs to the request that saves it, so
    concurrent requests never see each other's notes (a module-level variable would
    be shared by every thread).
    """
    instance._is_being_confirmed = not raw and is_being_confirmed(instance, update_fields)


def is_being_confirmed(order, update_fields):
    if not order.confirmed or (update_fields is not None and "confirmed" not in update_fields):
        return False
    if order.pk is None:
        return True
    # Order.save() runs in a transaction, so this lock holds until the stock is taken.
    stored = Order.objects.select_for_update().filter(pk=order.pk)
    return stored.values_list("confirmed", flat=True).first() is not True


@receiver(post_save, sender=Order, dispatch_uid="update_quantity_on_order_confirmation")
def update_quantity_on_order_confirmation(sender, instance, **kwargs):
    """Take the order's quantity out of stock when the save just confirmed it."""
    if not getattr(instance, "_is_being_confirmed", False):
        return
    instance._is_being_confirmed = False
    product = instance.product
    # One UPDATE that checks and subtracts in the database: two confirmations at
    # once can neither both read the same old quantity nor take more than there is.
    in_stock = Product.objects.filter(pk=product.pk, quantity__gte=instance.quantity)
    taken = in_stock.update(quantity=F("quantity") - instance.quantity)
    product.refresh_from_db(fields=["quantity"])
    if not taken:
        raise OutOfStock(product, requested=instance.quantity)
    logger.info("Quantity updated for %s. New quantity: %s", product.name, product.quantity)


@receiver(m2m_changed, sender=Product.tags.through, dispatch_uid="count_products_per_tag")
def count_products_per_tag(sender, instance, action, reverse, pk_set, using, **kwargs):
    """Keep each tag's product_count right, whichever side of the relation changed.

    From a product (``product.tags.add(tag)``), instance is the product and pk_set
    holds tag ids. From a tag (``tag.products.add(product)``, reverse=True), instance
    is the tag and pk_set holds product ids. pre_add and pre_remove need nothing:
    post_add and post_remove carry the same pk_set, once the rows are written.
    """
    if reverse:
        if action.startswith("post_"):
            recount_products([instance.pk], using)
    elif action == "pre_clear":
        # post_clear's pk_set is None and the rows are gone by then: note them now.
        instance._cleared_tag_ids = list(instance.tags.values_list("pk", flat=True))
    elif action == "post_clear":
        recount_products(instance._cleared_tag_ids, using)
    elif action in {"post_add", "post_remove"}:
        recount_products(pk_set, using)


def recount_products(tag_ids, using):
    """Count each tag's products in the database and store the counts.

    The tag rows are locked first, then counted. On PostgreSQL, an UPDATE that waits
    for another transaction's lock re-reads the row it updates, but a subquery in it
    still counts with the snapshot taken before the wait, and would miss the links
    that transaction just committed. The lock makes the wait happen in the SELECT,
    so the UPDATE after it starts with a fresh snapshot.
    """
    with transaction.atomic(using=using, savepoint=False):
        tags = Tag.objects.using(using).filter(pk__in=tag_ids)
        list(tags.select_for_update().order_by("pk").values_list("pk"))
        links = Product.tags.through.objects.filter(tag=OuterRef("pk")).values("tag")
        count = links.annotate(total=Count("*")).values("total")
        tags.update(product_count=Coalesce(Subquery(count), 0))


@receiver(post_save, sender=Tag, dispatch_uid="recount_saved_tag")
def recount_saved_tag(sender, instance, using, **kwargs):
    """Recount a tag after any save, which wrote the product_count it held in memory.

    That number may be stale: an admin renaming a tag saves the count read when the
    page opened, and loaddata writes the fixture's. A fixture loaded again writes
    its tags, but sets no link that is not there already, so m2m_changed has
    nothing to recount.
    """
    recount_products([instance.pk], using)


@receiver(pre_delete, sender=Product, dispatch_uid="untag_deleted_product")
def untag_deleted_product(sender, instance, **kwargs):
    """Clear a product's tags before it goes, so that their counts go down.

    A delete removes the product's rows in the link table without sending
    m2m_changed; clear() sends it.
    """
    instance.tags.clear()


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
