"""Every protection a README teaches, taken out of a copy of its step, turns `check` red.

A learner's project can copy a step but for one line. These tests are the proof that
`make check` then fails, and names the behaviour that line protects: each removes one
protection from a copy of its step (a small edit of one file) and checks the copy
against the step's tests. They run with `make test-protections`, not `make test`.

The check runs only the tests that should catch the edit (given as node ids), which
is enough: check runs every test that no marker leaves out, and a FAIL line in its
report shows that none did.
"""

from dataclasses import dataclass

import pytest
from conftest import copy_of_step, run_tutorial

from tutorial.check.command import Behaviour
from tutorial.course.steps import get_step


@dataclass(frozen=True)
class Protection:
    step: int
    name: str  # as the README says it
    path: str  # the file of the step that holds it
    protected: str  # the text of that file that protects, exactly once in it
    unprotected: str  # what a learner who left the protection out would have there
    caught_by: tuple  # node ids of the tests that must fail, tests/test_x.py::test_y

    @property
    def id(self):
        return f"step_{self.step:02d}-{self.name}"


# Step 04's is_being_confirmed() and the post_save receiver's first lines, unchanged
# between the two notes of the "module-level variable" row.
STEP_04_IS_BEING_CONFIRMED = (
    "def is_being_confirmed(order, update_fields):\n"
    '    if not order.confirmed or (update_fields is not None and "confirmed" not in update_fields):\n'
    "        return False\n"
    "    if order.pk is None:\n"
    "        return True\n"
    "    # Order.save() runs in a transaction, so this lock holds until the stock is taken.\n"
    "    stored = Order.objects.select_for_update().filter(pk=order.pk)\n"
    '    return stored.values_list("confirmed", flat=True).first() is not True\n'
    "\n"
    "\n"
    '@receiver(post_save, sender=Order, dispatch_uid="update_quantity_on_order_confirmation")\n'
    "def update_quantity_on_order_confirmation(sender, instance, **kwargs):\n"
    '    """Take the order\'s quantity out of stock when the save just confirmed it."""\n'
)

PROTECTIONS = [
    # ---- step 03: a custom signal ----
    Protection(
        step=3,
        name="dispatch_uid",
        path="products/signals.py",
        protected=(
            '@receiver(order_confirmed, sender=Order, dispatch_uid="update_quantity_on_order_confirmation")\n'
        ),
        unprotected="@receiver(order_confirmed, sender=Order)\n",
        caught_by=(
            "tests/test_signal_wiring.py::"
            "test_the_receivers_module_run_under_a_second_name_connects_no_second_copy",
        ),
    ),
    Protection(
        step=3,
        name="the receiver is connected with sender=Order",
        path="products/signals.py",
        protected="@receiver(order_confirmed, sender=Order, dispatch_uid=",
        unprotected="@receiver(order_confirmed, dispatch_uid=",
        caught_by=(
            "tests/test_signal_wiring.py::"
            "test_an_instance_as_sender_misses_receivers_filtered_on_the_class",
        ),
    ),
    Protection(
        step=3,
        name="sender=Order, order=order",
        path="orders/views.py",
        protected="            order_confirmed.send(sender=Order, order=order)\n",
        unprotected="            order_confirmed.send(sender=order, order=order)\n",
        caught_by=(
            "tests/test_confirm_order.py::test_confirming_takes_the_ordered_quantity_from_stock",
        ),
    ),
    Protection(
        step=3,
        name="a conditional UPDATE instead of read-modify-write",
        path="products/signals.py",
        protected=(
            "    in_stock = Product.objects.filter(pk=product.pk, quantity__gte=order.quantity)\n"
            '    taken = in_stock.update(quantity=F("quantity") - order.quantity)\n'
            '    product.refresh_from_db(fields=["quantity"])\n'
            "    if not taken:\n"
            "        raise OutOfStock(product, requested=order.quantity)\n"
        ),
        unprotected=(
            "    if product.quantity < order.quantity:\n"
            "        raise OutOfStock(product, requested=order.quantity)\n"
            "    product.quantity -= order.quantity\n"
            '    product.save(update_fields=["quantity"])\n'
        ),
        caught_by=(
            "tests/test_concurrency.py::"
            "test_the_stock_is_taken_in_the_database_not_from_a_stale_copy",
        ),
    ),
    Protection(
        step=3,
        name="an OutOfStock error and a 409 instead of a negative stock",
        path="products/signals.py",
        protected="    in_stock = Product.objects.filter(pk=product.pk, quantity__gte=order.quantity)\n",
        unprotected="    in_stock = Product.objects.filter(pk=product.pk)\n",
        caught_by=(
            "tests/test_confirm_order.py::test_short_stock_is_a_conflict_and_confirms_nothing",
            "tests/test_signal_wiring.py::test_send_lets_the_receivers_exception_through",
        ),
    ),
    Protection(
        step=3,
        name="send(), not send_robust()",
        path="orders/views.py",
        protected="            order_confirmed.send(sender=Order, order=order)\n",
        unprotected="            order_confirmed.send_robust(sender=Order, order=order)\n",
        caught_by=(
            "tests/test_confirm_order.py::test_short_stock_is_a_conflict_and_confirms_nothing",
        ),
    ),
    Protection(
        step=3,
        name="the view confirms and sends in one transaction",
        path="orders/views.py",
        protected=(
            "        with transaction.atomic():\n"
            "            order = get_object_or_404(\n"
            '                Order.objects.select_related("product").select_for_update(of=("self",)),\n'
            "                pk=order_id,\n"
            "            )\n"
            "            if order.confirmed:\n"
            '                return reply(request, f"Order {order.pk} was already confirmed.", messages.INFO)\n'
            "            order.confirmed = True\n"
            '            order.save(update_fields=["confirmed"])\n'
            "            # send(), not send_robust(): a receiver's OutOfStock must reach us,\n"
            "            # so that leaving the atomic block rolls the confirmation back.\n"
            "            order_confirmed.send(sender=Order, order=order)\n"
        ),
        unprotected=(
            "        order = get_object_or_404(\n"
            '            Order.objects.select_related("product").select_for_update(of=("self",)),\n'
            "            pk=order_id,\n"
            "        )\n"
            "        if order.confirmed:\n"
            '            return reply(request, f"Order {order.pk} was already confirmed.", messages.INFO)\n'
            "        order.confirmed = True\n"
            '        order.save(update_fields=["confirmed"])\n'
            "        order_confirmed.send(sender=Order, order=order)\n"
        ),
        caught_by=(
            "tests/test_confirm_order.py::test_short_stock_is_a_conflict_and_confirms_nothing",
        ),
    ),
    Protection(
        step=3,
        name="IMMEDIATE transactions on SQLite",
        path="my_shop/settings.py",
        protected=(
            'if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":\n'
            "    # SQLite ignores select_for_update(). IMMEDIATE transactions take the write\n"
            "    # lock at BEGIN, so two confirmations of one order run one after the other.\n"
            '    DATABASES["default"]["OPTIONS"] = {"transaction_mode": "IMMEDIATE", "timeout": 20}\n'
        ),
        unprotected="",
        caught_by=(
            "tests/test_concurrency.py::"
            "test_a_second_post_for_the_order_waits_until_the_first_has_committed",
        ),
    ),
    Protection(
        step=3,
        name="the view sets confirmed",
        path="orders/views.py",
        protected='            order.confirmed = True\n            order.save(update_fields=["confirmed"])\n',
        unprotected="",
        caught_by=(
            "tests/test_confirm_order.py::test_confirming_twice_changes_nothing_the_second_time",
        ),
    ),
    Protection(
        step=3,
        name="an order already confirmed is not confirmed again",
        path="orders/views.py",
        protected=(
            "            if order.confirmed:\n"
            '                return reply(request, f"Order {order.pk} was already confirmed.", messages.INFO)\n'
        ),
        unprotected="",
        caught_by=(
            "tests/test_confirm_order.py::test_confirming_twice_changes_nothing_the_second_time",
        ),
    ),
    Protection(
        step=3,
        name="405 with Allow: POST",
        path="orders/views.py",
        protected="@require_POST\ndef confirm_order(",
        unprotected="def confirm_order(",
        caught_by=("tests/test_confirm_order.py::test_only_post_is_allowed[get]",),
    ),
    Protection(
        step=3,
        name="next must be a URL of this site",
        path="orders/views.py",
        protected=(
            "    if next_url and url_has_allowed_host_and_scheme(\n"
            "        next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()\n"
            "    ):\n"
        ),
        unprotected="    if next_url:\n",
        caught_by=("tests/test_order_page.py::test_a_next_url_on_another_site_is_never_followed",),
    ),
    # ---- step 04: built-in signals ----
    Protection(
        step=4,
        name="raw saves are skipped",
        path="products/signals.py",
        protected=(
            "    instance._is_being_confirmed = not raw and is_being_confirmed(instance, update_fields)\n"
        ),
        unprotected="    instance._is_being_confirmed = is_being_confirmed(instance, update_fields)\n",
        caught_by=("tests/test_model_signals.py::test_loading_a_fixture_takes_no_stock",),
    ),
    Protection(
        step=4,
        name="pre_save reads the stored row: only the save that confirms takes stock",
        path="products/signals.py",
        protected=(
            "    # Order.save() runs in a transaction, so this lock holds until the stock is taken.\n"
            "    stored = Order.objects.select_for_update().filter(pk=order.pk)\n"
            '    return stored.values_list("confirmed", flat=True).first() is not True\n'
        ),
        unprotected="    return True\n",
        caught_by=(
            "tests/test_model_signals.py::test_saving_a_confirmed_order_again_takes_nothing",
            "tests/test_admin_confirm.py::test_confirming_in_the_admin_takes_stock_once",
        ),
    ),
    Protection(
        step=4,
        name="stock moves when an order is confirmed, not when it is created",
        path="products/signals.py",
        protected=(
            "def update_quantity_on_order_confirmation(sender, instance, **kwargs):\n"
            '    """Take the order\'s quantity out of stock when the save just confirmed it."""\n'
            '    if not getattr(instance, "_is_being_confirmed", False):\n'
            "        return\n"
        ),
        unprotected=(
            "def update_quantity_on_order_confirmation(sender, instance, created, **kwargs):\n"
            '    """Take the order\'s quantity out of stock when the order is created."""\n'
            "    if not created:\n"
            "        return\n"
        ),
        caught_by=(
            "tests/test_model_signals.py::test_creating_an_unconfirmed_order_takes_no_stock",
        ),
    ),
    Protection(
        step=4,
        name="the note travels on the instance, not in a module-level variable",
        path="products/signals.py",
        protected=(
            "    instance._is_being_confirmed = not raw and is_being_confirmed(instance, update_fields)\n"
            "\n"
            "\n"
            + STEP_04_IS_BEING_CONFIRMED
            + '    if not getattr(instance, "_is_being_confirmed", False):\n'
            "        return\n"
            "    instance._is_being_confirmed = False\n"
        ),
        unprotected=(
            "    global order_is_being_confirmed\n"
            "    order_is_being_confirmed = not raw and is_being_confirmed(instance, update_fields)\n"
            "\n"
            "\n"
            "order_is_being_confirmed = False\n\n\n"
            + STEP_04_IS_BEING_CONFIRMED
            + "    global order_is_being_confirmed\n"
            "    if not order_is_being_confirmed:\n"
            "        return\n"
            "    order_is_being_confirmed = False\n"
        ),
        caught_by=("tests/test_model_signals.py::test_each_save_keeps_its_own_confirmation_note",),
    ),
    Protection(
        step=4,
        name="save() in one transaction",
        path="orders/models.py",
        protected=(
            "        with transaction.atomic(savepoint=False):\n"
            "            super().save(*args, **kwargs)\n"
        ),
        unprotected="        super().save(*args, **kwargs)\n",
        caught_by=("tests/test_model_signals.py::test_short_stock_rolls_the_save_back",),
    ),
    Protection(
        step=4,
        name="the admin form refuses a confirmation the stock cannot cover",
        path="orders/admin.py",
        protected="    form = OrderAdminForm\n",
        unprotected="",
        caught_by=(
            "tests/test_admin_confirm.py::"
            "test_confirming_in_the_admin_without_stock_shows_a_form_error",
        ),
    ),
    Protection(
        step=4,
        name="environ=None, scope=None",
        path="request_log/signals.py",
        protected=(
            "def note_request_start(sender, environ=None, scope=None, **kwargs):\n"
            '    """WSGI sends the request\'s ``environ``; ASGI sends its ``scope`` instead."""\n'
            "    if scope is not None:\n"
            '        method, path = scope["method"], scope["path"]\n'
            "    else:\n"
            '        method, path = environ["REQUEST_METHOD"], environ["PATH_INFO"]\n'
        ),
        unprotected=(
            "def note_request_start(sender, environ, **kwargs):\n"
            '    method, path = environ["REQUEST_METHOD"], environ["PATH_INFO"]\n'
        ),
        caught_by=(
            "tests/test_request_signals.py::test_asgi_sends_started_with_the_scope_and_no_environ",
            "tests/test_request_signals.py::test_an_order_confirms_under_asgi",
        ),
    ),
    Protection(
        step=4,
        name="current_request = threading.local(), not a ContextVar",
        path="request_log/signals.py",
        protected=(
            "current_request = threading.local()\n"
            "\n"
            "\n"
            '@receiver(request_started, dispatch_uid="note_request_start")\n'
            "def note_request_start(sender, environ=None, scope=None, **kwargs):\n"
            '    """WSGI sends the request\'s ``environ``; ASGI sends its ``scope`` instead."""\n'
            "    if scope is not None:\n"
            '        method, path = scope["method"], scope["path"]\n'
            "    else:\n"
            '        method, path = environ["REQUEST_METHOD"], environ["PATH_INFO"]\n'
            "    current_request.started = (method, path, time.perf_counter())\n"
            "\n"
            "\n"
            '@receiver(request_finished, dispatch_uid="log_request_duration")\n'
            "def log_request_duration(sender, **kwargs):\n"
            '    started = getattr(current_request, "started", None)\n'
            "    if started is None:\n"
            "        return\n"
            "    del current_request.started\n"
        ),
        unprotected=(
            "from contextvars import ContextVar\n"
            "\n"
            'current_request = ContextVar("current_request", default=None)\n'
            "\n"
            "\n"
            '@receiver(request_started, dispatch_uid="note_request_start")\n'
            "def note_request_start(sender, environ=None, scope=None, **kwargs):\n"
            '    """WSGI sends the request\'s ``environ``; ASGI sends its ``scope`` instead."""\n'
            "    if scope is not None:\n"
            '        method, path = scope["method"], scope["path"]\n'
            "    else:\n"
            '        method, path = environ["REQUEST_METHOD"], environ["PATH_INFO"]\n'
            "    current_request.set((method, path, time.perf_counter()))\n"
            "\n"
            "\n"
            '@receiver(request_finished, dispatch_uid="log_request_duration")\n'
            "def log_request_duration(sender, **kwargs):\n"
            "    started = current_request.get()\n"
            "    if started is None:\n"
            "        return\n"
            "    current_request.set(None)\n"
        ),
        caught_by=(
            "tests/test_request_signals.py::test_each_request_under_asgi_is_logged_with_its_duration",
        ),
    ),
    # ---- step 05: profiles and comment emails ----
    Protection(
        step=5,
        name="created keeps later saves from creating a profile",
        path="customers/signals.py",
        protected="    if created and not raw:\n",
        unprotected="    if not raw:\n",
        caught_by=("tests/test_customers.py::test_a_later_save_of_a_user_creates_no_profile",),
    ),
    Protection(
        step=5,
        name="raw skips users loaded by loaddata",
        path="customers/signals.py",
        protected="    if created and not raw:\n",
        unprotected="    if created:\n",
        caught_by=("tests/test_customers.py::test_users_loaded_from_a_fixture_get_no_profile",),
    ),
    Protection(
        step=5,
        name="get_or_create makes the receiver idempotent",
        path="customers/signals.py",
        protected="Customer.objects.get_or_create(user=instance)",
        unprotected="Customer.objects.create(user=instance)",
        caught_by=("tests/test_customers.py::test_an_existing_profile_is_no_error",),
    ),
    Protection(
        step=5,
        name="login_url=signup",
        path="customers/views.py",
        protected='@login_required(login_url="signup")\n',
        unprotected="@login_required\n",
        caught_by=("tests/test_signup.py::test_the_profile_page_sends_visitors_to_signup",),
    ),
    Protection(
        step=5,
        name="TEMPLATES DIRS",
        path="my_shop/settings.py",
        protected='        "DIRS": [BASE_DIR / "templates"],\n',
        unprotected='        "DIRS": [],\n',
        caught_by=(
            "tests/test_signup.py::test_signup_page_shows_the_form",
            "tests/test_comments.py::test_blog_list_shows_the_posts",
        ),
    ),
    Protection(
        step=5,
        name="on_commit for the email",
        path="blog/signals.py",
        protected="        transaction.on_commit(partial(email_author, instance))\n",
        unprotected="        email_author(instance)\n",
        caught_by=(
            "tests/test_comments.py::test_no_email_is_sent_before_the_commit",
            "tests/test_comments.py::test_a_rolled_back_comment_sends_nothing",
            "tests/test_comments.py::"
            "test_a_failure_after_the_save_rolls_the_comment_back_and_mails_nothing",
        ),
    ),
    Protection(
        step=5,
        name="the view's atomic()",
        path="blog/views.py",
        protected="        with transaction.atomic():\n            form.save()\n",
        unprotected="        form.save()\n",
        caught_by=(
            "tests/test_comments.py::"
            "test_the_view_saves_the_comment_in_a_transaction_and_mails_after_it",
            "tests/test_comments.py::"
            "test_a_failure_after_the_save_rolls_the_comment_back_and_mails_nothing",
        ),
    ),
    Protection(
        step=5,
        name="a mail failure is logged, not raised",
        path="blog/signals.py",
        protected=(
            "    try:\n"
            "        send_mail(\n"
            "            subject=f'New comment on \"{comment.blog.title}\"',\n"
            "            message=notification_text(comment),\n"
            "            from_email=None,  # settings.DEFAULT_FROM_EMAIL\n"
            "            recipient_list=[author.email],\n"
            "        )\n"
            "    except Exception:\n"
            "        # Whatever the mail backend raises, the comment is saved and the commenter\n"
            "        # is done; the failure belongs in the log, not in their response.\n"
            '        logger.exception("Could not email %s about comment %s", author.email, comment.pk)\n'
        ),
        unprotected=(
            "    send_mail(\n"
            "        subject=f'New comment on \"{comment.blog.title}\"',\n"
            "        message=notification_text(comment),\n"
            "        from_email=None,  # settings.DEFAULT_FROM_EMAIL\n"
            "        recipient_list=[author.email],\n"
            "    )\n"
        ),
        caught_by=("tests/test_comments.py::test_a_mail_failure_is_logged_and_the_comment_kept",),
    ),
    Protection(
        step=5,
        name="raw fixtures send no mail",
        path="blog/signals.py",
        protected="    if created and not raw:\n",
        unprotected="    if created:\n",
        caught_by=("tests/test_comments.py::test_comments_loaded_from_fixtures_send_nothing",),
    ),
    Protection(
        step=3,
        name="ready() imports the receivers",
        path="products/apps.py",
        protected="        from products import signals  # noqa: F401\n",
        unprotected="        pass\n",
        caught_by=(
            "tests/test_confirm_order.py::test_confirming_takes_the_ordered_quantity_from_stock",
        ),
    ),
    Protection(
        step=3,
        name="logging, not print",
        path="products/signals.py",
        protected='    logger.info("Quantity updated for %s. New quantity: %s", product.name, product.quantity)\n',
        unprotected='    print(f"Quantity updated for {product.name}. New quantity: {product.quantity}")\n',
        caught_by=("tests/test_signal_wiring.py::test_the_receiver_logs_the_new_quantity",),
    ),
    Protection(
        step=4,
        name="LOGGING shows the request log",
        path="my_shop/settings.py",
        protected='        "request_log": {"handlers": ["console"], "level": "DEBUG"},\n',
        unprotected="",
        caught_by=(
            "tests/test_request_signals.py::test_the_settings_send_the_request_log_to_the_console",
        ),
    ),
    Protection(
        step=6,
        name="EMAIL_TIMEOUT",
        path="my_shop/settings.py",
        protected='EMAIL_TIMEOUT = float(os.environ.get("DJANGO_EMAIL_TIMEOUT", "10"))\n',
        unprotected="",
        caught_by=(
            "tests/test_workers.py::"
            "test_a_mail_server_that_never_answers_fails_the_task_and_the_worker_goes_on",
        ),
    ),
]


def without(protection, destination):
    """A copy of the protection's step with the protection edited out."""
    project = copy_of_step(protection.step, destination)
    source_file = project / protection.path
    source = source_file.read_text()
    assert source.count(protection.protected) == 1, f"{protection.path} changed: fix the table"
    source_file.write_text(source.replace(protection.protected, protection.unprotected))
    return project


def check_without(protection, destination):
    """Check the copy without the protection; return check's report."""
    project = without(protection, destination)
    tests = [f"--pytest-arg={node_id}" for node_id in protection.caught_by]
    result = run_tutorial("check", protection.step, project, *tests, timeout=300)
    assert result.returncode == 1, result.stdout + result.stderr
    failed = [line for line in result.stdout.splitlines() if line.startswith("  FAIL  ")]
    for node_id in protection.caught_by:
        line = f"  FAIL  {Behaviour(node_id).describe()}"
        assert any(shown == line or shown.startswith(f"{line}  (") for shown in failed), (
            result.stdout
        )
    return result.stdout


@pytest.mark.protections
@pytest.mark.parametrize("protection", PROTECTIONS, ids=lambda protection: protection.id)
def test_check_fails_a_copy_of_the_step_without_the_protection(protection, tmp_path):
    check_without(protection, tmp_path)


def test_each_protection_is_in_its_step_once_and_caught_by_tests_that_exist():
    """Cheap, so in make test: the table still matches the steps it edits."""
    for protection in PROTECTIONS:
        step = get_step(protection.step)
        source = (step.path / protection.path).read_text()
        assert source.count(protection.protected) == 1, protection.id
        for node_id in protection.caught_by:
            module, _, test = node_id.partition("::")
            test = test.partition("[")[0]  # a parametrized test's node id names its case
            assert f"def {test}(" in (step.path / module).read_text(), node_id
