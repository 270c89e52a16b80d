"""``python -m tutorial test-protections``: each protection a README teaches, taken out of
a copy of its step, must make ``check`` fail (tests/test_protections.py).

The proofs run ``check`` once each, some on real worker processes, so they are a target of
their own instead of part of ``make test``; CI runs both.
"""

from tutorial.course.steps import REPO_ROOT
from tutorial.running.suites import Suite, run_test_suites

PROOFS = "tests/test_protections.py"


def register(subparsers):
    parser = subparsers.add_parser(
        "test-protections",
        help="remove each protection a README teaches from a copy of its step; check must fail",
    )
    parser.set_defaults(run=test_protections)


# Suites that run side by side, of about the same length (steps 07 and 08 have the most
# rows; step 06's start worker processes).
GROUPS = {"steps 03 to 06": (3, 4, 5, 6), "step 07": (7,), "step 08": (8,)}


def test_protections(args):
    suites = [
        Suite(
            f"protections of {label}",
            REPO_ROOT,
            [PROOFS, "-m", "protections", "-k", " or ".join(f"step_{n:02d}" for n in numbers)],
            slow=True,
            fail_on_skip=True,
        )
        for label, numbers in GROUPS.items()
    ]
    return run_test_suites(suites)
