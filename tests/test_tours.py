"""Every tour runs to the end and shows what its step is about."""

from concurrent.futures import ThreadPoolExecutor

import pytest
from conftest import run_on_a_terminal, run_tutorial

from tutorial.course.steps import all_steps

# What each tour must print: the signals and outcomes its step teaches.
MUST_SHOW = {
    1: ["raised ValueError('no orders today')", "returned 'thank-you email queued'"],
    2: ["django.db.models.signals.post_save", "No signals were sent."],
    3: [
        "orders.signals.order_confirmed",
        "→ products.signals.update_quantity_on_order_confirmation",
        "HTTP 200: Order 1 confirmed successfully.",
        "HTTP 409: Order 2 was not confirmed",
        "Stock of Ceramic mug now: 1",
    ],
    4: [
        "→ products.signals.note_order_confirmation",
        "raised OutOfStock(",
        "HTTP 409: Order 2 was not confirmed",
    ],
    5: [
        "→ customers.signals.create_customer_profile",
        "Inside the transaction: 0 email(s) sent",
        "After the commit: 1 email(s)",
        "Still 1 email(s) in the outbox.",
    ],
    6: [
        "→ blog.signals.send_comment_notification",
        "task_enqueued",
        "After the commit: 0 email(s) sent; the task waits for a worker.",
        "task_started",
        "→ blog.signals.log_failed_notification",
        "Now 1 email(s)",
    ],
    7: [
        "action='pre_add', instance=<Product pk=1>, reverse=False, model=Tag, pk_set=set({1, 2})",
        "action='post_remove'",
        "Products per tag: gifts: 0, sale: 1",
        "→ products.signals.untag_deleted_product",
        "action='pre_clear'",
        "→ products.signals.delete_image_file",
        "django.contrib.auth.signals.user_login_failed",
        "→ accounts.signals.log_login",
        "Audit log: ada login failed, ada logged in",
    ],
    8: [
        "orders.signals.order_confirmed",
        "→ sales.signals.queue_sale",
        "Sales log, before a worker ran: 0 sale(s)",
        "HTTP 200: Order 1 confirmed successfully.",
        "Sales log: 2 x Ceramic mug",
        "HTTP 409: Order 2 was not confirmed",
        "raised RuntimeError('the loyalty service is down')",
        "HTTP 200: Order 3 confirmed successfully.",
    ],
}


@pytest.fixture(scope="module")
def tours():
    def tour(step):
        # Unlimited width, whatever COLUMNS the shell exports: the tests read whole lines.
        return run_tutorial("tour", step.number, env={"COLUMNS": ""}, timeout=60)

    steps = all_steps()
    with ThreadPoolExecutor(max_workers=len(steps)) as pool:
        return dict(zip([step.number for step in steps], pool.map(tour, steps), strict=True))


@pytest.mark.parametrize("number", sorted(MUST_SHOW))
def test_tour_runs_and_shows_its_lesson(tours, number):
    result = tours[number]

    assert result.returncode == 0, result.stderr
    for expected in MUST_SHOW[number]:
        assert expected in result.stdout


def test_every_step_has_a_tour():
    assert sorted(MUST_SHOW) == [step.number for step in all_steps()]


NARROW = ["tour 3", "tour 5", "receivers 5"]


@pytest.fixture(scope="module")
def narrow_and_wide(tours):
    """The outputs of NARROW at COLUMNS=100 and with no width limit (a pipe's default).

    The tours' unlimited outputs are the ones the tours fixture already has.
    """

    def run(command, columns):
        return run_tutorial(*command.split(), env=columns, timeout=60).stdout

    jobs = [(command, {"COLUMNS": "100"}) for command in NARROW] + [
        ("receivers 5", {"COLUMNS": ""})
    ]
    with ThreadPoolExecutor(max_workers=2) as pool:
        *narrow, wide_receivers = pool.map(lambda job: run(*job), jobs)
    wide = [tours[3].stdout, tours[5].stdout, wide_receivers]
    return dict(zip(NARROW, zip(narrow, wide, strict=True), strict=True))


@pytest.mark.parametrize("command", NARROW)
def test_tables_fit_a_100_column_terminal_and_lose_nothing(narrow_and_wide, command):
    narrow, wide = narrow_and_wide[command]

    assert max(map(len, narrow.splitlines())) <= 100
    assert max(map(len, wide.splitlines())) > 100, "the test needs a table that must fold"
    assert column_text(narrow) == column_text(wide), "a folded cell lost or changed text"


def column_text(output):
    """Each table column's text in order, without spaces: folding may only move it."""
    columns = {}
    for line in output.splitlines():
        if "│" in line:
            for index, cell in enumerate(line.split("│")):
                columns[index] = columns.get(index, "") + "".join(cell.split())
    return columns


def test_piped_tables_have_no_colour_and_a_terminal_gets_it_unless_no_color(narrow_and_wide):
    _narrow, piped = narrow_and_wide["receivers 5"]
    coloured = run_on_a_terminal("receivers", "3", env={"COLUMNS": "120"})
    plain = run_on_a_terminal("receivers", "3", env={"COLUMNS": "120", "NO_COLOR": "1"})

    assert "customers.signals.create_customer_profile" in piped
    assert "\033[" not in piped
    assert "\033[" in coloured
    assert "\033[" not in plain
    assert max(map(len, plain.splitlines())) <= 120


def test_a_dotted_name_too_long_for_its_column_breaks_after_a_dot(monkeypatch):
    from tutorial.in_step.tables import text_table

    monkeypatch.setenv("COLUMNS", "50")
    signal = "django.contrib.auth.signals.user_logged_in"
    receiver = "accounts.signals.record_successful_login_attempt"
    table = text_table(["signal", "receiver"], [[signal, receiver]])

    rows = [line.split("│") for line in table.splitlines() if "│" in line][1:]
    for column, name in enumerate([signal, receiver]):
        pieces = [row[column].strip() for row in rows if row[column].strip()]
        assert len(pieces) > 1, "the test needs a name that must break"
        assert "".join(pieces) == name
        assert all(piece.endswith(".") for piece in pieces[:-1]), pieces
