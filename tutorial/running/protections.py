"""``python -m tutorial test-protections``: each protection a README teaches, taken out of
a copy of its step, must make ``check`` fail (tests/test_protections.py).

The proofs run ``check`` once each, some on real worker processes, so they are a target of
their own instead of part of ``make test``; CI runs both.
"""

from tutorial.course.steps import REPO_ROOT, all_steps
from tutorial.running.suites import Suite, run_test_suites

PROOFS = "tests/test_protections.py"


def register(subparsers):
    parser = subparsers.add_parser(
        "test-protections",
        help="remove each protection a README teaches from a copy of its step; check must fail",
    )
    parser.set_defaults(run=test_protections)


def test_protections(args):
    # One suite per step, so that the steps' proofs run side by side.
    suites = [
        Suite(
            f"protections of step {step.number:02d}",
            REPO_ROOT,
            [PROOFS, "-m", "protections", "-k", f"step_{step.number:02d}"],
            slow=True,
        )
        for step in all_steps()
        if step.number >= 3
    ]
    return run_test_suites(suites)
