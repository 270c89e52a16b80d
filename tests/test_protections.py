"""Every protection a README teaches, taken out of a copy of its step, turns `check` red.

A learner's project can copy a step but for one line. These tests are the proof that
`make check` then fails, and names the behaviour that line protects: each removes one
protection from a copy of its step (a small edit of one file) and checks the copy
against the step's tests. They run with `make test-protections`, not `make test`.

The check runs only the tests that should catch the edit (given as node ids), which
is enough: check runs every test that no marker leaves out, and a FAIL line in its
report shows that none did. A row lock is proven with --postgres: SQLite lets one
transaction write at a time, so a copy without the lock passes there.
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
    # A row lock: SQLite lets one transaction write at a time and hides the race, so the
    # copy is checked with --postgres (PostgreSQL's server programs must be installed).
    postgres: bool = False

    @property
    def id(self):
        return f"step_{self.step:02d}-{self.name}"


def block_removed(**row):
    """A row whose protection is a block (a `with`, an `if`) around lines that stay: the
    learner's copy has those lines alone, one level less indented."""
    _opening, *inside = row["protected"].splitlines(keepends=True)
    return Protection(**row, unprotected="".join(line.removeprefix("    ") for line in inside))


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
    block_removed(
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
    block_removed(
        step=4,
        name="save() in one transaction",
        path="orders/models.py",
        protected=(
            "        with transaction.atomic(savepoint=False):\n"
            "            super().save(*args, **kwargs)\n"
        ),
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
    block_removed(
        step=5,
        name="the view's atomic()",
        path="blog/views.py",
        protected="        with transaction.atomic():\n            form.save()\n",
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
    Protection(
        step=6,
        name="the receiver enqueues after the commit",
        path="blog/signals.py",
        protected="        transaction.on_commit(partial(queue_notification, instance.pk))\n",
        unprotected="        queue_notification(instance.pk)\n",
        caught_by=(
            "tests/test_comments.py::test_no_task_is_enqueued_before_the_commit",
            "tests/test_comments.py::test_a_rolled_back_comment_enqueues_nothing",
        ),
    ),
    Protection(
        step=6,
        name="the guard: a comment with notified_at is never emailed again",
        path="blog/tasks.py",
        protected="            .filter(pk=comment_id, notified_at__isnull=True)\n",
        unprotected="            .filter(pk=comment_id)\n",
        caught_by=(
            "tests/test_delivery.py::test_a_task_run_twice_sends_one_email",
            "tests/test_delivery.py::test_once_the_queue_is_back_the_missed_email_is_sent_once",
        ),
    ),
    Protection(
        step=6,
        name="the task sets notified_at once the email is sent",
        path="blog/tasks.py",
        protected=(
            "        Comment.objects.filter(pk=comment.pk).update(notified_at=timezone.now())\n"
        ),
        unprotected="",
        caught_by=(
            "tests/test_delivery.py::test_a_task_run_twice_sends_one_email",
            "tests/test_delivery.py::test_a_failed_email_is_sent_by_the_next_run",
        ),
    ),
    block_removed(
        step=6,
        name="notified_at read and written in one transaction",
        path="blog/tasks.py",
        protected=(
            "    with transaction.atomic():\n"
            "        comment = (\n"
            '            Comment.objects.select_for_update(of=("self",))\n'
            '            .select_related("blog__author")\n'
            "            .filter(pk=comment_id, notified_at__isnull=True)\n"
            "            .first()\n"
            "        )\n"
            "        if comment is None or not comment.blog.author.email:\n"
            "            return  # deleted, already notified, or an author without an address\n"
            "        send_mail(\n"
            "            subject=f'New comment on \"{comment.blog.title}\"',\n"
            "            message=notification_text(comment),\n"
            "            from_email=None,  # settings.DEFAULT_FROM_EMAIL\n"
            "            recipient_list=[comment.blog.author.email],\n"
            "        )\n"
            "        Comment.objects.filter(pk=comment.pk).update(notified_at=timezone.now())\n"
        ),
        caught_by=(
            "tests/test_delivery.py::test_one_comment_s_task_run_twice_at_once_sends_one_email",
        ),
    ),
    Protection(
        step=6,
        name="a queue that is down never reaches the reader",
        path="blog/signals.py",
        protected=(
            "    try:\n"
            "        notify_author.enqueue(comment_id)\n"
            "    except Exception as error:  # each backend raises its own: Redis, the database, "
            "...\n"
            "        logger.error(\n"
            '            "Could not queue the email about comment %s (%s: %s); "\n'
            '            "manage.py queue_missed_notifications will queue it",\n'
            "            comment_id,\n"
            "            type(error).__name__,\n"
            "            error,\n"
            "        )\n"
        ),
        unprotected="    notify_author.enqueue(comment_id)\n",
        caught_by=(
            "tests/test_delivery.py::"
            "test_with_the_queue_down_the_comment_is_kept_and_the_failure_logged",
        ),
    ),
    Protection(
        step=6,
        name="comment_id_of() reads the arguments however the task was enqueued",
        path="blog/signals.py",
        protected=(
            "    if task_result.args:\n"
            "        return task_result.args[0]\n"
            '    return task_result.kwargs.get("comment_id")\n'
        ),
        unprotected="    return task_result.args[0]\n",
        caught_by=(
            "tests/test_delivery.py::"
            "test_a_failed_task_enqueued_by_keyword_is_logged_with_its_comment",
        ),
    ),
    Protection(
        step=6,
        name="the task_finished receiver checks that the task is ours",
        path="blog/signals.py",
        protected="    if not is_ours or task_result.status != TaskResultStatus.FAILED:\n",
        unprotected="    if task_result.status != TaskResultStatus.FAILED:\n",
        caught_by=(
            "tests/test_delivery.py::test_another_task_s_failure_is_not_logged_as_a_comment_s",
        ),
    ),
    Protection(
        step=6,
        name="the task_finished receiver checks that the task failed",
        path="blog/signals.py",
        protected="    if not is_ours or task_result.status != TaskResultStatus.FAILED:\n",
        unprotected="    if not is_ours:\n",
        caught_by=("tests/test_delivery.py::test_a_sent_email_logs_nothing",),
    ),
    Protection(
        step=6,
        name="RQ announces the failure before it records the error",
        path="blog/signals.py",
        protected=(
            "    lines = task_result.errors[-1].traceback.strip().splitlines() if "
            "task_result.errors else []\n"
        ),
        unprotected="    lines = task_result.errors[-1].traceback.strip().splitlines()\n",
        caught_by=(
            "tests/test_delivery.py::"
            "test_a_failure_announced_before_its_error_is_recorded_is_logged_all_the_same",
        ),
    ),
    Protection(
        step=6,
        name="the sweep queues only comments without notified_at",
        path="blog/management/commands/queue_missed_notifications.py",
        protected="            notified_at__isnull=True,\n",
        unprotected="",
        caught_by=(
            "tests/test_delivery.py::"
            "test_the_sweep_leaves_recent_notified_and_addressless_comments_alone",
        ),
    ),
    Protection(
        step=6,
        name="the sweep leaves comments younger than --older-than to the queue",
        path="blog/management/commands/queue_missed_notifications.py",
        protected="            created_at__lte=due_before,\n",
        unprotected="",
        caught_by=(
            "tests/test_delivery.py::"
            "test_the_sweep_leaves_recent_notified_and_addressless_comments_alone",
        ),
    ),
    Protection(
        step=6,
        name="the sweep leaves authors without an address alone",
        path="blog/management/commands/queue_missed_notifications.py",
        protected='        ).exclude(blog__author__email="")\n',
        unprotected="        )\n",
        caught_by=(
            "tests/test_delivery.py::"
            "test_the_sweep_leaves_recent_notified_and_addressless_comments_alone",
        ),
    ),
    Protection(
        step=6,
        name="the sweep refuses a negative age",
        path="blog/management/commands/queue_missed_notifications.py",
        protected=(
            "        if older_than < 0:\n"
            '            raise CommandError("--older-than takes a number of minutes, 0 or '
            'more.")\n'
        ),
        unprotected="",
        caught_by=("tests/test_delivery.py::test_the_sweep_refuses_a_negative_age",),
    ),
    Protection(
        step=6,
        name="a queue still down stops the sweep without a traceback",
        path="blog/management/commands/queue_missed_notifications.py",
        protected=(
            "            try:\n"
            "                notify_author.enqueue(comment_id)\n"
            "            except Exception as error:  # the queue is still down: try again later\n"
            "                raise CommandError(\n"
            '                    f"Queued {queued} email(s), then could not queue comment '
            "{comment_id}'s: \"\n"
            '                    f"{error!r}. Run this again once the queue is back."\n'
            "                ) from error\n"
        ),
        unprotected="            notify_author.enqueue(comment_id)\n",
        caught_by=(
            "tests/test_delivery.py::"
            "test_the_sweep_fails_without_a_traceback_when_the_queue_is_still_down",
        ),
    ),
    Protection(
        step=6,
        name="the migration marks the comments already there as notified",
        path="blog/migrations/0002_comment_notified_at.py",
        protected=(
            "        migrations.RunPython(mark_earlier_comments_notified, "
            "migrations.RunPython.noop),\n"
        ),
        unprotected="",
        caught_by=(
            "tests/test_delivery.py::"
            "test_the_migration_marks_the_comments_already_there_as_notified",
        ),
    ),
    Protection(
        step=7,
        name="a data migration writes on schema_editor.connection.alias",
        path="blog/migrations/0002_comment_notified_at.py",
        protected="    comments = Comment.objects.using(schema_editor.connection.alias)\n",
        unprotected="    comments = Comment.objects\n",
        caught_by=("tests/test_staff_group.py::test_each_database_migrated_gets_its_own_group",),
    ),
    Protection(
        step=7,
        name="the tag counts are recounted on using",
        path="products/signals.py",
        protected="        tags = Tag.objects.using(using).filter(pk__in=tag_ids)\n",
        unprotected="        tags = Tag.objects.filter(pk__in=tag_ids)\n",
        caught_by=("tests/test_tags.py::test_a_second_database_keeps_its_own_counts",),
    ),
    Protection(
        step=7,
        name="clear() sends pk_set None: the tags are noted at pre_clear",
        path="products/signals.py",
        protected=(
            '    elif action == "pre_clear":\n'
            "        # post_clear's pk_set is None and the rows are gone by then: note them now.\n"
            '        instance._cleared_tag_ids = list(instance.tags.values_list("pk", '
            "flat=True))\n"
            '    elif action == "post_clear":\n'
            "        recount_products(instance._cleared_tag_ids, using)\n"
        ),
        unprotected="",
        caught_by=(
            "tests/test_tags.py::"
            "test_clearing_sends_no_ids_so_the_receiver_notes_them_at_pre_clear",
            "tests/test_tags.py::test_deleting_a_product_takes_it_out_of_its_tags_counts",
        ),
    ),
    Protection(
        step=7,
        name="from the tags side (reverse) pk_set holds products",
        path="products/signals.py",
        protected=(
            "    if reverse:\n"
            '        if action.startswith("post_"):\n'
            "            recount_products([instance.pk], using)\n"
            '    elif action == "pre_clear":\n'
        ),
        unprotected='    if action == "pre_clear":\n',
        caught_by=(
            "tests/test_tags.py::test_from_the_tags_side_reverse_is_true_and_pk_set_holds_products",
        ),
    ),
    Protection(
        step=7,
        name="a tag is recounted after every save",
        path="products/signals.py",
        protected='@receiver(post_save, sender=Tag, dispatch_uid="recount_saved_tag")\n',
        unprotected="",
        caught_by=(
            "tests/test_tags.py::test_a_tag_saved_with_a_stale_count_is_recounted",
            "tests/test_tags.py::"
            "test_loading_the_demo_again_recounts_instead_of_keeping_the_fixture_s_number",
        ),
    ),
    Protection(
        step=7,
        name="a pre_delete receiver clears a deleted product's tags",
        path="products/signals.py",
        protected='@receiver(pre_delete, sender=Product, dispatch_uid="untag_deleted_product")\n',
        unprotected="",
        caught_by=(
            "tests/test_tags.py::test_deleting_a_product_takes_it_out_of_its_tags_counts",
            "tests/test_tags.py::test_deleting_products_in_bulk_takes_them_out_of_the_counts_too",
        ),
    ),
    Protection(
        step=7,
        name="pre_delete notes the image of a product loaded without it",
        path="products/signals.py",
        protected=(
            "@receiver(pre_delete, sender=Product, "
            'dispatch_uid="note_image_of_deleted_product")\n'
            "def note_image_of_deleted_product(sender, instance, **kwargs):\n"
            '    """Note the image\'s name while the row is still there to read it from.\n'
            "\n"
            "    A product loaded with only() or defer() has no image in memory; reading it in\n"
            "    post_delete would make Django load it from a row that is gone (DoesNotExist).\n"
            '    """\n'
            "    instance._image_to_delete = instance.image.name\n"
            "\n"
            "\n"
            '@receiver(post_delete, sender=Product, dispatch_uid="delete_image_file")\n'
            "def delete_image_file(sender, instance, using, **kwargs):\n"
            '    """Delete the product\'s image file, once the delete is committed."""\n'
            "    delete_unused_file_on_commit(instance.image.storage, instance._image_to_delete, "
            "using)\n"
        ),
        unprotected=(
            '@receiver(post_delete, sender=Product, dispatch_uid="delete_image_file")\n'
            "def delete_image_file(sender, instance, using, **kwargs):\n"
            '    """Delete the product\'s image file, once the delete is committed."""\n'
            "    delete_unused_file_on_commit(instance.image.storage, instance.image.name, using)\n"
        ),
        caught_by=(
            "tests/test_deletes.py::test_a_product_loaded_without_its_image_deletes_with_its_file",
        ),
    ),
    Protection(
        step=7,
        name="the file goes only when the delete is committed",
        path="products/signals.py",
        protected="    transaction.on_commit(delete_if_unused, using=using, robust=True)\n",
        unprotected="    delete_if_unused()\n",
        caught_by=(
            "tests/test_deletes.py::test_a_rolled_back_delete_keeps_the_row_and_the_file",
            "tests/test_deletes.py::test_a_replaced_image_stays_if_the_save_rolls_back",
        ),
    ),
    Protection(
        step=7,
        name="on_commit(robust=True): a file that cannot be deleted is logged, the rest goes on",
        path="products/signals.py",
        protected="    transaction.on_commit(delete_if_unused, using=using, robust=True)\n",
        unprotected="    transaction.on_commit(delete_if_unused, using=using)\n",
        caught_by=(
            "tests/test_deletes.py::"
            "test_a_file_that_cannot_be_deleted_is_logged_on_the_console_and_the_delete_stands",
        ),
    ),
    Protection(
        step=7,
        name="LOGGING sends django.db.backends.base to the console whatever DEBUG is",
        path="my_shop/settings.py",
        protected=(
            '        "django.db.backends.base": {"handlers": ["console"], "level": '
            '"ERROR", "propagate": False},\n'
        ),
        unprotected="",
        caught_by=(
            "tests/test_deletes.py::"
            "test_a_file_that_cannot_be_deleted_is_logged_on_the_console_and_the_delete_stands",
        ),
    ),
    block_removed(
        step=7,
        name="a file another product names stays",
        path="products/signals.py",
        protected=(
            "        if not Product.objects.using(using).filter(image=name).exists():\n"
            "            storage.delete(name)\n"
        ),
        caught_by=(
            "tests/test_deletes.py::"
            "test_deleting_a_product_keeps_a_file_that_a_copy_of_it_still_names",
        ),
    ),
    Protection(
        step=7,
        name="clearing or replacing an image deletes the old file",
        path="products/signals.py",
        protected=(
            '@receiver(post_save, sender=Product, dispatch_uid="delete_replaced_image_file")\n'
        ),
        unprotected="",
        caught_by=(
            "tests/test_deletes.py::test_clearing_the_image_in_the_admin_deletes_the_old_file",
            "tests/test_deletes.py::test_replacing_the_image_in_the_admin_deletes_the_old_file",
        ),
    ),
    Protection(
        step=7,
        name="a save whose image is as loaded deletes no file",
        path="products/signals.py",
        protected=("    if instance.image.name == instance._loaded_image:\n        return\n"),
        unprotected="",
        caught_by=(
            "tests/test_deletes.py::test_a_stale_save_of_a_product_deletes_no_file",
            "tests/test_deletes.py::test_loading_a_fixture_over_a_product_deletes_no_file",
        ),
    ),
    Protection(
        step=7,
        name="post_migrate connected with sender=self",
        path="accounts/apps.py",
        protected=(
            "            signals.create_shop_staff_group, sender=self, "
            'dispatch_uid="create_shop_staff_group"\n'
        ),
        unprotected=(
            '            signals.create_shop_staff_group, dispatch_uid="create_shop_staff_group"\n'
        ),
        caught_by=(
            "tests/test_staff_group.py::"
            "test_the_test_database_has_the_group_because_pytest_django_ran_migrate",
        ),
    ),
    Protection(
        step=7,
        name="the receiver asks the router (router.allow_migrate_model)",
        path="accounts/signals.py",
        protected=(
            "    if not (\n"
            "        router.allow_migrate_model(using, Group) and "
            "router.allow_migrate_model(using, Permission)\n"
            "    ):\n"
            "        return  # A router keeps auth off this database.\n"
        ),
        unprotected="",
        caught_by=(
            "tests/test_staff_group.py::test_a_database_that_a_router_keeps_auth_off_gets_no_group",
        ),
    ),
    Protection(
        step=7,
        name="the group is created on using",
        path="accounts/signals.py",
        protected=(
            "    group, created = Group.objects.using(using).get_or_create(name=SHOP_STAFF)\n"
        ),
        unprotected="    group, created = Group.objects.get_or_create(name=SHOP_STAFF)\n",
        caught_by=("tests/test_staff_group.py::test_each_database_migrated_gets_its_own_group",),
    ),
    Protection(
        step=7,
        name="the permissions are read on using",
        path="accounts/signals.py",
        protected=(
            "        group.permissions.set(Permission.objects.using(using).filter(managed))\n"
        ),
        unprotected="        group.permissions.set(Permission.objects.filter(managed))\n",
        caught_by=("tests/test_staff_group.py::test_each_database_migrated_gets_its_own_group",),
    ),
    Protection(
        step=7,
        name="only once the shop's models are migrated",
        path="accounts/signals.py",
        protected=(
            "        for app_label, model in SHOP_STAFF_MODELS:\n"
            "            apps.get_model(app_label, model)\n"
        ),
        unprotected="",
        caught_by=(
            "tests/test_staff_group.py::"
            "test_a_migrate_that_stops_short_of_the_shop_s_apps_leaves_the_group_for_later",
        ),
    ),
    Protection(
        step=7,
        name="a model missing from apps (LookupError) waits for a later migrate",
        path="accounts/signals.py",
        protected=(
            "    try:\n"
            '        Group = apps.get_model("auth", "Group")\n'
            '        Permission = apps.get_model("auth", "Permission")\n'
            "        # A model missing from apps has no table (after migrate auth zero) or no\n"
            "        # permissions yet (after migrate auth on a new database): wait for a later "
            "run.\n"
            "        for app_label, model in SHOP_STAFF_MODELS:\n"
            "            apps.get_model(app_label, model)\n"
            "    except LookupError:\n"
            "        return\n"
        ),
        unprotected=(
            '    Group = apps.get_model("auth", "Group")\n'
            '    Permission = apps.get_model("auth", "Permission")\n'
        ),
        caught_by=(
            "tests/test_staff_group.py::"
            "test_migrate_auth_zero_drops_the_group_and_the_next_migrate_brings_it_back",
            "tests/test_staff_group.py::"
            "test_a_migrate_that_stops_short_of_the_shop_s_apps_leaves_the_group_for_later",
        ),
    ),
    block_removed(
        step=7,
        name="idempotent: an admin's change to the group survives",
        path="accounts/signals.py",
        protected=(
            "    if created:\n"
            "        managed = Q()\n"
            "        for app_label, model in SHOP_STAFF_MODELS:\n"
            "            managed |= Q(content_type__app_label=app_label, "
            "content_type__model=model)\n"
            "        group.permissions.set(Permission.objects.using(using).filter(managed))\n"
        ),
        caught_by=(
            "tests/test_staff_group.py::"
            "test_an_admin_s_change_to_the_group_survives_the_next_migrate",
        ),
    ),
    Protection(
        step=7,
        name="flush sends post_migrate without apps, hence the default",
        path="accounts/signals.py",
        protected="def create_shop_staff_group(sender, using, apps=global_apps, **kwargs):\n",
        unprotected="def create_shop_staff_group(sender, using, apps, **kwargs):\n",
        caught_by=(
            "tests/test_staff_group.py::"
            "test_flush_sends_post_migrate_without_apps_and_the_group_comes_back",
        ),
    ),
    Protection(
        step=7,
        name="what was typed is never stored: an unknown username is (no such user)",
        path="accounts/signals.py",
        protected="        record(LoginEvent.Kind.LOGIN_FAILED, request, username=NO_SUCH_USER)\n",
        unprotected=(
            "        record(LoginEvent.Kind.LOGIN_FAILED, request, "
            'username=credentials.get("username", ""))\n'
        ),
        caught_by=(
            "tests/test_login_events.py::test_an_unknown_username_is_not_recorded",
            "tests/test_login_events.py::test_a_password_typed_as_the_username_is_stored_nowhere",
        ),
    ),
    Protection(
        step=7,
        name="a failure finds the user by USERNAME_FIELD's own name too",
        path="accounts/signals.py",
        protected=(
            "    if username is None:\n"
            "        username = credentials.get(UserModel.USERNAME_FIELD)\n"
        ),
        unprotected="",
        caught_by=(
            "tests/test_login_events.py::"
            "test_a_failure_finds_the_user_by_the_username_field_s_own_name_too",
        ),
    ),
    block_removed(
        step=7,
        name="logging out without being logged in sends user=None",
        path="accounts/signals.py",
        protected=(
            "    if user is not None:\n"
            "        record(LoginEvent.Kind.LOGGED_OUT, request, user=user, "
            "username=user.get_username())\n"
        ),
        caught_by=(
            "tests/test_login_events.py::test_logging_out_when_nobody_is_logged_in_records_nothing",
        ),
    ),
    Protection(
        step=7,
        name="authenticate() without a request sends request=None",
        path="accounts/signals.py",
        protected=(
            '    ip_address = request.META.get("REMOTE_ADDR") if request is not None else None\n'
        ),
        unprotected='    ip_address = request.META.get("REMOTE_ADDR")\n',
        caught_by=(
            "tests/test_login_events.py::"
            "test_authenticate_without_a_request_is_recorded_without_an_address",
        ),
    ),
    Protection(
        step=7,
        name="the audit log is read only in the admin: no add",
        path="accounts/admin.py",
        protected=("    def has_add_permission(self, request):\n        return False\n\n"),
        unprotected="",
        caught_by=(
            "tests/test_login_events.py::test_the_admin_lists_the_events_and_lets_nobody_edit_them",
        ),
    ),
    Protection(
        step=7,
        name="the audit log is read only in the admin: no change",
        path="accounts/admin.py",
        protected=(
            "    def has_change_permission(self, request, obj=None):\n        return False\n\n"
        ),
        unprotected="",
        caught_by=(
            "tests/test_login_events.py::test_the_admin_lists_the_events_and_lets_nobody_edit_them",
        ),
    ),
    Protection(
        step=7,
        name="read only means no delete either",
        path="accounts/admin.py",
        protected=(
            "\n"
            "    def has_delete_permission(self, request, obj=None):\n"
            '        # Also takes "Delete selected" out of the list\'s actions.\n'
            "        return False\n"
        ),
        unprotected="",
        caught_by=(
            "tests/test_login_events.py::test_the_admin_lets_nobody_delete_an_event",
            "tests/test_login_events.py::test_the_admin_s_delete_selected_action_deletes_no_event",
        ),
    ),
    Protection(
        step=7,
        name="prune_login_events refuses a negative number of days",
        path="accounts/management/commands/prune_login_events.py",
        protected=(
            "        if older_than < 0:\n"
            '            raise CommandError("--older-than takes a number of days, 0 or more.")\n'
        ),
        unprotected="",
        caught_by=(
            "tests/test_login_events.py::"
            "test_prune_login_events_refuses_days_that_are_not_a_whole_number_0_or_more[-1]",
            "tests/test_login_events.py::"
            "test_prune_login_events_explains_a_bad_number_of_days_without_a_traceback[-1]",
        ),
    ),
    Protection(
        step=7,
        name="delete_unused_images reads the names on each database that holds products",
        path="products/management/commands/delete_unused_images.py",
        protected="    for alias in connections:\n",
        unprotected='    for alias in ["default"]:\n',
        caught_by=(
            "tests/test_deletes.py::"
            "test_delete_unused_images_keeps_a_file_that_another_database_names",
        ),
    ),
    Protection(
        step=7,
        name="delete_unused_images leaves files younger than --older-than",
        path="products/management/commands/delete_unused_images.py",
        protected=(
            "            if name not in named and storage.get_modified_time(name) <= cutoff\n"
        ),
        unprotected="            if name not in named\n",
        caught_by=(
            "tests/test_deletes.py::"
            "test_delete_unused_images_removes_what_a_rolled_back_upload_left",
        ),
    ),
    Protection(
        step=7,
        name="delete_unused_images refuses a negative age",
        path="products/management/commands/delete_unused_images.py",
        protected=(
            "        if older_than < 0:\n"
            '            raise CommandError("--older-than takes a number of minutes, 0 or '
            'more.")\n'
        ),
        unprotected="",
        caught_by=("tests/test_deletes.py::test_delete_unused_images_refuses_a_negative_age",),
    ),
    Protection(
        step=7,
        name="require_safe: the product list answers HEAD",
        path="products/views.py",
        protected=(
            "from django.views.decorators.http import require_safe\n"
            "\n"
            "from products.models import Product, Tag\n"
            "\n"
            "\n"
            "@require_safe\n"
        ),
        unprotected=(
            "from django.views.decorators.http import require_GET\n"
            "\n"
            "from products.models import Product, Tag\n"
            "\n"
            "\n"
            "@require_GET\n"
        ),
        caught_by=("tests/test_tags.py::test_the_product_list_answers_head_and_refuses_post",),
    ),
    Protection(
        step=8,
        name="confirm() reads the order again, under the lock",
        path="orders/models.py",
        protected=(
            "            self.refresh_from_db(fields=RELOADED_FIELDS, from_queryset=locked)\n"
        ),
        unprotected="",
        caught_by=(
            "tests/test_confirm.py::"
            "test_confirm_takes_the_stock_of_the_stored_order_not_of_a_stale_copy",
        ),
    ),
    Protection(
        step=8,
        name="confirm() reads every field again, even for an order loaded with only()",
        path="orders/models.py",
        protected=(
            "            self.refresh_from_db(fields=RELOADED_FIELDS, from_queryset=locked)\n"
        ),
        unprotected="            self.refresh_from_db(from_queryset=locked)\n",
        caught_by=(
            "tests/test_confirm.py::"
            "test_an_order_loaded_with_only_some_fields_confirms_all_the_same",
        ),
    ),
    block_removed(
        step=8,
        name="confirm() takes the lock and the stock in one transaction",
        path="orders/models.py",
        protected=(
            "        with transaction.atomic(using=using):\n"
            "            self.refresh_from_db(fields=RELOADED_FIELDS, from_queryset=locked)\n"
            "            if self.confirmed:\n"
            "                return False\n"
            "            take_stock(self.product, self.quantity)\n"
            "            orders.filter(pk=self.pk).update(confirmed=True)\n"
            "            self.confirmed = True\n"
            "            # After the commit, to listeners the orders app does not know: "
            "send_robust\n"
            "            # logs a listener's exception and goes on to the next one.\n"
            "            announce = partial(order_confirmed.send_robust, sender=Order, "
            "order=self)\n"
            "            transaction.on_commit(announce, using=using)\n"
        ),
        caught_by=(
            "tests/test_concurrency.py::test_eight_posts_for_one_order_take_the_stock_once",
        ),
        postgres=True,
    ),
    Protection(
        step=8,
        name="confirm() locks the order's row before it reads it",
        path="orders/models.py",
        protected='        locked = orders.select_for_update(of=("self",)).select_related("product")\n',
        unprotected='        locked = orders.select_related("product")\n',
        caught_by=(
            "tests/test_concurrency.py::"
            "test_a_second_confirm_waits_for_the_first_and_then_finds_the_order_confirmed",
        ),
        postgres=True,
    ),
    Protection(
        step=8,
        name="confirm() works on the order's own database",
        path="orders/models.py",
        protected="        using = self._state.db or router.db_for_write(Order, instance=self)\n",
        unprotected='        using = "default"\n',
        caught_by=("tests/test_confirm.py::test_an_order_saves_and_confirms_on_its_own_database",),
    ),
    Protection(
        step=8,
        name="take_stock() works on the product's own database",
        path="products/stock.py",
        protected="    in_stock = Product.objects.using(product._state.db).filter(\n",
        unprotected="    in_stock = Product.objects.filter(\n",
        caught_by=("tests/test_confirm.py::test_an_order_saves_and_confirms_on_its_own_database",),
    ),
    Protection(
        step=8,
        name="an unsaved order is a ValueError that says to save it first",
        path="orders/models.py",
        protected=(
            "        if self.pk is None:\n"
            '            raise ValueError("Save the order before confirming it.")\n'
        ),
        unprotected="",
        caught_by=(
            "tests/test_confirm.py::test_confirming_an_unsaved_order_says_to_save_it_first",
        ),
    ),
    Protection(
        step=8,
        name="order_confirmed is sent after the commit",
        path="orders/models.py",
        protected="            transaction.on_commit(announce, using=using)\n",
        unprotected="            announce()\n",
        caught_by=(
            "tests/test_confirm.py::test_order_confirmed_is_sent_after_the_commit",
            "tests/test_confirm.py::test_confirm_rolls_back_with_the_callers_transaction",
        ),
    ),
    Protection(
        step=8,
        name="order_confirmed is sent with send_robust",
        path="orders/models.py",
        protected=(
            "            announce = partial(order_confirmed.send_robust, sender=Order, "
            "order=self)\n"
        ),
        unprotected=(
            "            announce = partial(order_confirmed.send, sender=Order, order=self)\n"
        ),
        caught_by=(
            "tests/test_sales.py::"
            "test_a_failing_listener_is_logged_and_the_other_listeners_still_run",
        ),
    ),
    Protection(
        step=8,
        name="save() refuses to change confirmed",
        path="orders/models.py",
        protected="            self.refuse_a_change_of_confirmed(update_fields, using)\n",
        unprotected="",
        caught_by=(
            "tests/test_confirm.py::test_save_refuses_to_confirm_an_order_or_to_unconfirm_it",
            "tests/test_confirm.py::"
            "test_a_new_instance_with_a_confirmed_order_s_id_cannot_unconfirm_it",
        ),
    ),
    block_removed(
        step=8,
        name="save() reads the stored flag in a transaction of its own",
        path="orders/models.py",
        protected=(
            "        with transaction.atomic(using=using):\n"
            "            self.refuse_a_change_of_confirmed(update_fields, using)\n"
            "            # A confirmed order keeps the total it was confirmed at.\n"
            '            recompute = update_fields is None or "total_price" in update_fields\n'
            "            if recompute and not self.confirmed:\n"
            "                self.total_price = self.product.price * self.quantity\n"
            "            super().save(*args, **kwargs)\n"
        ),
        caught_by=(
            "tests/test_concurrency.py::"
            "test_a_stale_save_while_a_confirmation_commits_is_refused_not_written_over_it",
        ),
    ),
    Protection(
        step=8,
        name="a confirmed order keeps the total it was confirmed at",
        path="orders/models.py",
        protected="            if recompute and not self.confirmed:\n",
        unprotected="            if recompute:\n",
        caught_by=(
            "tests/test_confirm.py::test_a_confirmed_order_keeps_the_total_it_was_confirmed_at",
        ),
    ),
    Protection(
        step=8,
        name="the sales listener only queues; the worker records the sale",
        path="sales/signals.py",
        protected="    record_sale.enqueue(order.pk)\n",
        unprotected="    record_sale.call(order.pk)\n",
        caught_by=(
            "tests/test_sales.py::"
            "test_a_confirmation_queues_the_sale_and_the_worker_records_it_once",
        ),
    ),
    Protection(
        step=8,
        name="a sale is recorded once per order",
        path="sales/tasks.py",
        protected=(
            "    _sale, recorded = Sale.objects.get_or_create(\n"
            "        order=order,\n"
            "        defaults={\n"
            '            "order_number": order.pk,\n'
            '            "product_name": order.product.name,\n'
            '            "quantity": order.quantity,\n'
            '            "total_price": order.total_price,\n'
            "        },\n"
            "    )\n"
            "    return recorded\n"
        ),
        unprotected=(
            "    Sale.objects.create(\n"
            "        order=order,\n"
            "        order_number=order.pk,\n"
            "        product_name=order.product.name,\n"
            "        quantity=order.quantity,\n"
            "        total_price=order.total_price,\n"
            "    )\n"
            "    return True\n"
        ),
        caught_by=(
            "tests/test_sales.py::"
            "test_a_confirmation_queues_the_sale_and_the_worker_records_it_once",
        ),
    ),
    Protection(
        step=8,
        name="record_missing_sales names orders without a total and records the others",
        path="sales/management/commands/record_missing_sales.py",
        protected=(
            '        to_record = missing.exclude(pk__in=without_total).values_list("pk", '
            "flat=True)\n"
        ),
        unprotected='        to_record = missing.values_list("pk", flat=True)\n',
        caught_by=(
            "tests/test_sales.py::"
            "test_record_missing_sales_names_orders_without_a_total_and_records_the_others",
        ),
    ),
    Protection(
        step=8,
        name="LOGGING sends django.dispatch to the console whatever DEBUG is",
        path="my_shop/settings.py",
        protected=(
            '        "django.dispatch": {"handlers": ["console"], "level": "ERROR", '
            '"propagate": False},\n'
        ),
        unprotected="",
        caught_by=(
            "tests/test_sales.py::"
            "test_with_the_queue_down_the_error_reaches_the_console_and_the_sweep_records_the_sale",
        ),
    ),
    Protection(
        step=8,
        name="the sales log is read only in the admin: no add",
        path="sales/admin.py",
        protected=("    def has_add_permission(self, request):\n        return False\n\n"),
        unprotected="",
        caught_by=("tests/test_sales.py::test_the_admin_lets_nobody_add_or_change_a_sale",),
    ),
    Protection(
        step=8,
        name="the sales log is read only in the admin: no change",
        path="sales/admin.py",
        protected=(
            "    def has_change_permission(self, request, obj=None):\n        return False\n\n"
        ),
        unprotected="",
        caught_by=("tests/test_sales.py::test_the_admin_lets_nobody_add_or_change_a_sale",),
    ),
    Protection(
        step=8,
        name="the sales log is read only in the admin, deletes included",
        path="sales/admin.py",
        protected=(
            "\n"
            "    def has_delete_permission(self, request, obj=None):\n"
            '        # Also takes "Delete selected" out of the list\'s actions.\n'
            "        return False\n"
        ),
        unprotected="",
        caught_by=("tests/test_sales.py::test_the_sales_log_is_read_only_in_the_admin",),
    ),
    Protection(
        step=8,
        name="the form's clean() refuses an order confirmed while the page was open",
        path="orders/admin.py",
        protected=(
            "        if self.instance.pk is not None:\n"
            "            stored = Order.objects.select_for_update().filter(pk=self.instance.pk)\n"
            '            if stored.values_list("confirmed", flat=True).get():\n'
            "                raise forms.ValidationError(\n"
            '                    "This order was confirmed meanwhile: a confirmed order cannot be '
            'changed."\n'
            "                )\n"
        ),
        unprotected="",
        caught_by=(
            "tests/test_admin_confirm.py::"
            "test_an_order_confirmed_while_its_form_was_open_is_not_overwritten",
        ),
    ),
    Protection(
        step=8,
        name="a confirmed order cannot be deleted in the admin",
        path="orders/admin.py",
        protected=(
            "        # A confirmed order's stock is taken and its sale recorded: it stays.\n"
            "        if obj is not None and obj.confirmed:\n"
            "            return False\n"
        ),
        unprotected="",
        caught_by=(
            "tests/test_admin_confirm.py::test_a_confirmed_order_cannot_be_deleted_in_the_admin",
            "tests/test_deletes.py::"
            "test_the_admin_refuses_to_delete_a_product_with_confirmed_orders",
        ),
    ),
    Protection(
        step=8,
        name="everything of a confirmed order is read only in the admin",
        path="orders/admin.py",
        protected=(
            "        if obj is not None and obj.confirmed:\n"
            '            return ["product", "quantity", *self.readonly_fields]  # its stock is '
            "taken\n"
        ),
        unprotected="",
        caught_by=(
            "tests/test_admin_confirm.py::"
            "test_a_confirmed_order_s_page_shows_its_product_and_quantity_read_only",
        ),
    ),
    Protection(
        step=8,
        name="the confirm button takes a POST only",
        path="orders/admin.py",
        protected=(
            '        if request.method != "POST":\n'
            '            return HttpResponseNotAllowed(["POST"])\n'
        ),
        unprotected="",
        caught_by=(
            "tests/test_admin_confirm.py::"
            "test_the_order_s_page_has_a_confirm_button_that_takes_stock",
        ),
    ),
    Protection(
        step=8,
        name="the confirm button needs the change permission",
        path="orders/admin.py",
        protected=(
            "        if not self.has_change_permission(request, order):\n"
            "            raise PermissionDenied\n"
        ),
        unprotected="",
        caught_by=(
            "tests/test_admin_confirm.py::test_staff_who_may_only_view_orders_cannot_confirm_them",
        ),
    ),
    Protection(
        step=8,
        name="the confirm action needs the change permission",
        path="orders/admin.py",
        protected=(
            '    @admin.action(description="Confirm selected orders", permissions=["change"])\n'
        ),
        unprotected='    @admin.action(description="Confirm selected orders")\n',
        caught_by=(
            "tests/test_admin_confirm.py::test_staff_who_may_only_view_orders_cannot_confirm_them",
        ),
    ),
    Protection(
        step=8,
        name='tag counts: a subquery on the link table, not Count("products")',
        path="products/models.py",
        protected=(
            "        links = "
            'Product.tags.through.objects.filter(tag=OuterRef("pk")).values("tag")\n'
            '        count = links.annotate(total=models.Count("*")).values("total")\n'
            "        return self.annotate(product_count=Coalesce(Subquery(count), 0))\n"
        ),
        unprotected='        return self.annotate(product_count=models.Count("products"))\n',
        caught_by=(
            "tests/test_tags.py::"
            "test_a_products_filter_before_or_after_the_counts_does_not_change_them[filter_after]",
            "tests/test_tags.py::"
            "test_a_products_filter_before_or_after_the_counts_does_not_change_them[filter_before]",
        ),
    ),
    Protection(
        step=8,
        name="the middleware is sync and async capable",
        path="request_log/middleware.py",
        protected="    async_capable = True\n",
        unprotected="    async_capable = False\n",
        caught_by=(
            "tests/test_request_signals.py::"
            "test_under_asgi_django_adapts_no_middleware_of_the_project",
        ),
    ),
    Protection(
        step=3,
        name="the view locks the order's row",
        path="orders/views.py",
        protected='                Order.objects.select_related("product").select_for_update(of=("self",)),\n',
        unprotected='                Order.objects.select_related("product"),\n',
        caught_by=(
            "tests/test_concurrency.py::test_eight_posts_for_one_order_take_the_stock_once",
        ),
        postgres=True,
    ),
    Protection(
        step=6,
        name="the task locks the comment's row",
        path="blog/tasks.py",
        protected='            Comment.objects.select_for_update(of=("self",))\n',
        unprotected="            Comment.objects.all()\n",
        caught_by=(
            "tests/test_delivery.py::test_one_comment_s_task_run_twice_at_once_sends_one_email",
        ),
        postgres=True,
    ),
    Protection(
        step=7,
        name="recount_products() locks the tags before it counts",
        path="products/signals.py",
        protected='        list(tags.select_for_update().order_by("pk").values_list("pk"))\n',
        unprotected="",
        caught_by=("tests/test_tags.py::test_two_admins_tagging_two_products_at_once_count_both",),
        postgres=True,
    ),
    Protection(
        step=7,
        name="the tag lookup folds as the unique constraint does (LOWER, not iexact)",
        path="products/views.py",
        protected=(
            '        named_alike = Tag.objects.alias(folded_name=Lower("name"))\n'
            "        tag = get_object_or_404(named_alike, folded_name=Lower(Value(tag_name)))\n"
        ),
        unprotected="        tag = get_object_or_404(Tag, name__iexact=tag_name)\n",
        caught_by=(
            "tests/test_tags.py::"
            "test_the_product_list_finds_a_tag_as_the_unique_constraint_folds_names",
        ),
        postgres=True,
    ),
    Protection(
        step=8,
        name="save() locks the row it reads the stored flag from",
        path="orders/models.py",
        protected="            row = Order.objects.using(using).select_for_update().filter(pk=self.pk)\n",
        unprotected="            row = Order.objects.using(using).filter(pk=self.pk)\n",
        caught_by=(
            "tests/test_concurrency.py::"
            "test_a_stale_save_while_a_confirmation_commits_is_refused_not_written_over_it",
        ),
        postgres=True,
    ),
    Protection(
        step=8,
        name="the admin form locks the order it checks",
        path="orders/admin.py",
        protected="            stored = Order.objects.select_for_update().filter(pk=self.instance.pk)\n",
        unprotected="            stored = Order.objects.filter(pk=self.instance.pk)\n",
        caught_by=(
            "tests/test_concurrency.py::"
            "test_the_admin_changing_an_order_and_a_customer_confirming_it_do_not_deadlock",
        ),
        postgres=True,
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
    database = ["--postgres"] if protection.postgres else []
    result = run_tutorial("check", protection.step, project, *tests, *database, timeout=300)
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
