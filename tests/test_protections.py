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


PROTECTIONS = [
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
            assert f"def {test}(" in (step.path / module).read_text(), node_id
