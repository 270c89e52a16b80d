import pytest

# Django logs BEGIN and COMMIT as queries too (BEGIN IMMEDIATE on SQLite).
TRANSACTION_STATEMENTS = 2


@pytest.mark.course_only
@pytest.mark.django_db(transaction=True)
def test_a_confirmation_takes_five_queries(client, make_order, django_assert_num_queries):
    """Step 03's four queries, plus pre_save reading the stored order to spot the change."""
    order = make_order(stock=5, quantity=2)

    with django_assert_num_queries(5 + TRANSACTION_STATEMENTS) as captured:
        response = client.post(f"/orders/{order.pk}/confirm/")

    assert response.status_code == 200, [query["sql"] for query in captured.captured_queries]
