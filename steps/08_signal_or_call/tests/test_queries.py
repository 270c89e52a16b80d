import pytest

# Django logs BEGIN and COMMIT as queries too (BEGIN IMMEDIATE on SQLite).
TRANSACTION_STATEMENTS = 2


@pytest.mark.course_only
@pytest.mark.django_db(transaction=True)
def test_a_confirmation_takes_five_queries_and_the_sales_log_one(
    client, make_order, django_assert_num_queries
):
    """The view reads the order; Order.confirm() reads it again under the lock, takes the
    stock, reads it back, writes the flag. After the COMMIT, the sales log's listener
    queues its task: one INSERT, in autocommit."""
    order = make_order(stock=5, quantity=2)

    with django_assert_num_queries(5 + 1 + TRANSACTION_STATEMENTS) as captured:
        response = client.post(f"/orders/{order.pk}/confirm/")

    assert response.status_code == 200, [query["sql"] for query in captured.captured_queries]
