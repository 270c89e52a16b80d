import sqlite3
import threading
import time

import django
import pytest
from asgiref.sync import async_to_sync
from conftest import new_product
from django.core.management import call_command
from django.db import connection, transaction
from django.db.models.signals import m2m_changed, post_save
from django.test import AsyncClient
from second_database import manage

from products.models import Product, Tag

pytestmark = pytest.mark.django_db

Through = Product.tags.through


@pytest.fixture
def mugs():
    return Tag.objects.create(name="mugs")


@pytest.fixture
def gifts():
    return Tag.objects.create(name="gifts")


@pytest.fixture
def sale():
    return Tag.objects.create(name="sale")


def counts():
    return dict(Tag.objects.values_list("name", "product_count"))


def actions(calls):
    return [(call["action"], call["pk_set"]) for call in calls]


def test_adding_tags_sends_pre_add_and_post_add_with_their_ids(heard, mugs, gifts):
    calls = heard(m2m_changed, sender=Through)
    mug = new_product()

    mug.tags.add(mugs, gifts)

    assert actions(calls) == [("pre_add", {mugs.pk, gifts.pk}), ("post_add", {mugs.pk, gifts.pk})]
    assert all(c["instance"] == mug and c["model"] is Tag and not c["reverse"] for c in calls)
    assert counts() == {"mugs": 1, "gifts": 1}


def test_adding_a_tag_already_there_sends_an_empty_pk_set(heard, mugs):
    mug = new_product()
    mug.tags.add(mugs)
    calls = heard(m2m_changed, sender=Through)

    mug.tags.add(mugs)

    assert actions(calls) == [("pre_add", set()), ("post_add", set())]
    assert counts() == {"mugs": 1}


def test_removing_sends_the_ids_asked_for_even_those_not_linked(heard, mugs, gifts):
    mug = new_product()
    mug.tags.add(mugs)
    calls = heard(m2m_changed, sender=Through)

    mug.tags.remove(mugs, gifts)

    assert actions(calls) == [
        ("pre_remove", {mugs.pk, gifts.pk}),
        ("post_remove", {mugs.pk, gifts.pk}),
    ]
    assert counts() == {"mugs": 0, "gifts": 0}


def test_clearing_sends_no_ids_so_the_receiver_notes_them_at_pre_clear(heard, mugs, gifts):
    mug, kettle = new_product(), new_product("Kettle")
    mug.tags.add(mugs, gifts)
    kettle.tags.add(mugs)
    calls = heard(m2m_changed, sender=Through)

    mug.tags.clear()

    assert actions(calls) == [("pre_clear", None), ("post_clear", None)]
    assert counts() == {"mugs": 1, "gifts": 0}


def test_set_removes_what_is_gone_then_adds_what_is_new(heard, mugs, gifts, sale):
    mug = new_product()
    mug.tags.add(mugs, gifts)
    calls = heard(m2m_changed, sender=Through)

    mug.tags.set([gifts, sale])

    assert actions(calls) == [
        ("pre_remove", {mugs.pk}),
        ("post_remove", {mugs.pk}),
        ("pre_add", {sale.pk}),
        ("post_add", {sale.pk}),
    ]
    assert counts() == {"mugs": 0, "gifts": 1, "sale": 1}


def test_set_with_clear_clears_then_adds_everything(heard, mugs, gifts):
    mug = new_product()
    mug.tags.add(mugs)
    calls = heard(m2m_changed, sender=Through)

    mug.tags.set([mugs, gifts], clear=True)

    assert actions(calls) == [
        ("pre_clear", None),
        ("post_clear", None),
        ("pre_add", {mugs.pk, gifts.pk}),
        ("post_add", {mugs.pk, gifts.pk}),
    ]
    assert counts() == {"mugs": 1, "gifts": 1}


def test_from_the_tags_side_reverse_is_true_and_pk_set_holds_products(heard, mugs):
    mug, kettle = new_product(), new_product("Kettle")
    calls = heard(m2m_changed, sender=Through)

    mugs.products.add(mug, kettle)
    assert counts() == {"mugs": 2}
    mugs.products.remove(kettle)
    assert counts() == {"mugs": 1}
    mugs.products.clear()
    assert counts() == {"mugs": 0}

    assert actions(calls) == [
        ("pre_add", {mug.pk, kettle.pk}),
        ("post_add", {mug.pk, kettle.pk}),
        ("pre_remove", {kettle.pk}),
        ("post_remove", {kettle.pk}),
        ("pre_clear", None),
        ("post_clear", None),
    ]
    assert all(c["instance"] == mugs and c["model"] is Product and c["reverse"] for c in calls)


@pytest.mark.django_db(transaction=True)
def test_two_admins_tagging_two_products_at_once_count_both():
    """The second transaction waits for the first's lock on the tag, then counts.

    On PostgreSQL its count must include the link the first one committed meanwhile;
    SQLite lets one transaction write at a time, so there the second waits at BEGIN.
    """
    mugs = Tag.objects.create(name="mugs")
    mug, kettle = new_product(), new_product("Kettle")
    first_has_counted, first_may_commit = threading.Event(), threading.Event()

    def tag_the_mug():
        with transaction.atomic():
            mug.tags.add(mugs)
            first_has_counted.set()
            first_may_commit.wait(timeout=10)

    first = in_a_thread(tag_the_mug)
    assert first_has_counted.wait(timeout=10)
    second = in_a_thread(lambda: kettle.tags.add(mugs))
    wait_until_a_transaction_waits_for_a_lock()
    first_may_commit.set()
    first.join(timeout=10)
    second.join(timeout=10)

    assert Through.objects.filter(tag=mugs).count() == 2
    assert counts() == {"mugs": 2}


def in_a_thread(work):
    def run():
        try:
            work()
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def wait_until_a_transaction_waits_for_a_lock():
    if connection.vendor != "postgresql":
        time.sleep(0.2)  # SQLite has nothing to look at: the second thread waits at BEGIN.
        return
    for _ in range(200):
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'")
            if cursor.fetchone()[0]:
                return
        time.sleep(0.05)
    pytest.fail("the second transaction never waited for the first one's lock")


def test_writing_through_the_link_model_sends_nothing_and_the_count_goes_stale(heard, mugs):
    mug, kettle, cup = new_product(), new_product("Kettle"), new_product("Cup")
    calls = heard(m2m_changed, sender=Through)

    Through.objects.create(product=mug, tag=mugs)
    Through.objects.bulk_create([Through(product=kettle, tag=mugs), Through(product=cup, tag=mugs)])
    Through.objects.filter(product=cup).delete()

    assert calls == []
    assert mugs.products.count() == 2
    assert counts() == {"mugs": 0}, "the stored count never heard of these links"


def test_deleting_a_product_takes_it_out_of_its_tags_counts(mugs, gifts):
    mug, kettle = new_product(), new_product("Kettle")
    mug.tags.add(mugs, gifts)
    kettle.tags.add(mugs)

    mug.delete()

    assert counts() == {"mugs": 1, "gifts": 0}


def test_deleting_products_in_bulk_takes_them_out_of_the_counts_too(mugs):
    for name in ["Mug", "Cup", "Kettle"]:
        new_product(name).tags.add(mugs)

    Product.objects.filter(name__in=["Mug", "Cup"]).delete()

    assert counts() == {"mugs": 1}


def test_a_post_save_receiver_sees_the_old_tags_when_the_admin_saves(admin_client, mugs, gifts):
    """The admin saves the product first, then its many-to-many fields: post_save is early."""
    mug = new_product()
    mug.tags.add(mugs)
    tags_seen_by_post_save = []

    def read_tags(sender, instance, **kwargs):
        tags_seen_by_post_save.append(sorted(instance.tags.values_list("name", flat=True)))

    post_save.connect(read_tags, sender=Product)
    try:
        response = admin_client.post(
            f"/admin/products/product/{mug.pk}/change/",
            {
                "name": mug.name,
                "description": "Hand-thrown",
                "price": "14.00",
                "quantity": 5,
                "tags": [gifts.pk],
            },
        )
    finally:
        post_save.disconnect(read_tags, sender=Product)

    assert response.status_code == 302
    assert tags_seen_by_post_save == [["mugs"]]
    assert list(mug.tags.values_list("name", flat=True)) == ["gifts"]
    assert counts() == {"mugs": 0, "gifts": 1}


def test_create_cannot_take_tags_they_are_set_after_the_save(mugs):
    with pytest.raises(TypeError, match="Use tags.set"):
        new_product(tags=[mugs])


def test_the_admin_lists_tags_with_their_counts(admin_client, mugs):
    new_product().tags.add(mugs)

    response = admin_client.get("/admin/products/tag/")

    assert response.status_code == 200
    assert "mugs" in response.text
    assert '<td class="field-product_count">1</td>' in response.text


@pytest.mark.parametrize(
    ("name", "error"),
    [
        ("", "This field is required."),
        ("   ", "This field is required."),
        ("mugs", "A tag with this name already exists."),
        ("MUGS", "A tag with this name already exists."),
    ],
)
def test_a_tag_name_empty_or_taken_is_a_form_error(admin_client, mugs, name, error):
    response = admin_client.post("/admin/products/tag/add/", {"name": name})

    assert response.status_code == 200
    assert error in response.text
    assert list(Tag.objects.values_list("name", flat=True)) == ["mugs"]


def test_the_product_list_filters_by_tag_and_shows_the_counts(client, mugs, gifts):
    mug, kettle = new_product(), new_product("Kettle")
    mug.tags.add(mugs, gifts)
    kettle.tags.add(gifts)

    everything = client.get("/products/")
    only_mugs = client.get("/products/", {"tag": "MUGS"})

    assert everything.status_code == only_mugs.status_code == 200
    assert "gifts (2)" in everything.text and "mugs (1)" in everything.text
    assert list(only_mugs.context["products"]) == [mug]
    assert only_mugs.context["selected_tag"] == mugs


def test_the_product_list_answers_head_and_refuses_post(client):
    assert client.head("/products/").status_code == 200
    assert client.post("/products/").status_code == 405


def test_a_tag_name_unique_ignoring_case_folds_non_ascii_letters_on_postgresql_only(
    admin_client,
):
    Tag.objects.create(name="Äpfel")

    response = admin_client.post("/admin/products/tag/add/", {"name": "äpfel"})

    names = sorted(Tag.objects.values_list("name", flat=True))
    if connection.vendor == "sqlite":
        # SQLite's LOWER() folds A to Z only: Ä and ä stay two letters, two tags.
        assert response.status_code == 302
        assert names == ["Äpfel", "äpfel"]
    else:
        assert "A tag with this name already exists." in response.text
        assert names == ["Äpfel"]


def test_the_product_list_finds_a_tag_as_the_unique_constraint_folds_names(client):
    """iexact compares with UPPER() on PostgreSQL, where "σ" and "ς" are both "Σ"; the
    constraint uses LOWER(), which keeps them two tags."""
    sigma, final_sigma = Tag.objects.create(name="σ"), Tag.objects.create(name="ς")

    response = client.get("/products/", {"tag": "σ"})

    assert response.status_code == 200
    assert response.context["selected_tag"] == sigma != final_sigma


def test_the_product_list_answers_404_for_an_unknown_tag(client):
    assert client.get("/products/", {"tag": "nope"}).status_code == 404


def test_the_product_list_works_under_asgi(mugs):
    new_product().tags.add(mugs)

    response = async_to_sync(AsyncClient().get)("/products/", {"tag": "mugs"})

    assert response.status_code == 200
    assert "Ceramic mug" in response.text


@pytest.mark.library
def test_loading_a_fixture_sends_m2m_changed_marked_raw_from_django_6_1_on(heard):
    calls = heard(m2m_changed, sender=Through)

    call_command("loaddata", "demo", verbosity=0)

    assert {call["action"] for call in calls} >= {"pre_add", "post_add"}
    # Django 5.2 sends no raw argument at all; 6.1 sends raw=True while loading.
    expected = {True} if django.VERSION >= (6, 1) else {"absent"}
    assert {call.get("raw", "absent") for call in calls} == expected
    # demo.json stores 0 for both: the receivers counted the links.
    assert counts() == {"coffee": 2, "gifts": 2}


def test_loaddata_hands_post_save_and_m2m_changed_the_same_instance(heard):
    """So a receiver can tell a fixture's links on Django 5.2: post_save said raw=True."""
    saved, changed = heard(post_save, sender=Product), heard(m2m_changed, sender=Through)

    call_command("loaddata", "demo", verbosity=0)

    loaded = [call["instance"] for call in saved if call["raw"]]
    assert changed
    assert all(any(call["instance"] is product for product in loaded) for call in changed)


def test_a_tag_saved_with_a_stale_count_is_recounted(mugs):
    stale = Tag.objects.get(pk=mugs.pk)  # product_count 0, as an admin's page read it
    new_product().tags.add(mugs)

    stale.name = "Mugs"
    stale.save()

    assert counts() == {"Mugs": 1}


def test_a_second_database_keeps_its_own_counts(two_databases):
    manage(two_databases, "loaddata", "demo", "--database", "catalogue")

    with sqlite3.connect(two_databases / "catalogue.sqlite3") as catalogue:
        stored = dict(catalogue.execute("SELECT name, product_count FROM products_tag"))
    assert stored == {"coffee": 2, "gifts": 2}, "demo.json says 0: counted on catalogue"


def test_loading_the_demo_again_recounts_instead_of_keeping_the_fixture_s_number():
    call_command("loaddata", "demo", verbosity=0)
    new_product("Tea tin").tags.add(Tag.objects.get(name="coffee"))
    assert counts() == {"coffee": 3, "gifts": 2}

    # The fixture's products keep their tags: set() changes no link, m2m_changed has
    # nothing to recount, and the tags are written with the fixture's product_count.
    call_command("loaddata", "demo", verbosity=0)

    assert counts() == {"coffee": 3, "gifts": 2}
