import io

import pytest
from conftest import new_product
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import transaction
from django.db.models.signals import post_delete, pre_delete
from PIL import Image

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


def test_a_file_that_cannot_be_deleted_is_logged_and_the_delete_stands(
    media_root, caplog, monkeypatch, django_capture_on_commit_callbacks
):
    mug = new_product(image=png())

    def refuse(name):
        raise PermissionError(f"cannot delete {name}")

    monkeypatch.setattr(mug.image.storage, "delete", refuse)
    with django_capture_on_commit_callbacks(execute=True):
        mug.delete()

    assert not Product.objects.exists()
    assert "cannot delete products/mug.png" in caplog.text


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

    with django_assert_num_queries(1):  # DELETE ... WHERE product_id = ...
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
    Order.objects.create(product=mug, quantity=2, confirmed=True)

    confirm_page = admin_client.get(f"/admin/products/product/{mug.pk}/delete/")
    response = admin_client.post(f"/admin/products/product/{mug.pk}/delete/", {"post": "yes"})

    assert "Order: <a" in confirm_page.text and "2 x Ceramic mug" in confirm_page.text
    assert response.status_code == 302
    assert not Order.objects.exists()
