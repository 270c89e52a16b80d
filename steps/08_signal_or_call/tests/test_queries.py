import pytest

# Django logs BEGIN and COMMIT as queries too (BEGIN IMMEDIATE on SQLite).
TRANSACTION_STATEMENTS = 2


@pytest.mark.course_only
@pytest.mark.django_db(transaction=True)
def test_a_confirmation_takes_five_queries_and_the_sales_log_two(
    client, make_order, django_assert_num_queries
):
    """Order.confirm(): read the order, check it under the lock, take the stock, read it
    back, write the flag. After the COMMIT, the sales log's listener: look, then insert,
    in a transaction of its own."""
    order = make_order(stock=5, quantity=2)

    with django_assert_num_queries(5 + 2 + 2 * TRANSACTION_STATEMENTS) as captured:
        response = client.post(f"/orders/{order.pk}/confirm/")

    assert response.status_code == 200, [query["sql"] for query in captured.captured_queries]
