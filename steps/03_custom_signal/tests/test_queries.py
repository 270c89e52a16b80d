import pytest

# Django logs BEGIN and COMMIT as queries too (BEGIN IMMEDIATE on SQLite).
TRANSACTION_STATEMENTS = 2


@pytest.mark.course_only
@pytest.mark.django_db(transaction=True)
def test_a_confirmation_takes_four_queries(client, make_order, django_assert_num_queries):
    """Lock and read the order with its product, write it, take the stock, read the stock."""
    order = make_order(stock=5, quantity=2)

    with django_assert_num_queries(4 + TRANSACTION_STATEMENTS) as captured:
        response = client.post(f"/orders/{order.pk}/confirm/")

    assert response.status_code == 200, [query["sql"] for query in captured.captured_queries]
