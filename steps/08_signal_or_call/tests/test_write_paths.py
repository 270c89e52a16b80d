"""Which write paths reach which hook: the README's table, one test per cell.

Each test function is a column, a place to hang code on; its parameters are the
rows, the ways of writing, each with what the table says: reached or not reached.
A path that cannot concern a hook (a save deletes nothing) has no test, and "—" in
the table.
"""

import json
import tempfile
from pathlib import Path
from unittest import mock

import pytest
from conftest import new_product
from django.apps import apps
from django.core.exceptions import FieldError
from django.core.management import call_command
from django.db import connection
from django.db.models.signals import m2m_changed, post_delete, post_save, pre_delete, pre_save
from django_lifecycle import AFTER_DELETE, AFTER_SAVE, LifecycleModelMixin, hook

from orders.models import Order
from products.models import Product, Tag

pytestmark = pytest.mark.django_db

Through = Product.tags.through
REACHED, NOT_REACHED = "reached", "not reached"

# The hooks that the two proxies below ran, in order.
hooks_run = []


class OverriddenOrder(Order):
    """An Order whose save() and delete() note each call."""

    class Meta:
        proxy = True
        app_label = "orders"

    def save(self, *args, **kwargs):
        hooks_run.append("save()")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        hooks_run.append("delete()")
        return super().delete(*args, **kwargs)


class LifecycleOrder(LifecycleModelMixin, Order):
    """An Order with django-lifecycle hooks after each save and each delete."""

    class Meta:
        proxy = True
        app_label = "orders"

    @hook(AFTER_SAVE)
    def note_save(self):
        hooks_run.append("AFTER_SAVE")

    @hook(AFTER_DELETE)
    def note_delete(self):
        hooks_run.append("AFTER_DELETE")


PROXIES = [OverriddenOrder, LifecycleOrder]


def unregister_proxies():
    for model in PROXIES:
        del apps.all_models["orders"][model._meta.model_name]
    apps.clear_cache()


# Models made for tests have no migration: makemigrations --check (tests/test_setup.py)
# must not see them, so they are in the app registry only while a test uses them.
unregister_proxies()


@pytest.fixture
def proxies():
    """Register the proxies for one test; return the list of the hooks they ran."""
    for model in PROXIES:
        apps.register_model("orders", model)
    hooks_run.clear()
    yield hooks_run
    unregister_proxies()


@pytest.fixture
def order():
    return Order.objects.create(product=new_product(), quantity=1)


def load(rows):
    """loaddata, from a fixture file holding these rows."""
    with tempfile.TemporaryDirectory() as folder:
        fixture = Path(folder) / "rows.json"
        fixture.write_text(json.dumps(rows))
        call_command("loaddata", str(fixture), verbosity=0)


def flush():
    call_command("flush", interactive=False, verbosity=0)
    assert not Order.objects.exists()


# The rows, each a way of writing orders with model, Order or one of its proxies.


def save(model, order):
    model(product=order.product, quantity=2).save()


def create(model, order):
    model.objects.create(product=order.product, quantity=2)


def update(model, order):
    assert model.objects.filter(pk=order.pk).update(quantity=2) == 1


def bulk_create(model, order):
    model.objects.bulk_create([model(product=order.product, quantity=2)])


def bulk_update(model, order):
    stored = model.objects.get(pk=order.pk)
    stored.quantity = 2
    assert model.objects.bulk_update([stored], ["quantity"]) == 1


def queryset_delete(model, order):
    deleted, _ = model.objects.filter(pk=order.pk).delete()
    assert deleted == 1


def model_delete(model, order):
    model.objects.get(pk=order.pk).delete()


def cascade(model, order):
    """Delete the order's product, and with it the order.

    A cascade reads the orders through Order's base manager, never through a proxy's:
    pointing it at the proxy's gives the cascade the proxy's methods, as a model of
    your own with the same override or hook would.
    """
    with mock.patch.object(Order._meta, "base_manager", model._base_manager):
        Product.objects.get(pk=order.product_id).delete()
    assert not Order.objects.filter(pk=order.pk).exists()


def through_model_write(model, order):
    Through.objects.create(product=order.product, tag=Tag.objects.create(name="mugs"))


def loaddata(model, order):
    fields = {"product": order.product_id, "quantity": 2, "total_price": "28.00"}
    load([{"model": model._meta.label_lower, "fields": fields}])
    assert Order.objects.filter(quantity=2).exists()


def flush_orders(model, order):
    flush()


def raw_sql(model, order):
    """An INSERT, an UPDATE and a DELETE, through the database connection."""
    table = connection.ops.quote_name(Order._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (product_id, quantity, confirmed) VALUES (%s, 2, %s)",
            [order.product_id, False],
        )
        cursor.execute(f"UPDATE {table} SET quantity = 3 WHERE id = %s", [order.pk])
        assert cursor.rowcount == 1
        cursor.execute(f"DELETE FROM {table} WHERE id = %s", [order.pk])
        assert cursor.rowcount == 1


WRITE_ORDERS = {
    "save()": save,
    "create()": create,
    "update()": update,
    "bulk_create()": bulk_create,
    "bulk_update()": bulk_update,
    "QuerySet.delete()": queryset_delete,
    "Model.delete()": model_delete,
    "a cascade": cascade,
    "a through-model write": through_model_write,
    "loaddata": loaddata,
    "flush": flush_orders,
    "raw SQL": raw_sql,
}


def column(outcomes):
    """One parameter per row of the column, with the row and its outcome in its id."""
    return [
        pytest.param(
            row,
            outcome,
            id=f"{row}-{outcome}",
            # flush commits its own work: the test cannot run inside a transaction.
            marks=[pytest.mark.django_db(transaction=True)] if "flush" in row else [],
        )
        for row, outcome in outcomes.items()
    ]


def heard_anything(*calls):
    """reached if every list of calls has some, not reached if none has any."""
    if all(calls):
        return REACHED
    if not any(calls):
        return NOT_REACHED
    return f"only partly reached: {calls}"


# What the methods of an order see: a save() or delete() override, a lifecycle hook.
ORDER_METHODS = {
    "save()": REACHED,
    "create()": REACHED,
    "update()": NOT_REACHED,
    "bulk_create()": NOT_REACHED,
    "bulk_update()": NOT_REACHED,
    "QuerySet.delete()": NOT_REACHED,
    "Model.delete()": REACHED,
    "a cascade": NOT_REACHED,
    "loaddata": NOT_REACHED,
    "flush": NOT_REACHED,
    "raw SQL": NOT_REACHED,
}


@pytest.mark.parametrize(("row", "outcome"), column(ORDER_METHODS))
def test_an_override_of_save_or_delete(proxies, order, row, outcome):
    WRITE_ORDERS[row](OverriddenOrder, order)

    assert heard_anything(proxies) == outcome


@pytest.mark.parametrize(("row", "outcome"), column(ORDER_METHODS))
def test_a_django_lifecycle_hook(proxies, order, row, outcome):
    WRITE_ORDERS[row](LifecycleOrder, order)

    assert heard_anything(proxies) == outcome


@pytest.mark.parametrize(
    ("row", "outcome"),
    column(
        {
            "save()": REACHED,
            "create()": REACHED,
            "update()": NOT_REACHED,
            "bulk_create()": NOT_REACHED,
            "bulk_update()": NOT_REACHED,
            "a through-model write": NOT_REACHED,
            "loaddata": REACHED,
            "raw SQL": NOT_REACHED,
        }
    ),
)
def test_pre_save_and_post_save(heard, order, row, outcome):
    # A through-model write saves a link: would the link model send the signals?
    sender = Through if row == "a through-model write" else Order
    before, after = heard(pre_save, sender=sender), heard(post_save, sender=sender)

    WRITE_ORDERS[row](Order, order)

    assert heard_anything(before, after) == outcome
    if row == "loaddata":
        assert [call["raw"] for call in before + after] == [True, True]


@pytest.mark.parametrize(
    ("row", "outcome"),
    column(
        {
            "QuerySet.delete()": REACHED,
            "Model.delete()": REACHED,
            "a cascade": REACHED,
            "flush": NOT_REACHED,
            "raw SQL": NOT_REACHED,
        }
    ),
)
def test_pre_delete_and_post_delete(heard, order, row, outcome):
    before, after = heard(pre_delete, sender=Order), heard(post_delete, sender=Order)

    WRITE_ORDERS[row](Order, order)

    assert heard_anything(before, after) == outcome
    if outcome == REACHED:
        assert len(before) == len(after) == 1


# The rows again, each a way of writing a product's tags (the link table's rows).


def delete_products(product, mugs):
    Product.objects.filter(pk=product.pk).delete()
    assert not Through.objects.exists()


def delete_product(product, mugs):
    product.delete()
    assert not Through.objects.exists()


def delete_tag(product, mugs):
    """A cascade from the other side: deleting a tag deletes its links."""
    mugs.delete()
    assert not product.tags.exists()


def create_link(product, mugs):
    Through.objects.create(product=product, tag=Tag.objects.create(name="gifts"))


def load_tags(product, mugs):
    gifts = Tag.objects.create(name="gifts")
    fields = {"name": product.name, "description": "", "price": "14.00", "tags": [gifts.pk]}
    load([{"model": "products.product", "pk": product.pk, "fields": fields}])
    assert list(product.tags.all()) == [gifts]


def flush_links(product, mugs):
    flush()
    assert not Through.objects.exists()


def write_links_in_sql(product, mugs):
    gifts = Tag.objects.create(name="gifts")
    table = connection.ops.quote_name(Through._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (product_id, tag_id) VALUES (%s, %s)", [product.pk, gifts.pk]
        )
        cursor.execute(f"DELETE FROM {table} WHERE tag_id = %s", [mugs.pk])
        assert cursor.rowcount == 1
    assert list(product.tags.all()) == [gifts]


WRITE_TAGS = {
    "QuerySet.delete()": delete_products,
    "Model.delete()": delete_product,
    "a cascade": delete_tag,
    "a through-model write": create_link,
    "loaddata": load_tags,
    "flush": flush_links,
    "raw SQL": write_links_in_sql,
}


@pytest.mark.parametrize(
    ("row", "outcome"),
    column(
        {
            "QuerySet.delete()": NOT_REACHED,
            "Model.delete()": NOT_REACHED,
            "a cascade": NOT_REACHED,
            "a through-model write": NOT_REACHED,
            "loaddata": REACHED,
            "flush": NOT_REACHED,
            "raw SQL": NOT_REACHED,
        }
    ),
)
def test_m2m_changed(heard, row, outcome):
    mugs = Tag.objects.create(name="mugs")
    product = new_product()
    product.tags.add(mugs)
    changes = heard(m2m_changed, sender=Through)

    WRITE_TAGS[row](product, mugs)

    assert heard_anything(changes) == outcome


def test_update_and_bulk_update_cannot_write_tags():
    """Why m2m_changed has "—" in the first five rows: they cannot write a product's tags.

    create() cannot either (tests/test_tags.py), nor bulk_create(), whose products are
    built as create() builds them.
    """
    product = new_product()

    with pytest.raises(FieldError, match="Cannot update model field"):
        Product.objects.update(tags=Tag.objects.create(name="mugs"))
    with pytest.raises(ValueError, match="only be used with concrete fields"):
        Product.objects.bulk_update([product], ["tags"])
