"""``python -m tutorial check N PATH``: run step N's tests against a learner's own project.

The learner's folder is only read: the tests run from a temporary folder, on a scratch
database, with bytecode kept in the course's cache, and the report speaks of behaviours,
not of pytest.
"""

import ast
import configparser
import contextlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
from dataclasses import dataclass, field
from pathlib import Path

from tutorial.course.steps import REPO_ROOT, all_steps, get_step, step_numbers
from tutorial.preload import client
from tutorial.running.postgres import ServerProgramsMissing, throwaway_server
from tutorial.running.processes import Terminated
from tutorial.running.suites import environment_for_tests, forget_bytecode_of_removed_folders

EXPECTED_SETTINGS = "my_shop.settings"
# Markers of tests that a correct learner project may fail, and why they are left out.
LEFT_OUT_REASONS = {
    "course_only": (
        "about details a correct project may do differently "
        "(exact query counts, the wording of logs, emails and errors, the demo data, page markup)"
    ),
    "library": (
        "showing how Django or a package behaves (RQ's work horse, db_worker's reloader, "
        "Django's own batches), not your code"
    ),
    "browser": "which the course runs in Chromium against its own pages (make test-browser)",
    "rq": "which need RQ's workers on a Redis server (make test-redis)",
    "article": "running the article's own receivers to show where they go wrong, not yours",
}
LEFT_OUT = " and ".join(f"not {marker}" for marker in LEFT_OUT_REASONS)
# Tests that start real worker processes: they run, but --quick leaves them out.
SLOW = "slow"
SLOW_REASON = "which start real worker processes, seconds each"
# The README heading that teaches what each test module checks. A test is sent to the
# README of the step that first has it; tests/test_docs.py keeps these headings real.
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
    # Step 08 moves the request log from the request signals to a middleware.
    "test_request_signals": ("Request signals", "Request timing: a middleware"),
    "test_customers": "A profile for every new user",
    "test_signup": "The pages",
    # Step 06 teaches the comment tests again, for the task that replaces the email.
    "test_comments": (
        "Email the author after the comment is committed",
        "The receiver enqueues, after the commit, and never fails the request",
    ),
    "test_delivery": "The task, which sends each email once",
    "test_task_framework": "The tasks framework's own signals",
    "test_workers": "Faults, and what each one does",
    "test_async_receivers": "Are signals asynchronous?",
    "test_tags": ("Tags, counted by `m2m_changed`", "Tags: no receiver at all"),
    # Step 08's admin refuses to delete a product that has confirmed orders.
    "test_deletes": ("Deleting: `pre_delete`, `post_delete` and the file left behind", "The admin"),
    "test_login_events": "The auth signals feed an audit log",
    "test_staff_group": "`post_migrate` creates the Shop staff group",
    "test_confirm": "Stock: a call, and an announcement after the commit",
    "test_sales": "The sales log: what a signal is for",
    "test_write_paths": "Which write paths reach which hook",
}
DEFAULT_SECTION = "The code that changed"
SETTINGS_IN_MANAGE_PY = re.compile(
    r"""["']DJANGO_SETTINGS_MODULE["']\s*(?:,|\]\s*=)\s*["']([\w.]+)["']"""
)
# pytest's rewritten assertion; the steps' tests write "assert <actual> == <expected>".
COMPARISON = re.compile(r"^assert (.+) == (.+)$")
NOT_RAISED = re.compile(r"^Failed: DID NOT RAISE (?:<class ')?(?:[\w.]+\.)?(\w+)'?>?$")
SHOWN_CHARACTERS = 120
MEMORY_ADDRESS = re.compile(r" at 0x[0-9a-fA-F]+")


class CheckError(Exception):
    """Bad input: one line for the learner, exit status 2."""


@dataclass
class Behaviour:
    """One test of the step, as the learner sees it."""

    nodeid: str
    doc: str = ""
    failures: list = field(default_factory=list)  # the plugin's records, first one shown
    skipped: bool = False

    @property
    def passed(self):
        return not self.failures and not self.skipped

    @property
    def failed(self):
        return bool(self.failures)

    @property
    def verdict(self):
        return "FAIL" if self.failed else "SKIP" if self.skipped else "PASS"

    @property
    def module(self):
        return Path(self.nodeid.split("::")[0]).stem

    @property
    def function(self):
        return self.nodeid.split("::")[-1].partition("[")[0]

    def describe(self):
        if "::" not in self.nodeid:
            return f"the tests in {self.module}.py load"
        parameters = self.nodeid.partition("[")[2]
        words = self.function.removeprefix("test_").replace("_", " ")
        return f"{words} [{parameters}" if parameters else words


def register(subparsers):
    parser = subparsers.add_parser(
        "check", help="run step N's tests against your own project folder"
    )
    parser.add_argument("step", help=f"step number, {step_numbers()}")
    parser.add_argument("project", help="the folder that holds your manage.py")
    parser.add_argument(
        "--settings", help=f"your settings module, if it is not {EXPECTED_SETTINGS}"
    )
    parser.add_argument(
        "--postgres",
        action="store_true",
        help="run on a throwaway PostgreSQL server; your settings must read DATABASE_URL",
    )
    parser.add_argument(
        "--watch",
        action="store_true",
        help="check again each time a file in your project changes, until Ctrl-C",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help=f"leave out the slow tests ({SLOW_REASON}); the result says how many",
    )
    parser.add_argument(
        "--course",
        action="store_true",
        help="the course's own run (make test): every test but the browser ones, pytest's "
        "output instead of the report, and a check that the folder was left as it was",
    )
    parser.add_argument(
        "--pytest-arg",
        action="append",
        default=[],
        dest="pytest_args",
        help="one argument for pytest, as --pytest-arg=-x (repeatable); a test's node id "
        "runs that test alone",
    )
    parser.set_defaults(run=run_check)


def run_check(args):
    step = get_step(args.step)
    if args.watch:
        if args.course or args.postgres:
            print(
                "error: --watch runs alone, on SQLite: leave out --course and --postgres",
                file=sys.stderr,
            )
            return 2
        from tutorial.check.watch import watch_check

        return watch_check(step, args.project, args.settings, quick=args.quick)
    # The course's own run also has the tests that pin details (course_only, article).
    markers = "not browser and not rq" if args.course else LEFT_OUT
    if args.quick:
        markers += f" and not {SLOW}"
    try:
        project = find_project(args.project)
        settings_module = choose_settings(project, args.settings)
        before = folder_state(project)
        live = None if args.course else LiveReport(step, project, args.postgres, args.quick)
        with database_url(args.postgres) as url:
            records, output = check_project(
                step, project, settings_module, url, markers, args.pytest_args, live
            )
    except CheckError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except ServerProgramsMissing as missing:
        print(missing, file=sys.stderr)
        return 3
    if args.course:
        return course_report(step, project, records, output, before)
    return live.finish(records)


def folder_state(folder):
    """Every path below the folder with its modification time: any write changes it."""
    return sorted((str(path), path.stat().st_mtime_ns) for path in folder.rglob("*"))


def course_report(step, project, records, output, before):
    """pytest's own output, for whoever changed the step, then check's verdict."""
    print(output.rstrip())
    results = behaviours(records)
    failed = sum(behaviour.failed for behaviour in results)
    passed = sum(behaviour.passed for behaviour in results)
    changed = folder_state(project) != before
    if changed:
        print(f"error: checking {project} changed files in it; check must only read them")
    verdict = "the step behaves as its tests say" if not failed else "not there yet"
    print(f"\nResult: {passed} passed, {failed + changed} failed: {verdict}.")
    return 1 if failed or changed else 0


@contextlib.contextmanager
def database_url(postgres):
    """None for the usual scratch SQLite file, or a throwaway PostgreSQL server's URL."""
    if not postgres:
        yield None
        return
    with throwaway_server() as base_url:
        yield f"{base_url}/check"


def check_project(step, project, settings_module, url, markers, pytest_args=(), live=None):
    """Run the step's tests on the project; return the report's records and pytest's output.

    live, if given, hears each record as the tests write it (LiveReport.hear).
    """
    with tempfile.TemporaryDirectory(prefix="tutorial-check-") as scratch:
        environ = project_environment(project, settings_module, Path(scratch), url)
        records, output = run_step_tests(
            step, project, environ, Path(scratch), markers, pytest_args, live
        )
    forget_bytecode_of_removed_folders()  # the scratch folder's, among others
    for record in records:
        if record["kind"] == "import_error":
            raise CheckError(import_problem(project, record))
        if record["kind"] == "wrong_database":
            raise CheckError(
                f"your settings ignore DATABASE_URL (the database is {record['vendor']}), so "
                '--postgres cannot apply; steps/01_setup/README.md, "The code that changed", '
                "shows how"
            )
    check_the_run_ended(step, records, output, pytest_args)
    return records, output


def check_the_run_ended(step, records, output, pytest_args):
    """pytest's exit status: a run that selected nothing, or stopped outside any test.

    A run that stopped in the middle of a test fails that test (see behaviours()).
    """
    status = next(record["status"] for record in records if record["kind"] == "exit")
    ran = behaviours(records)
    # Nothing ran: an error, unless --quick left out every test that was selected.
    if status == 5 and not ran and not left_out_counts(records)[SLOW]:
        selection = f" matched {' '.join(pytest_args)}" if pytest_args else " ran"
        raise CheckError(f"no test of step {step.number}{selection}")
    stopped_in_a_test = any(
        failure["kind"] == "stopped" for behaviour in ran for failure in behaviour.failures
    )
    if status not in (0, 1, 5) and not stopped_in_a_test:
        raise CheckError(
            f"step {step.number}'s tests stopped early (pytest's exit status {status}): "
            f"{last_line(output)}"
        )


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
    found = SETTINGS_IN_MANAGE_PY.search((project / "manage.py").read_text(errors="replace"))
    if not found:
        raise CheckError(
            "your manage.py does not set DJANGO_SETTINGS_MODULE; "
            f"name your settings module with --settings, for example --settings {EXPECTED_SETTINGS}"
        )
    if found.group(1) != EXPECTED_SETTINGS:
        raise CheckError(
            f"your manage.py uses settings {found.group(1)!r}, but the steps use "
            f"{EXPECTED_SETTINGS!r}; if yours is on purpose, add --settings {found.group(1)}"
        )
    return EXPECTED_SETTINGS


def project_environment(project, settings_module, scratch, url=None):
    # Bytecode goes to the course's cache, never into the learner's folder.
    environ = environment_for_tests(os.environ)
    environ.pop("DATABASE_URL", None)
    if url:
        environ["DATABASE_URL"] = url
    environ.update(
        DJANGO_SETTINGS_MODULE=settings_module,
        SQLITE_PATH=str(scratch / "scratch.sqlite3"),
        # The repository comes last, only for the report plugin (tutorial.check.report_plugin).
        PYTHONPATH=os.pathsep.join([str(project), str(REPO_ROOT)]),
        CHECK_REPORT_FILE=str(scratch / "report.jsonl"),
        CHECK_PROJECT=str(project),
    )
    if url:
        environ["CHECK_DATABASE_VENDOR"] = "postgresql"
    return environ


def import_problem(project, error):
    problem = f"your project fails to import: {error['type']}: {error['message']}"
    if error["file"]:
        problem += f" ({relative_to(project, error['file'])}, line {error['line']})"
    return problem


def relative_to(project, filename):
    try:
        return Path(filename).resolve().relative_to(project).as_posix()
    except ValueError:
        return filename


def last_line(text):
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return shorten(lines[-1]) if lines else "no output"


def run_step_tests(step, project, environ, scratch, markers, pytest_args, live=None):
    shutil.copytree(step.path / "tests", scratch / "tests")
    write_pytest_ini(step, project, environ["DJANGO_SETTINGS_MODULE"], scratch)
    report_file = Path(environ["CHECK_REPORT_FILE"])
    with tempfile.TemporaryFile("w+") as output:
        pytest = client.Popen(
            [
                *[sys.executable, "-m", "pytest", "-q", "-p", "tutorial.check.report_plugin"],
                # A test module that cannot import fails alone; the others still run.
                *["--continue-on-collection-errors", "-m", markers, *pytest_args],
            ],
            cwd=scratch,
            env=environ,
            stdout=output,
            stderr=subprocess.STDOUT,
            text=True,
        )
        try:
            records = follow_records(report_file, pytest, live)
        except KeyboardInterrupt as interruption:
            stop_tests(pytest, interruption)
            raise
        records.append({"kind": "exit", "status": pytest.returncode})
        output.seek(0)
        text = output.read()
    if not report_file.exists():
        raise CheckError(f"step {step.number}'s tests could not start: {last_line(text)}")
    return records, text


def stop_tests(pytest, interruption):
    """After Ctrl-C, which pytest got too, or a SIGTERM it did not: leave nothing running."""
    if isinstance(interruption, Terminated):
        pytest.send_signal(signal.SIGINT)  # pytest stops as for Ctrl-C, tearing down
    try:
        pytest.wait(timeout=30)
    except subprocess.TimeoutExpired:
        pytest.kill()
        pytest.wait()


def follow_records(report_file, process, live=None, interval=0.05):
    """Read the report plugin's records while the tests run, handing each to live."""
    records, pending = [], ""
    with contextlib.ExitStack() as stack:
        report = None
        while True:
            finished = process.poll() is not None
            if report is None and report_file.exists():
                report = stack.enter_context(open(report_file, encoding="utf-8"))
            if report is not None:
                pending += report.read()
                *lines, pending = pending.split("\n")
                for line in lines:
                    records.append(json.loads(line))
                    if live is not None:
                        live.hear(records[-1])
            if finished:
                return records
            if live is not None:
                live.tick()
            time.sleep(interval)


def write_pytest_ini(step, project, settings_module, scratch):
    config = configparser.ConfigParser(interpolation=None)
    config.optionxform = str  # keep DJANGO_SETTINGS_MODULE in capitals
    config.read(step.path / "pytest.ini")
    config["pytest"]["DJANGO_SETTINGS_MODULE"] = settings_module
    config["pytest"]["pythonpath"] = str(project)
    # Full values in assertion messages: the report shortens them itself.
    config["pytest"]["verbosity_assertions"] = "2"
    with open(scratch / "pytest.ini", "w") as ini:
        config.write(ini)


def behaviours(records):
    """One Behaviour per test, in run order; a failed setup, call or teardown fails it,
    and so does the end of the run before the test's end (a crash, an os._exit())."""
    found, started, finished = {}, [], set()
    status = next((record["status"] for record in records if record["kind"] == "exit"), None)
    for record in records:
        kind = record["kind"]
        if kind == "started":
            started.append(record["nodeid"])
        elif kind == "finished":
            finished.add(record["nodeid"])
        elif kind == "skipped":
            found.setdefault(record["nodeid"], Behaviour(record["nodeid"])).skipped = True
        elif kind in ("test", "collect_error"):
            behaviour = found.setdefault(record["nodeid"], Behaviour(record["nodeid"]))
            behaviour.doc = record.get("doc", "")
            if not record.get("passed", False):
                behaviour.failures.append(record)
    if status is not None:
        for nodeid in started:
            if nodeid not in finished:
                message = f"the test run stopped during this test (pytest's exit status {status})"
                stopped = {"kind": "stopped", "message": message}
                found.setdefault(nodeid, Behaviour(nodeid)).failures.append(stopped)
    return list(found.values())


def left_out_counts(records, quick=True):
    """How many tests each marker left out; a test with two markers counts for the first.

    Slow tests left out by --quick count under SLOW, when quick; tests that only a -k or
    a node id given with --pytest-arg left out count nowhere.
    """
    reasons = [*LEFT_OUT_REASONS, *([SLOW] if quick else [])]
    counts = dict.fromkeys([*LEFT_OUT_REASONS, SLOW], 0)
    for record in records:
        if record["kind"] == "deselected":
            marker = next((marker for marker in reasons if marker in record["markers"]), None)
            if marker:
                counts[marker] += 1
    return counts


def plural(count, word):
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


class LiveReport:
    """Check's report, printed as the tests run: a line per behaviour once it has finished.

    A behaviour's records (its setup, call and teardown) are all written before its
    "finished" record, so its line is printed then, with what failed under it.
    """

    # Seconds after which a silent run says what it is waiting for, and says it again.
    NOTICES = (5, 15, 30, 60, 120, 300, 600)

    def __init__(self, step, project, on_postgres=False, quick=False):
        self.step, self.on_postgres, self.quick = step, on_postgres, quick
        self.started = time.monotonic()
        self.slow, self.slow_seconds, self.in_slow_group = set(), 0.0, False
        self.records, self.shown = {}, set()
        self.running, self.running_since, self.notices = None, self.started, list(self.NOTICES)
        database = "a throwaway PostgreSQL" if on_postgres else "a scratch SQLite database"
        self.heading = f"Checking {project} against step {step.number} ({step}), on {database}\n"

    def print_heading(self):
        """Once the tests run: a project that cannot load gets its one-line error alone."""
        if self.heading:
            print(self.heading)
            self.heading = None

    def hear(self, record):
        kind = record["kind"]
        if kind in ("import_error", "wrong_database"):
            return
        self.print_heading()
        if kind == "collected":
            self.slow = set(record["slow"])
        elif kind == "collect_error":
            self.show(Behaviour(record["nodeid"], failures=[record]))
        elif kind in ("test", "skipped"):
            self.records.setdefault(record["nodeid"], []).append(record)
        elif kind == "started":
            self.announce_slow_group(record["nodeid"])
            self.running = record["nodeid"]
            self.running_since, self.notices = time.monotonic(), list(self.NOTICES[1:])
        elif kind == "finished":
            self.show_finished(record)
            self.running = None
        sys.stdout.flush()

    def tick(self):
        """While nothing is heard: say what the run is waiting for, now and then."""
        waited = time.monotonic() - self.running_since
        if not self.notices or waited < self.notices[0]:
            return
        self.notices.pop(0)
        if self.running:
            words = Behaviour(self.running).describe()
            print(f"  ...   still running: {words} ({waited:.0f} s)", flush=True)
        elif self.heading:
            self.print_heading()
            print(f"  ... loading your project and the step's tests ({waited:.0f} s)", flush=True)

    def announce_slow_group(self, nodeid):
        slow = nodeid in self.slow
        if slow and not self.in_slow_group:
            starts = "starts" if len(self.slow) == 1 else "start"
            print(
                f"  ... the next {plural(len(self.slow), 'behaviour')} {starts} real worker "
                "processes: seconds each"
            )
        self.in_slow_group = slow

    def show_finished(self, record):
        [behaviour] = behaviours(self.records.pop(record["nodeid"], [])) or [None]
        if behaviour is None:
            return
        duration = ""
        if record["nodeid"] in self.slow:
            self.slow_seconds += record["seconds"]
            duration = f"  ({record['seconds']:.1f} s)"
        self.show(behaviour, duration)

    def show(self, behaviour, duration=""):
        self.shown.add(behaviour.nodeid)
        print(f"  {behaviour.verdict}  {behaviour.describe()}{duration}")
        if behaviour.failed:
            print_failure(self.step, behaviour)

    def finish(self, records):
        """The summary: what was left out and why, how long it took, and the verdict."""
        self.print_heading()
        results = behaviours(records)
        for behaviour in results:
            if behaviour.nodeid not in self.shown:  # the test the run stopped in
                self.show(behaviour)
        counts = left_out_counts(records, quick=self.quick)
        not_run = counts.pop(SLOW)
        left_out = {marker: count for marker, count in counts.items() if count}
        if left_out or not_run:
            print()
        for marker, count in left_out.items():
            tests = plural(count, marker.replace("_", "-") + " test")
            print(f"Left out {tests}, {LEFT_OUT_REASONS[marker]}.")
        if not_run:
            print(f"Left out {plural(not_run, 'slow test')} (--quick), {SLOW_REASON}.")
        if not self.on_postgres and any(b.module == "test_concurrency" for b in results):
            print(
                "The concurrency tests ran on SQLite, which lets one transaction write at a "
                "time; add --postgres to run them against row locks."
            )
        seconds = time.monotonic() - self.started
        slow = f", {self.slow_seconds:.1f} s of it in the slow ones" if self.slow_seconds else ""
        print(f"\nChecked in {seconds:.1f} s{slow}.")
        failed = sum(behaviour.failed for behaviour in results)
        passed = sum(behaviour.passed for behaviour in results)
        skipped = len(results) - failed - passed
        if failed:
            verdict = "not there yet"
        elif not_run:
            verdict = f"quick check: {plural(not_run, 'behaviour')} not run"
        else:
            verdict = "your project behaves like the step"
        counted = f"{passed} passed, {failed} failed" + (f", {skipped} skipped" if skipped else "")
        print(f"Result: {counted}: {verdict}.")
        return 1 if failed else 0


def print_failure(step, behaviour):
    failure = behaviour.failures[0]
    if failure.get("statement"):
        print(f"        {'in test:':<9} {shorten(failure['statement'])}")
    for label, text in explain(failure["message"]):
        print(f"        {label + ':':<9} {text}")
    if failure.get("location"):
        print(f"        {'from:':<9} {failure['location']} (your code)")
    if behaviour.doc:
        first_paragraph = behaviour.doc.split("\n\n")[0]
        # Whole, over as many lines as it takes: the test's own explanation.
        why = textwrap.wrap(readable(first_paragraph), 90) or [""]
        print(f"        {'why:':<9} {why[0]}")
        for line in why[1:]:
            print(f"        {'':<9} {line}")
    teaching_step = step_that_teaches(behaviour, step)
    section = readme_section(teaching_step, behaviour.module)
    print(f'        {"reread:":<9} {teaching_step}/README.md, "{section}"')


def explain(message):
    """Turn pytest's crash message into (label, text) lines a learner can read."""
    lines = [line.strip() for line in message.strip().splitlines() if line.strip()] or ["failed"]
    not_raised = NOT_RAISED.match(lines[0])
    if not_raised:
        raised = not_raised.group(1)
        return [("expected", f"{raised} is raised"), ("happened", "nothing was raised")]
    if lines[0].startswith("AssertionError: assert "):
        # pytest's own prefix on some comparisons (strings), not a message from the test.
        lines[0] = lines[0].removeprefix("AssertionError: ")
    explained = []
    if lines[0].startswith("AssertionError: "):
        # The test's own message says what went wrong, often with a hint.
        explained.append(("happened", shorten(lines.pop(0).removeprefix("AssertionError: "))))
    if not lines or not lines[0].startswith("assert "):
        return explained or [("happened", shorten(lines[0]))]
    containment = explain_containment(lines[0])
    if containment:
        return [("note", text) for _label, text in explained] + containment
    comparison = COMPARISON.match(lines[0])
    if not comparison:
        return explained or [("failed", shorten(lines[0]))]
    actual, expected = comparison.groups()
    explained = [("note", text) for _label, text in explained]
    explained += [("expected", shorten(expected)), ("happened", shorten(actual))]
    if max(len(actual), len(expected)) > SHOWN_CHARACTERS:
        explained += [("where", shorten(line)) for line in lines[1:2] if not line.startswith("+")]
    return explained


def explain_containment(assertion):
    """``assert 'needle' in 'text'``, as what was looked for and the text it was looked in."""
    try:
        tree = ast.parse(assertion.removeprefix("assert "), mode="eval").body
    except SyntaxError:
        return None
    if not (isinstance(tree, ast.Compare) and len(tree.ops) == 1):
        return None
    if not isinstance(tree.ops[0], (ast.In, ast.NotIn)):
        return None
    source = assertion.removeprefix("assert ")
    needle = ast.get_source_segment(source, tree.left)
    text = ast.get_source_segment(source, tree.comparators[0])
    wanted = "contains" if isinstance(tree.ops[0], ast.In) else "does not contain"
    return [("expected", f"{wanted} {shorten(needle)}"), ("happened", shorten_middle(text))]


def readable(text):
    """One line, without the memory addresses of reprs (``<function f at 0x7f...>``)."""
    return MEMORY_ADDRESS.sub("", " ".join(text.split()))


def shorten_middle(text, limit=2 * SHOWN_CHARACTERS):
    """Both ends of a long text: what is missing from it may be anywhere."""
    text = readable(text)
    if len(text) <= limit:
        return text
    half = (limit - 3) // 2
    return f"{text[:half]} … {text[-half:]}"


def shorten(text):
    text = readable(text)
    return text if len(text) <= SHOWN_CHARACTERS else text[: SHOWN_CHARACTERS - 1] + "…"


def step_that_teaches(behaviour, step):
    """The earliest step whose tests have this test: its README teaches the behaviour."""
    definition = re.compile(rf"^\s*(?:async\s+)?def {re.escape(behaviour.function)}\(", re.M)
    for earlier in all_steps():
        module = earlier.path / "tests" / f"{behaviour.module}.py"
        if earlier.number <= step.number and module.exists():
            if "::" not in behaviour.nodeid or definition.search(module.read_text()):
                return earlier
    return step


def readme_headings(step):
    return re.findall(r"^#{2,4} (.+?)\s*$", (step.path / "README.md").read_text(), re.M)


def readme_section(step, module):
    """The first of the module's sections that the step's README has, or the default."""
    sections = README_SECTIONS.get(module, DEFAULT_SECTION)
    candidates = (sections,) if isinstance(sections, str) else sections
    headings = readme_headings(step)
    return next((section for section in candidates if section in headings), DEFAULT_SECTION)
