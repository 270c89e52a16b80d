"""Step 08's table of write paths and hooks says what its tests assert, cell for cell."""

import re
import sys
from collections import Counter

from tutorial.course.steps import get_step
from tutorial.preload import client

STEP = get_step(8)
HEADING = "### Which write paths reach which hook"
TEST_MODULE = "tests/test_write_paths.py"
# The test function that asserts each column of the table, by the column's heading.
COLUMNS = {
    "`save()` / `delete()` override": "test_an_override_of_save_or_delete",
    "django-lifecycle hook": "test_a_django_lifecycle_hook",
    "`pre_save` / `post_save`": "test_pre_save_and_post_save",
    "`m2m_changed`": "test_m2m_changed",
    "`pre_delete` / `post_delete`": "test_pre_delete_and_post_delete",
}
NO_TEST = "—"
# tests/test_write_paths.py::test_m2m_changed[loaddata-reached]
CELL_TEST = re.compile(rf"{re.escape(TEST_MODULE)}::(test_\w+)\[(.+)-(reached|not reached)\]")


def table_cells():
    """{(test function, row): outcome} for each cell of the README's table."""
    text = (STEP.path / "README.md").read_text()
    section = text[text.index(HEADING) + len(HEADING) :]
    lines = [line for line in section.split("\n#")[0].splitlines() if line.startswith("|")]
    header, _rule, *rows = [[cell.strip() for cell in line.strip("|").split("|")] for line in lines]
    assert header[1:] == list(COLUMNS), f"the table's columns are {header[1:]}"
    return {
        (COLUMNS[column], row.replace("`", "")): outcome
        for row, *outcomes in rows
        for column, outcome in zip(header[1:], outcomes, strict=True)
    }


def collected_cells():
    """[(test function, row, outcome)] for each test that pytest collects in the step."""
    collected = client.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", TEST_MODULE],
        cwd=STEP.path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert collected.returncode == 0, collected.stdout + collected.stderr
    cells = [CELL_TEST.fullmatch(line) for line in collected.stdout.splitlines()]
    return [cell.groups() for cell in cells if cell]


def test_the_readme_table_of_write_paths_matches_the_tests():
    in_table = table_cells()
    tested = collected_cells()

    counts = Counter((function, row) for function, row, _outcome in tested)
    problems = [f"{cell} has {count} tests" for cell, count in counts.items() if count > 1]
    tested = {(function, row): outcome for function, row, outcome in tested}
    for cell in sorted(in_table.keys() | tested.keys()):
        said, asserted = in_table.get(cell, "missing"), tested.get(cell, NO_TEST)
        if said != asserted:
            problems.append(f"{cell}: the README says {said!r}, the tests {asserted!r}")
    assert not problems, f"{STEP}/README.md, {HEADING}: " + "; ".join(problems)
