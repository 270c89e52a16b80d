import django
import pytest
from asgiref.sync import async_to_sync
from conftest import new_product
from django.core.management import call_command
from django.db import connection
from django.db.models.signals import m2m_changed, post_save
from django.test import AsyncClient

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
    return dict(Tag.objects.with_product_counts().values_list("name", "product_count"))


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


def test_clearing_sends_no_ids(heard, mugs, gifts):
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


@pytest.mark.parametrize("filter_first", [False, True], ids=["filter_after", "filter_before"])
def test_a_products_filter_before_or_after_the_counts_does_not_change_them(
    mugs, gifts, filter_first
):
    """Counting with a join would multiply by the filter's join, or count only its matches."""
    for name, stock in [("Mug", 5), ("Cup", 5), ("Kettle", 0)]:
        new_product(name, stock).tags.add(mugs)
    Product.objects.get(name="Cup").tags.add(gifts)
    in_stock = {"products__quantity__gt": 0}

    if filter_first:
        tags = Tag.objects.filter(**in_stock).with_product_counts()
    else:
        tags = Tag.objects.with_product_counts().filter(**in_stock)

    # One row per product in stock, as for any filter across a many-to-many relation.
    assert list(tags.order_by("name").values_list("name", flat=True)) == ["gifts", "mugs", "mugs"]
    assert list(tags.distinct().order_by("name").values_list("name", "product_count")) == [
        ("gifts", 1),
        ("mugs", 3),
    ]


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


def test_the_admin_sorts_tags_by_their_counts(admin_client, mugs, gifts, sale):
    mug, kettle = new_product(), new_product("Kettle")
    mug.tags.add(mugs, sale)
    kettle.tags.add(sale)

    # o=-2: the second column of list_display after the checkbox, product_count, descending.
    response = admin_client.get("/admin/products/tag/", {"o": "-2"})

    assert response.status_code == 200
    assert [tag.name for tag in response.context["cl"].result_list] == ["sale", "mugs", "gifts"]


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
    assert counts() == {"coffee": 2, "gifts": 2}


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


def test_loaddata_hands_post_save_and_m2m_changed_the_same_instance(heard):
    """So a receiver can tell a fixture's links on Django 5.2: post_save said raw=True."""
    saved, changed = heard(post_save, sender=Product), heard(m2m_changed, sender=Through)

    call_command("loaddata", "demo", verbosity=0)

    loaded = [call["instance"] for call in saved if call["raw"]]
    assert changed
    assert all(any(call["instance"] is product for product in loaded) for call in changed)
