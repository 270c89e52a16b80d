"""`python -m tutorial bench --quick` runs end to end. Its timings are printed, never judged."""

import re

import pytest
from conftest import run_tutorial

from tutorial.course.steps import REPO_ROOT


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    """The quick bench's tables, written to a temporary file, never over the learner's."""
    output = tmp_path_factory.mktemp("bench") / "latest.md"
    learners = REPO_ROOT / "bench" / "results" / "latest.md"
    before = learners.stat().st_mtime_ns if learners.exists() else None

    result = run_tutorial("bench", "--quick", "--output", output)

    assert result.returncode == 0, result.stderr
    assert output.read_text() in result.stdout
    assert (learners.stat().st_mtime_ns if learners.exists() else None) == before
    return result.stdout


def table_rows(report, heading):
    section = report.split(heading, 1)[1].split("###", 1)[0]
    return [
        [cell.strip() for cell in line.strip("|").split("|")]
        for line in section.splitlines()
        if line.startswith("| ") and not line.startswith("| confirmation") and "---" not in line
    ]


def test_query_counts_match_the_steps_own_tests(report):
    rows = {
        row[0]: row[1:] for row in table_rows(report, "### Queries per successful confirmation")
    }

    assert rows["step 03"] == ["4", "6", "200"]
    assert rows["step 04"] == ["5", "7", "200"]
    assert rows["step 05"] == ["5", "7", "200"]
    assert rows["step 03, the article's receiver"] == ["3", "5", "200"]


def test_signal_costs_are_reported_for_0_1_and_10_receivers(report):
    names = [row[0] for row in table_rows(report, "### What a signal costs")]

    assert "`order_confirmed.send()`" in names
    assert {
        "plain call",
        "send(), 0 receivers",
        "send(), 1 receiver",
        "send(), 10 receivers",
    } <= set(names)


def test_concurrent_confirmations_lose_no_update(report):
    rows = table_rows(report, "### Concurrent confirmations against `runserver`")
    load_rows = [row for row in rows if re.fullmatch(r"\d\d", row[0])]

    assert [row[2] for row in load_rows] == ["4"]
    for _step, _database, _threads, confirmed, conflicts, _per_second, lost in load_rows:
        assert (int(confirmed), int(conflicts), int(lost)) == (9, 3, 0)


def test_comment_posts_are_timed_for_the_request_and_the_task(report):
    rows = table_rows(report, "### A comment's email: in the request, or a task")
    labels = [row[0] for row in rows if not row[0].startswith("comment POST")]

    assert labels[:2] == ["step 05: mail sent in the request", "step 06: task, db_worker"]
    for row in rows[1:]:
        assert all(re.fullmatch(r"[\d,]+ ms", cell) for cell in row[1:]), row
    assert "`notify_author.enqueue()` makes 1, the INSERT of the task's row" in report


def test_deletes_are_counted_with_and_without_delete_receivers(report):
    rows = table_rows(report, "### Deleting products: what a delete receiver costs")
    queries = {(row[0], row[1]): int(row[2]) for row in rows if row[0] != "products deleted"}

    # One product: SELECT it; DELETE its tag links, its orders, itself. A receiver on
    # Order adds the SELECT of the orders; step 07's clear their tags (4 queries each:
    # read the tags, delete the links, lock the tags, recount them).
    assert queries[("1", "none")] == 4
    assert queries[("1", "a no-op post_delete on Order")] == 5
    assert queries[("1", "step 07's own, on Product")] == 8
    assert queries[("10", "step 07's own, on Product")] == 4 + 4 * 10


def test_the_capstone_confirms_in_step_07_and_step_08(report):
    rows = table_rows(report, "### A signal or a call: confirming an order")
    labels = [row[0] for row in rows if not row[0].startswith("confirmation through")]

    assert labels == [
        "step 07: stock taken by pre_save and post_save receivers",
        "step 08: Order.confirm(), then order_confirmed to the sales log",
        "step 08, nothing listening to order_confirmed",
    ]
    assert "5 in step 07, 6 in step 08 (one of them the sales log's task)" in report
    assert "19 in step 07, 13 in step 08" in report
