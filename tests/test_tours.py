"""Every tour runs to the end and shows what its step is about."""

from concurrent.futures import ThreadPoolExecutor

import pytest
from conftest import run_tutorial

from tutorial.steps import all_steps

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
}


@pytest.fixture(scope="module")
def tours():
    def tour(step):
        return run_tutorial("tour", step.number, timeout=60)

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
