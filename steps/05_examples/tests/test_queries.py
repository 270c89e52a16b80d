import pytest

# On SQLite, Django issues BEGIN IMMEDIATE and COMMIT as statements of their own;
# on PostgreSQL the driver begins and commits without a logged query.
SQLITE_TRANSACTION_STATEMENTS = 2


@pytest.mark.course_only
@pytest.mark.django_db(transaction=True)
def test_a_confirmation_takes_five_queries(client, make_order, django_assert_num_queries):
    """Step 03's four queries, plus pre_save reading the stored order to spot the change."""
    from django.db import connection

    order = make_order(stock=5, quantity=2)
    transaction_statements = SQLITE_TRANSACTION_STATEMENTS if connection.vendor == "sqlite" else 0

    with django_assert_num_queries(5 + transaction_statements) as captured:
        response = client.post(f"/orders/{order.pk}/confirm/")

    assert response.status_code == 200, [query["sql"] for query in captured.captured_queries]
