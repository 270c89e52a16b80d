"""``python -m tutorial check N PATH``: run step N's tests against a learner's own project.

The learner's folder is only read: the tests run from a temporary folder, on a scratch
database, without writing bytecode, and the report speaks of behaviours, not of pytest.
"""

import configparser
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from tutorial.steps import REPO_ROOT, all_steps, get_step

EXPECTED_SETTINGS = "my_shop.settings"
LEFT_OUT = "not course_only and not browser"
# Which README heading explains what each test module checks; the default is below.
README_SECTIONS = {
    "test_setup": "The code that changed",
    "test_models": "The code that changed",
    "test_admin": "The code that changed",
    "test_confirm_order": "The code that changed",
    "test_order_page": "The page",
    "test_signal_wiring": "Why the sender is `Order`, not the order",
    "test_concurrency": "Stock under concurrency",
    "test_model_signals": "Two receivers that work as a pair",
    "test_admin_confirm": "The admin",
    "test_request_signals": "Request signals",
    "test_customers": "A profile for every new user",
    "test_signup": "A profile for every new user",
    "test_comments": "Email the author after the comment is committed",
}
DEFAULT_SECTION = "The code that changed"
# pytest's rewritten assertion: "assert <what happened> == <what was expected>".
COMPARISON = re.compile(r"^\s*(?:AssertionError: )?assert (.+) == (.+)$")
PROBE = r"""
import json, sys, traceback
project = sys.argv[1]
try:
    import django
    django.setup()
    from django.urls import get_resolver
    get_resolver().url_patterns
except BaseException as error:
    if isinstance(error, SyntaxError):
        where = (error.filename, error.lineno)
    else:
        frames = traceback.extract_tb(error.__traceback__)
        ours = [f for f in frames if f.filename.startswith(project)] or frames
        where = (ours[-1].filename, ours[-1].lineno) if ours else ("?", 0)
    message = error.msg if isinstance(error, SyntaxError) else str(error)
    print(json.dumps({"type": type(error).__name__, "message": message,
                      "file": where[0], "line": where[1]}))
    sys.exit(1)
"""


class CheckError(Exception):
    """Bad input: one line for the learner, exit status 2."""


def register(subparsers):
    parser = subparsers.add_parser(
        "check", help="run step N's tests against your own project folder"
    )
    parser.add_argument("step", help="step number, 1 to 5")
    parser.add_argument("project", help="the folder that holds your manage.py")
    parser.add_argument(
        "--settings", help=f"your settings module, if it is not {EXPECTED_SETTINGS}"
    )
    parser.set_defaults(run=run_check)


def run_check(args):
    step = get_step(args.step)
    try:
        project = find_project(args.project)
        settings_module = choose_settings(project, args.settings)
        with tempfile.TemporaryDirectory(prefix="tutorial-check-") as scratch:
            environ = project_environment(project, settings_module, Path(scratch))
            probe_import(project, environ, Path(scratch))
            records = run_step_tests(step, project, environ, Path(scratch))
    except CheckError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return report(step, project, records)


def find_project(path):
    project = Path(path).expanduser().resolve()
    if not project.exists():
        raise CheckError(f"{path} does not exist")
    if not (project / "manage.py").is_file():
        raise CheckError(f"{path} has no manage.py: give the folder that holds your manage.py")
    return project


def choose_settings(project, requested):
    if requested:
        return requested
    manage = (project / "manage.py").read_text(errors="replace")
    found = re.search(r"DJANGO_SETTINGS_MODULE['\"],\s*['\"]([\w.]+)['\"]", manage)
    settings_module = found.group(1) if found else None
    if settings_module != EXPECTED_SETTINGS:
        raise CheckError(
            f"your manage.py uses settings {settings_module!r}, but the steps use "
            f"{EXPECTED_SETTINGS!r}; if yours is on purpose, add --settings {settings_module}"
        )
    return settings_module


def project_environment(project, settings_module, scratch):
    environ = {name: value for name, value in os.environ.items() if name != "DATABASE_URL"}
    environ.update(
        DJANGO_SETTINGS_MODULE=settings_module,
        SQLITE_PATH=str(scratch / "scratch.sqlite3"),
        PYTHONDONTWRITEBYTECODE="1",
        PYTHONPATH=os.pathsep.join([str(project), str(REPO_ROOT)]),
        CHECK_REPORT_FILE=str(scratch / "report.jsonl"),
    )
    return environ


def probe_import(project, environ, scratch):
    """Set Django up once on its own, to show an import error as the learner's own."""
    result = subprocess.run(
        [sys.executable, "-c", PROBE, str(project)],
        cwd=scratch,
        env=environ,
        capture_output=True,
        text=True,
    )
    if result.returncode == 0:
        return
    try:
        error = json.loads(result.stdout.strip().splitlines()[-1])
    except (IndexError, json.JSONDecodeError):
        raise CheckError(f"your project fails to start: {result.stderr.strip()[-300:]}") from None
    location = relative_to(project, error["file"])
    raise CheckError(
        f"your project fails to import: {error['type']}: {error['message']} "
        f"({location}, line {error['line']})"
    )


def relative_to(project, filename):
    try:
        return str(Path(filename).resolve().relative_to(project))
    except ValueError:
        return filename


def run_step_tests(step, project, environ, scratch):
    shutil.copytree(step.path / "tests", scratch / "tests")
    write_pytest_ini(step, project, environ["DJANGO_SETTINGS_MODULE"], scratch)
    subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "tutorial.check_report", "-m", LEFT_OUT],
        cwd=scratch,
        env=environ,
        capture_output=True,
        text=True,
    )
    report_file = Path(environ["CHECK_REPORT_FILE"])
    if not report_file.exists():
        raise CheckError("the tests did not run at all; run `make test-step-N` to see why")
    return [json.loads(line) for line in report_file.read_text().splitlines()]


def write_pytest_ini(step, project, settings_module, scratch):
    config = configparser.ConfigParser(interpolation=None)
    config.read(step.path / "pytest.ini")
    config["pytest"]["DJANGO_SETTINGS_MODULE"] = settings_module
    config["pytest"]["pythonpath"] = str(project)
    with open(scratch / "pytest.ini", "w") as ini:
        config.write(ini)


def report(step, project, records):
    print(f"Checking {project} against step {step.number} ({step})\n")
    passed = failed = 0
    for record in records:
        if record["kind"] == "deselected":
            continue
        ok = record["kind"] == "test" and record["outcome"] == "passed"
        passed, failed = passed + ok, failed + (not ok)
        print(f"  {'PASS' if ok else 'FAIL'}  {describe(record)}")
        if not ok:
            print_failure(step, record)
    left_out = sum(record["kind"] == "deselected" for record in records)
    if left_out:
        print(
            f"\nLeft out {left_out} course-only tests: they pin details your project may do "
            "differently (exact query counts, log wording, the demo data, page markup)."
        )
    verdict = "your project behaves like the step" if not failed else "not there yet"
    print(f"\nResult: {passed} passed, {failed} failed: {verdict}.")
    return 1 if failed else 0


def describe(record):
    if record["kind"] == "collect_error":
        return f"load {record['nodeid']}"
    first_line = record["doc"].splitlines()[0] if record["doc"] else ""
    name = record["nodeid"].split("::")[-1]
    test_name, _, parameters = name.partition("[")
    words = first_line or test_name.removeprefix("test_").replace("_", " ")
    return f"{words} [{parameters}" if parameters else words


def print_failure(step, record):
    lines = record["message"].strip().splitlines() or ["failed"]
    hint = lines[0].removeprefix("AssertionError: ")
    comparison = next(filter(None, (COMPARISON.search(line) for line in lines)), None)
    if not hint.startswith("assert "):
        label = "note:" if comparison else "happened:"
        print(f"        {label:<9} {hint[:200]}")
    if comparison:
        print(f"        expected: {comparison.group(2)}")
        print(f"        happened: {comparison.group(1)}")
    module = Path(record["nodeid"].split("::")[0]).stem
    teaching_step = step_that_introduced(module, step)
    print(f'        reread:   {teaching_step}/README.md, "{readme_section(teaching_step, module)}"')


def step_that_introduced(module, step):
    """The earliest step whose tests have this module: its README teaches the behaviour."""
    return next(
        (earlier for earlier in all_steps() if (earlier.path / "tests" / f"{module}.py").exists()),
        step,
    )


def readme_section(step, module):
    section = README_SECTIONS.get(module, DEFAULT_SECTION)
    readme = (step.path / "README.md").read_text()
    return section if section in readme else DEFAULT_SECTION
