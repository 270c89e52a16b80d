import pytest


@pytest.fixture(scope="session")
def django_db_modify_db_settings(tmp_path_factory):
    """Test on a throwaway SQLite file, never on the step's db.sqlite3.

    A file (rather than Django's default in-memory database) lets tests that
    use threads see each other's writes.
    """
    from django.conf import settings

    database = settings.DATABASES["default"]
    if database["ENGINE"] == "django.db.backends.sqlite3":
        test_file = tmp_path_factory.mktemp("database") / "test.sqlite3"
        database.setdefault("TEST", {})["NAME"] = str(test_file)


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    """Hashing with the production hasher takes a third of a second per user."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def make_order():
    """Create an order for a new product with the given stock."""
    from decimal import Decimal

    from orders.models import Order
    from products.models import Product

    def make_order(stock=5, quantity=1, name="Ceramic mug"):
        product = Product.objects.create(
            name=name, description="Hand-thrown", price=Decimal("14.00"), quantity=stock
        )
        return Order.objects.create(product=product, quantity=quantity)

    return make_order


def stock_of(order):
    order.product.refresh_from_db()
    return order.product.quantity
