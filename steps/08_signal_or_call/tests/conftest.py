import logging

import pytest
from django.test import override_settings
from second_database import migrated_two_databases, two_databases  # noqa: F401 (fixtures)


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


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    """Uploads go to a folder of the test's own, never to the step's media/."""
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def heard():
    """heard(signal, sender=None): a list that fills with the kwargs of each sending."""
    connected = []

    def heard(signal, sender=None):
        calls = []

        def record(signal, **kwargs):
            calls.append(kwargs)

        signal.connect(record, sender=sender, weak=False)
        connected.append((signal, record, sender))
        return calls

    yield heard
    for signal, record, sender in connected:
        signal.disconnect(record, sender=sender)


class FailingEmailBackend:
    """A mail backend whose server is down."""

    def __init__(self, **kwargs):
        pass

    def send_messages(self, messages):
        raise ConnectionRefusedError("mail server unreachable")


# settings.EMAIL_BACKEND = MAIL_SERVER_DOWN: every email from then on fails.
MAIL_SERVER_DOWN = f"{__name__}.FailingEmailBackend"

# The queue in Redis, with the server down: nothing listens on port 9 here.
redis_down = override_settings(
    TASKS={"default": {"BACKEND": "django_tasks_rq.RQBackend", "QUEUES": ["default"]}},
    RQ_QUEUES={"default": {"URL": "redis://127.0.0.1:9/0"}},
)


@pytest.fixture
def blog(django_user_model):
    from blog.models import Blog

    author = django_user_model.objects.create_user("writer", email="writer@example.com")
    return Blog.objects.create(title="Brewing with a kettle", body="Pour slowly.", author=author)


def project_console_handler(logger_name):
    """The StreamHandler that the project's LOGGING gives this logger (not pytest's)."""
    handlers = logging.getLogger(logger_name).handlers
    (handler,) = [handler for handler in handlers if type(handler) is logging.StreamHandler]
    return handler


def new_product(name="Ceramic mug", stock=5, **fields):
    """A product at 14.00 with the given stock; fields such as image or tags are passed on."""
    from decimal import Decimal

    from products.models import Product

    return Product.objects.create(
        name=name, description="Hand-thrown", price=Decimal("14.00"), quantity=stock, **fields
    )


@pytest.fixture
def make_order():
    """Create an order for a new product with the given stock."""
    from orders.models import Order

    def make_order(stock=5, quantity=1, name="Ceramic mug"):
        return Order.objects.create(product=new_product(name, stock), quantity=quantity)

    return make_order


def stock_of(order):
    order.product.refresh_from_db()
    return order.product.quantity


# The tasks framework: in Django from 6.0, from the django-tasks backport on Django 5.2.
try:
    from django.tasks import TaskResultStatus, task_backends
    from django.tasks.signals import task_enqueued

    TASKS_PACKAGE = "django.tasks"
except ImportError:
    from django_tasks import TaskResultStatus, task_backends
    from django_tasks.signals import task_enqueued

    TASKS_PACKAGE = "django_tasks"

__all__ = [
    "MAIL_SERVER_DOWN",
    "redis_down",
    "TASKS_PACKAGE",
    "TaskResultStatus",
    "new_product",
    "stock_of",
    "task_backends",
]


@pytest.fixture
def enqueued():
    """The task results that task_enqueued announces during the test, in order."""
    results = []

    def record(sender, task_result, **kwargs):
        results.append(task_result)

    # On Django 6, django-tasks-rq still sends the backport's signals: hear both.
    signals = {task_enqueued}
    try:
        from django_tasks.signals import task_enqueued as backport_task_enqueued
    except ImportError:
        pass
    else:
        signals.add(backport_task_enqueued)
    for signal in signals:
        signal.connect(record)
    yield results
    for signal in signals:
        signal.disconnect(record)


@pytest.fixture(autouse=True)
def empty_queue(settings):
    """Redis outlives each test's database: start every test with no job left in it."""
    if settings.TASKS["default"]["BACKEND"].startswith("django_tasks_rq"):
        import django_rq

        django_rq.get_queue("default").empty()


@pytest.fixture
def run_worker(settings, monkeypatch):
    """Run every task waiting in the queue, in this process, then return: a worker's batch.

    Both workers close the database connections they find open (RQ's before it starts,
    db_worker between tasks), and the test's own transaction is one: those calls are
    made harmless here, as Django's test client does for requests.
    """
    from django.core.management import call_command

    def run_worker():
        if settings.TASKS["default"]["BACKEND"].startswith("django_tasks_rq"):
            monkeypatch.setattr(
                "django_rq.management.commands.rqworker.reset_db_connections", lambda: None
            )
            # RQ's SimpleWorker runs the jobs in this process: it sees the test's data.
            call_command(
                "rqworker",
                "default",
                burst=True,
                worker_class="rq.worker.SimpleWorker",
                job_class="django_tasks_rq.Job",
                verbosity=0,
            )
        else:
            monkeypatch.setattr(
                "django_tasks_db.management.commands.db_worker.close_old_connections",
                lambda: None,
            )
            call_command("db_worker", batch=True, startup_delay=False, reload=False, verbosity=0)

    return run_worker
