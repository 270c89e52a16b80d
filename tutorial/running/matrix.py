"""``python -m tutorial test-matrix``: the steps, notebooks and inspector on Django 5.2 and 6.1.

Django 5.2 runs in .venv. Django 6.1 needs Python 3.12 or newer: the first one found
gets .venv-django61 with requirements/django61.txt. A version that cannot run is
reported as skipped, by name, and the command then exits non-zero.
"""

import shutil
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

from tutorial.course.steps import REPO_ROOT, all_steps
from tutorial.running.environment import Environment
from tutorial.running.suites import Suite, run_test_suites, step_suite

DJANGO_61 = Environment(REPO_ROOT / ".venv-django61", REPO_ROOT / "requirements" / "django61.txt")
# The repository tests that exercise Django itself: notebooks, inspector, tracer, tours;
# and the preloaded interpreter, whose modules must connect no receiver on either Django
# and whose children must match a fresh process on the newer Python too.
DJANGO_DEPENDENT_TESTS = [
    "tests/test_preload.py",
    "tests/test_inspector.py",
    "tests/test_tracer.py",
    "tests/test_tours.py",
    "tests/test_notebooks.py",
]
SKIPPED = 4


def register(subparsers):
    parser = subparsers.add_parser(
        "test-matrix", help="run the steps, notebooks and inspector on Django 5.2 and 6.1"
    )
    parser.set_defaults(run=test_matrix)


def test_matrix(args):
    suites = versioned_suites("Django 5.2", sys.executable)
    skipped = []
    python_312 = find_python(minimum=(3, 12))
    if python_312 is None:
        skipped.append(f"Django 6.1: no Python 3.12 or newer found (looked for {looked_for()})")
    else:
        DJANGO_61.ensure(base_python=python_312, quiet=True)
        suites += versioned_suites("Django 6.1", str(DJANGO_61.python))
    status = run_test_suites(suites)
    for reason in skipped:
        print(f"SKIPPED {reason}")
    print(f"matrix: {2 - len(skipped)} Django versions run, {len(skipped)} skipped")
    return status or (SKIPPED if skipped else 0)


def versioned_suites(label, python):
    suites = [step_suite(step) for step in all_steps()]
    suites.append(Suite("repository tests/", REPO_ROOT, DJANGO_DEPENDENT_TESTS, slow=True))
    return [replace(suite, label=f"{label} · {suite.label}", python=python) for suite in suites]


def candidates():
    on_path = [shutil.which(f"python3.{minor}") for minor in range(20, 11, -1)]
    pyenv = sorted(Path.home().glob(".pyenv/versions/3.*/bin/python"), reverse=True)
    return [str(path) for path in [*on_path, *pyenv] if path]


def looked_for():
    return "python3.12 to python3.20 on PATH and ~/.pyenv/versions/3.*"


def find_python(minimum):
    """The first interpreter that runs and is at least ``minimum``, or None."""
    for candidate in candidates():
        result = subprocess.run(
            [candidate, "-c", "import sys; print(*sys.version_info[:2])"],
            capture_output=True,
            text=True,
        )
        if result.returncode == 0 and tuple(map(int, result.stdout.split())) >= minimum:
            return candidate
    return None
