import io
import json

import pytest
from conftest import new_product, project_console_handler
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.db import connection, transaction
from django.db.models.signals import post_delete, pre_delete
from django.test.utils import CaptureQueriesContext
from PIL import Image
from second_database import manage

from orders.models import Order
from products.models import Product

pytestmark = pytest.mark.django_db


class Refused(Exception):
    pass


def png(name="mug.png"):
    image = io.BytesIO()
    Image.new("RGB", (8, 8), "teal").save(image, "PNG")
    return SimpleUploadedFile(name, image.getvalue(), content_type="image/png")


def files_in(folder):
    return sorted(path.name for path in folder.rglob("*") if path.is_file())


def test_the_admin_stores_an_uploaded_image_under_media_root(admin_client, media_root):
    response = admin_client.post(
        "/admin/products/product/add/",
        {"name": "Mug", "description": "Teal", "price": "14.00", "quantity": 3, "image": png()},
    )

    assert response.status_code == 302
    product = Product.objects.get()
    assert product.image.name == "products/mug.png"
    assert (media_root / "products" / "mug.png").is_file()


def test_an_upload_that_is_not_an_image_is_a_form_error_and_nothing_is_stored(
    admin_client, media_root
):
    not_an_image = SimpleUploadedFile("mug.png", b"just text", content_type="image/png")

    response = admin_client.post(
        "/admin/products/product/add/",
        {
            "name": "Mug",
            "description": "Teal",
            "price": "14.00",
            "quantity": 3,
            "image": not_an_image,
        },
    )

    assert response.status_code == 200
    assert "Upload a valid image." in response.text
    assert not Product.objects.exists()
    assert not media_root.exists() or files_in(media_root) == []


def test_the_image_file_is_deleted_once_the_delete_commits(
    media_root, django_capture_on_commit_callbacks
):
    mug = new_product(image=png())
    assert files_in(media_root) == ["mug.png"]

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        mug.delete()

    assert len(callbacks) == 1
    assert files_in(media_root) == []


def test_a_rolled_back_delete_keeps_the_row_and_the_file(
    media_root, django_capture_on_commit_callbacks
):
    mug = new_product(image=png())

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with pytest.raises(Refused), transaction.atomic():
            mug.delete()
            raise Refused

    assert callbacks == []
    assert Product.objects.filter(name="Ceramic mug").exists()
    assert files_in(media_root) == ["mug.png"]


def test_a_product_without_an_image_deletes_without_a_file_to_remove(
    django_capture_on_commit_callbacks,
):
    mug = new_product()

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        mug.delete()

    assert callbacks == []


@pytest.mark.django_db(transaction=True)
def test_a_file_that_cannot_be_deleted_is_logged_on_the_console_and_the_delete_stands(
    media_root, monkeypatch
):
    """Committed for real, with DEBUG off (as pytest-django runs): Django's own console
    handler prints nothing then, so the project's LOGGING must route the error."""
    mug = new_product(image=png())
    new_product("Kettle", image=png("kettle.png"))  # deleted after the mug: a higher pk
    console = io.StringIO()
    monkeypatch.setattr(project_console_handler("django.db.backends.base"), "stream", console)

    def refuse(name):
        if name == mug.image.name:
            raise PermissionError(f"cannot delete {name}")
        storage_delete(name)

    storage_delete = mug.image.storage.delete
    monkeypatch.setattr(mug.image.storage, "delete", refuse)
    Product.objects.all().delete()

    assert not Product.objects.exists()
    assert "in on_commit() during transaction" in console.getvalue()
    assert "cannot delete products/mug.png" in console.getvalue()
    assert files_in(media_root) == ["mug.png"], "the kettle's file goes, robust=True"


def test_a_product_loaded_without_its_image_deletes_with_its_file(
    media_root, django_capture_on_commit_callbacks
):
    new_product(image=png())

    with django_capture_on_commit_callbacks(execute=True):
        Product.objects.only("pk").delete()

    assert not Product.objects.exists()
    assert files_in(media_root) == []


def test_deleting_a_product_keeps_a_file_that_a_copy_of_it_still_names(
    media_root, django_capture_on_commit_callbacks
):
    mug = new_product(image=png())
    copy = Product.objects.get(pk=mug.pk)
    copy.pk = None
    copy.save()

    with django_capture_on_commit_callbacks(execute=True):
        mug.delete()

    assert Product.objects.get().image.name == "products/mug.png"
    assert files_in(media_root) == ["mug.png"]
    with django_capture_on_commit_callbacks(execute=True):
        copy.delete()
    assert files_in(media_root) == []


def change_in_admin(admin_client, product, **changes):
    fields = {
        "name": product.name,
        "description": product.description,
        "price": product.price,
        "quantity": product.quantity,
    }
    return admin_client.post(f"/admin/products/product/{product.pk}/change/", fields | changes)


@pytest.mark.django_db(transaction=True)
def test_clearing_the_image_in_the_admin_deletes_the_old_file(admin_client, media_root):
    mug = new_product(image=png())

    response = change_in_admin(admin_client, mug, **{"image-clear": "on"})

    assert response.status_code == 302
    mug.refresh_from_db()
    assert not mug.image
    assert files_in(media_root) == []


@pytest.mark.django_db(transaction=True)
def test_replacing_the_image_in_the_admin_deletes_the_old_file(admin_client, media_root):
    mug = new_product(image=png())

    response = change_in_admin(admin_client, mug, image=png("new-mug.png"))

    assert response.status_code == 302
    mug.refresh_from_db()
    assert mug.image.name == "products/new-mug.png"
    assert files_in(media_root) == ["new-mug.png"]


def test_a_replaced_image_stays_if_the_save_rolls_back(
    media_root, django_capture_on_commit_callbacks
):
    mug = new_product(image=png())

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with pytest.raises(Refused), transaction.atomic():
            mug.image = png("new-mug.png")
            mug.save()
            raise Refused

    assert callbacks == []
    mug.refresh_from_db()
    assert mug.image.name == "products/mug.png"
    assert "mug.png" in files_in(media_root)


def test_saving_other_fields_keeps_the_image(media_root, django_capture_on_commit_callbacks):
    mug = new_product(image=png())

    with django_capture_on_commit_callbacks(execute=True):
        mug.quantity = 2
        mug.save()
        Product.objects.only("pk", "name").get().save()

    assert files_in(media_root) == ["mug.png"]


def test_a_stale_save_of_a_product_deletes_no_file(media_root, django_capture_on_commit_callbacks):
    """Another request replaced the image since this copy was read: the copy's save
    writes its old name back (a lost update, as for any field) but must not delete the
    new file as well."""
    mug = new_product(image=png())
    stale = Product.objects.get(pk=mug.pk)
    with django_capture_on_commit_callbacks(execute=True):
        mug.image = png("new-mug.png")
        mug.save()
    with django_capture_on_commit_callbacks(execute=True):
        stale.name = "Teal mug"
        stale.save()

    assert files_in(media_root) == ["new-mug.png"]


def test_loading_a_fixture_over_a_product_deletes_no_file(
    media_root, tmp_path, django_capture_on_commit_callbacks
):
    mug = new_product(image=png())
    fixture = tmp_path / "mug.json"
    fields = {"name": "Mug", "description": "", "price": "14.00", "quantity": 1, "image": ""}
    fixture.write_text(json.dumps([{"model": "products.product", "pk": mug.pk, "fields": fields}]))

    with django_capture_on_commit_callbacks(execute=True):
        call_command("loaddata", str(fixture), verbosity=0)

    assert not Product.objects.get().image
    assert files_in(media_root) == ["mug.png"], "loaddata writes rows as they are, no more"


@pytest.mark.course_only
def test_a_save_that_leaves_the_image_as_loaded_reads_nothing_more(
    django_assert_num_queries,
):
    mug = new_product(image=png())

    with django_assert_num_queries(1):  # the UPDATE
        mug.save(update_fields=["quantity"])
    with django_assert_num_queries(1):
        mug.save()


def test_delete_unused_images_keeps_a_file_that_another_database_names(two_databases):
    media = two_databases / "media" / "products"
    media.mkdir(parents=True)
    (media / "catalogue.png").write_bytes(b"named on catalogue")
    (media / "nobody.png").write_bytes(b"named nowhere")
    manage(
        two_databases,
        "shell",
        "-c",
        "from django.core.management import call_command\n"
        "from products.models import Product\n"
        "Product.objects.using('catalogue').create("
        "name='Mug', description='', price=1, image='products/catalogue.png')\n"
        "call_command('delete_unused_images', '--older-than', '0')",
    )

    assert sorted(path.name for path in media.iterdir()) == ["catalogue.png"]


def test_delete_unused_images_removes_what_a_rolled_back_upload_left(media_root):
    new_product(image=png())
    with pytest.raises(Refused), transaction.atomic():
        new_product("Kettle", image=png("kettle.png"))
        raise Refused
    assert files_in(media_root) == ["kettle.png", "mug.png"]

    young = call_command_output("delete_unused_images")
    listed = call_command_output("delete_unused_images", "--older-than=0", "--dry-run")
    assert files_in(media_root) == ["kettle.png", "mug.png"]
    deleted = call_command_output("delete_unused_images", "--older-than=0")

    assert "kettle.png" not in young, "too young to tell: its product may not be committed"
    assert "products/kettle.png" in listed and "mug.png" not in listed
    assert "products/kettle.png" in deleted and "mug.png" not in deleted
    assert files_in(media_root) == ["mug.png"]


def test_delete_unused_images_refuses_a_negative_age():
    with pytest.raises(CommandError, match="0 or more"):
        call_command("delete_unused_images", "--older-than=-1")


def call_command_output(*args):
    output = io.StringIO()
    call_command(*args, stdout=output)
    return output.getvalue()


def test_deleting_a_product_cascades_to_its_orders_each_with_a_signal_and_origin(heard):
    mug = new_product()
    for quantity in (1, 2, 3):
        Order.objects.create(product=mug, quantity=quantity)
    deleted_orders = heard(post_delete, sender=Order)
    deleted_products = heard(post_delete, sender=Product)

    mug.delete()

    assert sorted(call["instance"].quantity for call in deleted_orders) == [1, 2, 3]
    assert all(call["origin"] == mug for call in deleted_orders + deleted_products)
    assert [call["instance"].name for call in deleted_products] == ["Ceramic mug"]


def test_queryset_delete_sends_the_signals_of_each_object(heard):
    for name in ["Mug", "Cup", "Kettle"]:
        new_product(name)
    before, after = heard(pre_delete, sender=Product), heard(post_delete, sender=Product)
    mugs_and_cups = Product.objects.filter(name__in=["Mug", "Cup"])

    deleted, _ = mugs_and_cups.delete()

    assert deleted == 2
    assert sorted(call["instance"].name for call in before) == ["Cup", "Mug"]
    assert sorted(call["instance"].name for call in after) == ["Cup", "Mug"]
    assert all(call["origin"].query is mugs_and_cups.query for call in after)


def test_a_delete_receiver_turns_the_fast_delete_into_a_select_and_a_signal_per_row(
    heard, django_assert_num_queries
):
    mug = new_product()
    for quantity in (1, 2, 3):
        Order.objects.create(product=mug, quantity=quantity)

    with django_assert_num_queries(1):  # DELETE ... WHERE quantity = 1
        Order.objects.filter(quantity=1).delete()

    deleted = heard(post_delete, sender=Order)
    with django_assert_num_queries(2) as captured:
        Order.objects.filter(quantity__gte=2).delete()

    assert captured.captured_queries[0]["sql"].startswith("SELECT")
    assert len(deleted) == 2


def test_raw_delete_sends_nothing_even_with_receivers(heard):
    mug = new_product()
    Order.objects.create(product=mug, quantity=1)
    deleted = heard(post_delete, sender=Order)

    Order.objects.all()._raw_delete(using="default")

    assert not Order.objects.exists()
    assert deleted == []


@pytest.mark.django_db(transaction=True)
def test_flush_empties_every_table_without_a_delete_signal(heard):
    Order.objects.create(product=new_product(), quantity=1)
    deleted_orders, deleted_products = heard(post_delete, sender=Order), heard(post_delete)

    call_command("flush", interactive=False, verbosity=0)

    assert not Product.objects.exists() and not Order.objects.exists()
    assert deleted_orders == deleted_products == []


def test_deleting_a_product_with_confirmed_orders_deletes_them_too(admin_client):
    mug = new_product()
    order = Order.objects.create(product=mug, quantity=2)
    Order.objects.filter(pk=order.pk).update(confirmed=True)

    confirm_page = admin_client.get(f"/admin/products/product/{mug.pk}/delete/")
    response = admin_client.post(f"/admin/products/product/{mug.pk}/delete/", {"post": "yes"})

    assert "Order: <a" in confirm_page.text and "2 x Ceramic mug" in confirm_page.text
    assert response.status_code == 302
    assert not Order.objects.exists()


@pytest.mark.library
def test_django_deletes_a_list_of_primary_keys_a_hundred_at_a_time():
    Product.objects.bulk_create(
        Product(name=f"Mug {number}", description="", price=1, quantity=1) for number in range(250)
    )

    with CaptureQueriesContext(connection) as captured:
        Product.objects.all().delete()

    deletes = [
        query for query in captured if query["sql"].startswith('DELETE FROM "products_product"')
    ]
    assert len(deletes) == 3, "250 primary keys: 100, 100 and 50"
