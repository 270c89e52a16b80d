"""The signal inspector, run inside the steps, and the one place that reads Django's internals."""

import json
import os
import re
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import pytest
from conftest import copy_of_step, run_inside_step

from tutorial.course.steps import REPO_ROOT, get_step

LIST_RECEIVERS = """
from dataclasses import asdict
from tutorial.notebook import receivers_table
table = receivers_table(include_empty=True)
result = {"rows": [asdict(row) for row in table], "silent": table.signals_without_receivers}
"""


INSPECTED_STEPS = [2, 3, 4, 5]


@pytest.fixture(scope="module")
def receivers_of_each_step():
    """Each step's table, listed side by side: one interpreter per step."""
    with ThreadPoolExecutor(max_workers=2) as pool:
        tables = pool.map(lambda number: run_inside_step(number, LIST_RECEIVERS), INSPECTED_STEPS)
        return dict(zip(INSPECTED_STEPS, tables, strict=True))


@pytest.fixture(params=INSPECTED_STEPS, ids=lambda n: f"step{n}")
def inspected(request, receivers_of_each_step):
    return request.param, receivers_of_each_step[request.param]


def ours(rows):
    """Receivers defined in the step's own apps, not in Django."""
    return {(row["signal"], row["receiver"]): row for row in rows if row["location"][0] != "d"}


def line_of(step_number, relative_path, text):
    lines = (get_step(step_number).path / relative_path).read_text().splitlines()
    return next(number for number, line in enumerate(lines, 1) if line.startswith(text))


EXPECTED = {
    2: {},
    3: {
        (
            "orders.signals.order_confirmed",
            "products.signals.update_quantity_on_order_confirmation",
        ): (
            "products/signals.py",
            "@receiver(order_confirmed",
            "Order",
        ),
    },
    4: {
        ("django.db.models.signals.pre_save", "products.signals.note_order_confirmation"): (
            "products/signals.py",
            "@receiver(pre_save",
            "Order",
        ),
        (
            "django.db.models.signals.post_save",
            "products.signals.update_quantity_on_order_confirmation",
        ): (
            "products/signals.py",
            "@receiver(post_save",
            "Order",
        ),
        ("django.core.signals.request_started", "request_log.signals.note_request_start"): (
            "request_log/signals.py",
            "@receiver(request_started",
            "any",
        ),
        ("django.core.signals.request_finished", "request_log.signals.log_request_duration"): (
            "request_log/signals.py",
            "@receiver(request_finished",
            "any",
        ),
    },
}
EXPECTED[5] = {
    **EXPECTED[4],
    ("django.db.models.signals.post_save", "customers.signals.create_customer_profile"): (
        "customers/signals.py",
        "@receiver(post_save",
        "User",
    ),
    ("django.db.models.signals.post_save", "blog.signals.send_comment_notification"): (
        "blog/signals.py",
        "@receiver(post_save",
        "Comment",
    ),
}


def test_the_projects_receivers_with_file_line_and_sender(inspected):
    step_number, found = inspected

    rows = ours(found["rows"])

    assert set(rows) == set(EXPECTED[step_number])
    for key, (path, first_line, sender) in EXPECTED[step_number].items():
        row = rows[key]
        assert row["location"] == f"{path}:{line_of(step_number, path, first_line)}"
        assert row["sender"] == sender
        assert (row["ref"], row["kind"]) == ("weak", "sync")
        assert row["dispatch_uid"] == key[1].rsplit(".", 1)[1]


def test_djangos_own_signals_are_listed_too(inspected):
    _step_number, found = inspected
    signals = {row["signal"] for row in found["rows"]} | set(found["silent"])

    assert {
        "django.db.models.signals.pre_save",
        "django.db.models.signals.post_save",
        "django.db.models.signals.m2m_changed",
        "django.core.signals.request_started",
        "django.core.signals.request_finished",
    } <= signals


def test_a_signal_with_no_receiver_is_named_as_silent(inspected):
    step_number, found = inspected
    post_save_is_silent = "django.db.models.signals.post_save" in found["silent"]

    assert post_save_is_silent == (step_number < 4)


def test_signals_outside_the_usual_modules_are_found_by_scanning(inspected):
    _step_number, found = inspected
    signals = {row["signal"] for row in found["rows"]} | set(found["silent"])

    assert "django.utils.autoreload.autoreload_started" in signals
    assert not any(name.startswith("django.template.autoreload.") for name in signals)


def test_a_bound_method_receiver_names_its_object(inspected):
    _step_number, found = inspected
    names = {row["receiver"] for row in found["rows"]}

    assert "django.db.models.options.Options.setting_changed of <Options for User>" in names


def test_migrates_copies_of_a_model_are_named_and_counted_in_one_row(inspected):
    _step_number, found = inspected
    rows = [tuple(row.values()) for row in found["rows"]]
    historical = [
        row["receiver"]
        for row in found["rows"]
        if "a historical model built by migrate" in row["receiver"]
    ]

    assert len(rows) == len(set(rows))
    assert len(historical) == 1
    assert re.search(r" \(×\d+\)$", historical[0])


# A signal created outside any signals.py, imported by the module that receives it; one
# made by a function of the project's; and a module that must not be imported just to
# look for signals.
EXTRA_FILES = {
    "orders/events.py": (
        "from django.dispatch import Signal\n"
        "\n"
        "order_shipped: Signal = Signal()\n"
        "\n"
        "\n"
        "def shop_signal():\n"
        "    return Signal()\n"
    ),
    "orders/returns.py": (
        "from orders.events import shop_signal\n\norder_returned = shop_signal()\n"
    ),
    "products/shipping.py": (
        "from django.dispatch import receiver\n"
        "\n"
        "from orders.events import order_shipped\n"
        "from orders.returns import order_returned\n"
        "\n"
        "\n"
        "class Courier:\n"
        "    pass\n"
        "\n"
        "\n"
        '@receiver(order_shipped, sender=Courier, dispatch_uid="pack")\n'
        "def pack_parcel(sender, **kwargs):\n"
        '    return "packed"\n'
        "\n"
        "\n"
        "@receiver(order_returned)\n"
        "def restock_parcel(sender, **kwargs):\n"
        '    return "restocked"\n'
    ),
    "orders/fragile.py": 'raise RuntimeError("imported while looking for signals")\n',
}

INSPECT_THE_COPY = """
import sys
from dataclasses import asdict
import products.shipping
from tutorial.notebook import receivers_table
table = receivers_table()
result = {
    "rows": [asdict(row) for row in table if row.receiver.startswith("products.")],
    "fragile_imported": "orders.fragile" in sys.modules,
}
"""


@pytest.fixture(scope="module")
def step_copy(tmp_path_factory):
    steps_dir = tmp_path_factory.mktemp("steps")
    project = copy_of_step(2, steps_dir)
    for relative_path, text in EXTRA_FILES.items():
        (project / relative_path).write_text(text)
    return steps_dir


def test_a_project_signal_is_named_after_the_module_that_creates_it(step_copy):
    found = run_inside_step(2, INSPECT_THE_COPY, steps_dir=step_copy)

    assert found["rows"] == [
        {
            "signal": "orders.events.order_shipped",
            "receiver": "products.shipping.pack_parcel",
            "location": "products/shipping.py:11",
            "sender": "Courier",
            "dispatch_uid": "pack",
            "ref": "weak",
            "kind": "sync",
        },
        {
            "signal": "orders.returns.order_returned",
            "receiver": "products.shipping.restock_parcel",
            "location": "products/shipping.py:16",
            "sender": "any",
            "dispatch_uid": "-",
            "ref": "weak",
            "kind": "sync",
        },
    ]
    assert found["fragile_imported"] is False


COMPAT = """
from django.dispatch import Signal
from tutorial.in_step.signals_compat import connections, live_receivers
from orders.models import Order

signal = Signal()
def by_default(sender, **kwargs): pass
def strongly_held(sender, **kwargs): pass
async def asynchronous(sender, **kwargs): pass
def keyed_by_a_tuple(sender, **kwargs): pass
class Listener:
    def on_signal(self, sender, **kwargs): pass
listener = Listener()
signal.connect(by_default, sender=Order, dispatch_uid="named")
signal.connect(strongly_held, weak=False)
signal.connect(asynchronous)
signal.connect(listener.on_signal)
signal.connect(keyed_by_a_tuple, dispatch_uid=("any", "hashable"))
current = [
    [c.receiver.__name__, c.dispatch_uid, c.sender_id == id(Order), c.weak, c.is_async]
    for c in connections(signal)
]
sync, asynchronous_list = live_receivers(signal, Order)

# Rewrite the entries into the other version's shape (5.2 <-> 6.x) and read them again.
def other_shape(entry):
    if len(entry) == 3:
        key, stored, is_async = entry
        return (key, stored, None, is_async)
    key, stored, _sender_ref, is_async = entry
    return (key, stored, is_async)
signal.receivers = [other_shape(entry) for entry in signal.receivers]
other = [[c.receiver.__name__, c.dispatch_uid, c.weak, c.is_async] for c in connections(signal)]
result = {"current": current, "live": [len(sync), len(asynchronous_list)], "other": other}
"""


def test_the_compat_layer_reads_both_tuple_shapes():
    found = run_inside_step(3, COMPAT, from_migrated_copy=True)

    assert found["current"] == [
        ["by_default", "named", True, True, False],
        ["strongly_held", None, False, False, False],
        ["asynchronous", None, False, True, True],
        ["on_signal", None, False, True, False],
        ["keyed_by_a_tuple", ["any", "hashable"], False, True, False],
    ]
    assert found["live"] == [4, 1]
    assert found["other"] == [row[:2] + row[3:] for row in found["current"]]


def test_step_8_takes_stock_with_a_call_and_keeps_order_confirmed_for_the_sales_log():
    """make receivers-8: no receiver of the stock, the tags or the request timing is left."""
    rows = ours(run_inside_step(8, LIST_RECEIVERS)["rows"])
    receivers = {receiver for _signal, receiver in rows}

    assert ("orders.signals.order_confirmed", "sales.signals.queue_sale") in rows
    assert not receivers & {
        "products.signals.note_order_confirmation",
        "products.signals.update_quantity_on_order_confirmation",
        "products.signals.count_products_per_tag",
        "products.signals.untag_deleted_product",
        "request_log.signals.note_request_start",
        "request_log.signals.log_request_duration",
    }
    # 13: the sales log, the image files (5), the profile, the comment (2), the audit
    # log (3) and the staff group.
    assert len(rows) == 13


SERVED_SETTING_CHANGED = """
import json
import os
import sys
import weakref
from wsgiref.util import setup_testing_defaults

import django.core.management.commands.runserver as runserver
from django.core.management import execute_from_command_line


def answer_one_request_and_list(address, port, handler, **options):
    environ = {"PATH_INFO": "/products/"}
    setup_testing_defaults(environ)
    handler(environ, lambda status, headers: None)  # the first request, as a browser's

    from django.core.signals import setting_changed

    stored = [entry[1] for entry in setting_changed.receivers]  # (key, receiver, ...)
    live = [r() if isinstance(r, weakref.ReferenceType) else r for r in stored]
    names = sorted(f"{r.__module__}.{r.__qualname__}" for r in live if r is not None)
    print("RECEIVERS:" + json.dumps(names))
    sys.exit(0)


runserver.run = answer_one_request_and_list  # everything runserver does, but serve
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "my_shop.settings")  # as manage.py does
execute_from_command_line(["manage.py", "runserver", "--noreload", "127.0.0.1:0"])
"""


def test_receivers_lists_on_setting_changed_what_a_served_step_connects(tmp_path):
    """runserver's, after migrate in a process of its own (as make step-N does), its system
    checks and a first request; the inspector's own imports (django.test) and migrate add
    receivers that it lacks. Both in this interpreter: the Django version under test."""
    step = get_step(7)
    environment = {**os.environ, "SQLITE_PATH": str(tmp_path / "db.sqlite3"), "COLUMNS": ""}

    def run_in_step_folder(*arguments):
        return subprocess.run(
            [sys.executable, *arguments],
            cwd=step.path,
            env={**environment, "PYTHONPATH": str(REPO_ROOT)},
            capture_output=True,
            text=True,
            timeout=60,
        )

    assert run_in_step_folder("manage.py", "migrate", "--verbosity=0").returncode == 0
    served = run_in_step_folder("-c", SERVED_SETTING_CHANGED)
    listed = run_in_step_folder("-m", "tutorial.in_step", "7", "receivers").stdout
    served_part, _, inspector_only = listed.partition(
        "Not in a served step, only in the inspector's"
    )
    cells = [line.split("│") for line in served_part.splitlines() if "│" in line]
    in_table = sorted(
        cell[1].strip().partition(" of ")[0]
        for cell in cells
        if cell[0].strip() == "django.core.signals.setting_changed"
    )

    [listing] = [line for line in served.stdout.splitlines() if line.startswith("RECEIVERS:")]
    assert in_table == json.loads(listing.removeprefix("RECEIVERS:")), served.stderr
    assert len(in_table) >= 6
    assert "django.test.signals.clear_cache_handlers" in inspector_only
    assert "historical model" not in listed, "nothing is migrated"
