"""`python -m tutorial check N PATH`, on the steps themselves and on broken copies."""

import re
import shutil
from concurrent.futures import ThreadPoolExecutor

import pytest
from conftest import copy_of_step, run_tutorial

from tutorial.check.command import LiveReport, explain, folder_state
from tutorial.course.steps import REPO_ROOT, get_step


def check(step_number, project, *options):
    return run_tutorial("check", step_number, project, *options)


LEARNER_PROJECT = REPO_ROOT / "tests" / "learner_projects" / "step3"


def without_the_receivers_import(destination):
    """Step 3 with the import that connects its receiver removed from ProductsConfig.ready()."""
    project = copy_of_step(3, destination)
    apps_file = project / "products" / "apps.py"
    source = apps_file.read_text()
    assert "from products import signals" in source
    apps_file.write_text(source.replace("from products import signals", "pass  #"))
    return project


def with_the_exception_module_renamed(destination):
    """The learner's step 3 with products/exceptions.py named products/errors.py."""
    project = destination / "renamed"
    shutil.copytree(LEARNER_PROJECT, project)
    (project / "products" / "exceptions.py").rename(project / "products" / "errors.py")
    for module in project.rglob("*.py"):
        source = module.read_text()
        module.write_text(source.replace("products.exceptions", "products.errors"))
    return project


ENVIRON_ONLY_RECEIVER = """def note_request_start(sender, environ, **kwargs):
    method, path = environ["REQUEST_METHOD"], environ["PATH_INFO"]
    current_request.started = (method, path, time.perf_counter())
"""


def with_an_environ_only_request_receiver(destination):
    """Step 4 with a request_started receiver written for WSGI's environ alone."""
    project = copy_of_step(4, destination)
    signals_file = project / "request_log" / "signals.py"
    source = signals_file.read_text()
    start = source.index("def note_request_start(")
    end = source.index("\n\n\n", start)
    signals_file.write_text(source[:start] + ENVIRON_ONLY_RECEIVER + source[end + 1 :])
    return project


@pytest.fixture(scope="module")
def own_checks(tmp_path_factory):
    """Run the slow checks at once: a learner's step 3, and broken copies of the steps.

    The steps themselves are checked by `make test`, whose step suites run through
    `check --course` (tutorial/running/suites.py): each passes, and its folder is left as it was.
    """
    before = folder_state(LEARNER_PROJECT)
    broken = without_the_receivers_import(tmp_path_factory.mktemp("broken"))
    renamed = with_the_exception_module_renamed(tmp_path_factory.mktemp("renamed"))
    wsgi_only = with_an_environ_only_request_receiver(tmp_path_factory.mktemp("wsgi_only"))
    runs = {
        "learner": (3, LEARNER_PROJECT),
        "unwired": (3, broken),
        "unimportable": (3, renamed),
        "environ_only": (4, wsgi_only),
    }
    with ThreadPoolExecutor(max_workers=2) as pool:
        results = dict(zip(runs, pool.map(lambda run: check(*run), runs.values()), strict=True))
    return before, results


def test_a_learners_own_step_3_passes_the_check(own_checks):
    """Written from the article and the README only: the tests must judge behaviour."""
    before, results = own_checks
    result = results["learner"]

    assert result.returncode == 0, result.stdout + result.stderr
    assert "FAIL" not in result.stdout
    assert result.stdout.splitlines()[-1].endswith("0 failed: your project behaves like the step.")
    # Its settings keep Django's BASE_DIR / "db.sqlite3": the check must not even create it.
    assert folder_state(LEARNER_PROJECT) == before
    assert not (LEARNER_PROJECT / "db.sqlite3").exists()


def test_the_report_says_which_tests_it_left_out_and_why(own_checks):
    _before, results = own_checks
    report = results["learner"].stdout

    assert "Left out 5 course-only tests, about details a correct project may do" in report
    assert "Left out 1 browser test, which the course runs in Chromium" in report
    assert "add --postgres to run them against row locks" in report
    assert "Left out 1 article test, running the article's own receivers" in report


def test_a_receiver_that_is_never_imported_fails_the_stock_behaviour(own_checks):
    _before, results = own_checks
    result = results["unwired"]
    report = result.stdout

    assert result.returncode == 1
    failure = report[report.index("FAIL  confirming takes the ordered quantity from stock") :]
    assert failure.splitlines()[1:6] == [
        "        in test:  assert stock_of(order) == 3",
        "        expected: 3",
        "        happened: 5",
        "        why:      A confirmed order with unchanged stock means the receiver never ran: see"
        " ready(), sender.",
        '        reread:   steps/03_custom_signal/README.md, "The code that changed"',
    ]
    assert "FAIL  the stock receiver listens for orders" in report
    assert "does ProductsConfig.ready() import products.signals?" in report
    assert "expected: OutOfStock is raised" in report
    assert report.splitlines()[-1].startswith("Result: ")
    assert report.splitlines()[-1].endswith("failed: not there yet.")


def test_a_request_receiver_that_needs_environ_fails_under_asgi(own_checks):
    _before, results = own_checks
    report = results["environ_only"].stdout.splitlines()

    failed = [line for line in report if line.startswith("  FAIL")]
    assert failed == [
        "  FAIL  asgi sends started with the scope and no environ",
        "  FAIL  asgi reads the whole body before request started",
        "  FAIL  an order confirms under asgi",
        "  FAIL  each request under asgi is logged with its duration",
    ]
    assert (
        "missing 1 required positional argument: 'environ'" in report[report.index(failed[0]) + 2]
    )
    reread = '        reread:   steps/04_builtin_signals/README.md, "Request signals"'
    assert report.count(reread) == 4


def test_an_error_raised_in_the_learners_code_names_their_file_and_line(tmp_path):
    project = copy_of_step(2, tmp_path)
    models = project / "orders" / "models.py"
    source = models.read_text()
    assert "self.product.price * self.quantity" in source
    models.write_text(source.replace("self.product.price * self.quantity", "self.product.cost"))
    line = next(n for n, text in enumerate(models.read_text().splitlines(), 1) if ".cost" in text)

    result = check(2, project)

    assert result.returncode == 1
    assert "happened: AttributeError: 'Product' object has no attribute 'cost'" in result.stdout
    assert f"from:     orders/models.py, line {line} (your code)" in result.stdout


@pytest.mark.postgres
def test_a_step_passes_its_own_check_on_postgres():
    result = check(3, get_step(3).path, "--postgres")

    assert result.returncode == 0, result.stdout + result.stderr
    assert "on a throwaway PostgreSQL" in result.stdout.splitlines()[0]
    assert "add --postgres" not in result.stdout
    assert result.stdout.splitlines()[-1].endswith("0 failed: your project behaves like the step.")


@pytest.mark.postgres
def test_settings_that_ignore_database_url_cannot_check_on_postgres():
    result = check(3, LEARNER_PROJECT, "--postgres")

    assert_one_line_error(result)
    assert "your settings ignore DATABASE_URL (the database is sqlite)" in result.stderr


def test_check_on_postgres_without_its_server_programs_says_how_to_install_them(tmp_path):
    result = run_tutorial("check", 3, get_step(3).path, "--postgres", env={"PG_BIN": str(tmp_path)})

    assert result.returncode == 3
    assert "apt-get install postgresql" in result.stderr
    assert result.stdout == ""


def test_a_test_module_that_cannot_import_fails_alone(own_checks):
    _before, results = own_checks
    report = results["unimportable"].stdout.splitlines()

    failure = report.index("  FAIL  the tests in test_signal_wiring.py load")
    assert report[failure + 1] == (
        "        happened: ModuleNotFoundError: No module named 'products.exceptions'"
    )
    assert [line for line in report if line.startswith("  FAIL")] == [report[failure]]
    assert report[-1].startswith("Result: ")
    assert int(report[-1].split()[1]) > 30, "the other modules' tests ran"


def assert_one_line_error(result):
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.startswith("error: ")
    assert result.stderr.count("\n") == 1, result.stderr


def test_a_syntax_error_is_reported_with_file_and_line(tmp_path):
    project = copy_of_step(3, tmp_path)
    signals_file = project / "products" / "signals.py"
    lines = signals_file.read_text().splitlines()
    lines[4] = "def broken(:"
    signals_file.write_text("\n".join(lines) + "\n")

    result = check(3, project)

    assert_one_line_error(result)
    assert result.stderr.startswith("error: your project fails to import: SyntaxError")
    assert "(products/signals.py, line 5)" in result.stderr


def test_an_import_error_names_the_learners_file(tmp_path):
    project = copy_of_step(3, tmp_path)
    views = project / "orders" / "views.py"
    views.write_text("from orders.signals import no_such_signal\n" + views.read_text())

    result = check(3, project)

    assert_one_line_error(result)
    assert "ImportError: cannot import name 'no_such_signal'" in result.stderr
    assert "(orders/views.py, line 1)" in result.stderr


def test_a_misspelt_app_names_the_missing_module(tmp_path):
    project = copy_of_step(1, tmp_path)
    settings = project / "my_shop" / "settings.py"
    settings.write_text(settings.read_text().replace('"products.apps', '"product.apps'))

    result = check(1, project)

    assert_one_line_error(result)
    assert result.stderr == (
        "error: your project fails to import: ModuleNotFoundError: No module named 'product'\n"
    )


@pytest.mark.parametrize(
    ("make_project", "message"),
    [
        (lambda tmp: tmp / "nowhere", "does not exist"),
        (lambda tmp: tmp, "has no manage.py"),
    ],
    ids=["missing-folder", "no-manage-py"],
)
def test_bad_project_paths_are_one_line_errors(tmp_path, make_project, message):
    result = check(2, make_project(tmp_path))

    assert_one_line_error(result)
    assert message in result.stderr


def test_other_settings_modules_need_the_settings_option(tmp_path):
    project = copy_of_step(1, tmp_path)
    manage = project / "manage.py"
    manage.write_text(manage.read_text().replace("my_shop.settings", "shop.settings"))

    result = check(1, project)

    assert_one_line_error(result)
    assert "'shop.settings'" in result.stderr
    assert "--settings shop.settings" in result.stderr


def test_a_manage_py_without_settings_needs_the_settings_option(tmp_path):
    project = copy_of_step(1, tmp_path)
    (project / "manage.py").write_text("import sys\n")

    result = check(1, project)

    assert_one_line_error(result)
    assert "does not set DJANGO_SETTINGS_MODULE" in result.stderr
    assert "--settings" in result.stderr


def test_the_settings_option_names_the_module_to_load(tmp_path):
    project = copy_of_step(1, tmp_path)

    result = check(1, project, "--settings", "shop.settings")

    assert_one_line_error(result)
    assert "No module named 'shop'" in result.stderr


def test_an_unknown_step_is_a_one_line_error():
    result = check(9, get_step(1).path)

    assert_one_line_error(result)
    assert result.stderr.startswith("error: there is no step '9'")


LONG_PAGE = repr("<p>head</p>" * 30 + "<p>tail</p>")


@pytest.mark.parametrize(
    ("message", "expected", "happened"),
    [
        (
            "AssertionError: assert 'short by 2' in 'not enough mugs (missing 2)'",
            "contains 'short by 2'",
            "'not enough mugs (missing 2)'",
        ),
        (
            "assert 'mug in stock' in 'no mugs here'",
            "contains 'mug in stock'",
            "'no mugs here'",
        ),
        (
            "assert 'Confirm' not in '<button>Confirm</button>'",
            "does not contain 'Confirm'",
            "'<button>Confirm</button>'",
        ),
        (
            f"assert 'Espresso' in {LONG_PAGE}",
            "contains 'Espresso'",
            f"{LONG_PAGE[:118]} … {LONG_PAGE[-118:]}",
        ),
    ],
    ids=["in", "needle-with-in", "not-in", "long-text"],
)
def test_a_failed_containment_shows_what_was_looked_for_and_where(message, expected, happened):
    assert explain(message) == [("expected", expected), ("happened", happened)]


def test_reprs_lose_their_memory_addresses():
    message = "assert [(<function update at 0x7fcae2f06ca0>, None)] == []"

    assert explain(message) == [("expected", "[]"), ("happened", "[(<function update>, None)]")]


def test_a_course_run_shows_pytests_output_and_the_verdict():
    """`make test` runs each step this way: every test but the browser ones, pytest's output."""
    result = check(1, get_step(1).path, "--course", "--pytest-arg=-k", "--pytest-arg=admin")

    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert lines[-3].startswith("1 passed") and "deselected" in lines[-3]
    assert lines[-1] == "Result: 1 passed, 0 failed: the step behaves as its tests say."


def test_quick_leaves_out_the_slow_tests_and_says_so_in_its_result():
    result = check(6, get_step(6).path, "--quick", "--pytest-arg=tests/test_workers.py")

    assert result.returncode == 0, result.stdout + result.stderr
    assert "Left out 5 slow tests (--quick), which start real worker processes" in result.stdout
    assert result.stdout.splitlines()[-1] == (
        "Result: 0 passed, 0 failed: quick check: 5 behaviours not run."
    )


def test_the_report_announces_the_slow_tests_and_gives_their_times():
    slow_test = (
        "tests/test_workers.py::"
        "test_a_failing_task_enqueued_by_keyword_leaves_the_worker_running_to_the_end"
    )
    result = check(6, get_step(6).path, f"--pytest-arg={slow_test}")
    lines = result.stdout.splitlines()

    assert result.returncode == 0, result.stdout + result.stderr
    announced = lines.index("  ... the next 1 behaviour starts real worker processes: seconds each")
    assert re.fullmatch(
        r"  PASS  a failing task enqueued by keyword leaves the worker running to the end"
        r"  \(\d+\.\d s\)",
        lines[announced + 1],
    )
    assert re.fullmatch(r"Checked in \d+\.\d s, \d+\.\d s of it in the slow ones\.", lines[-2])


def test_a_run_that_ends_inside_a_test_fails_that_test(tmp_path):
    """A receiver that ends the process (os._exit) must not pass for an empty run."""
    project = copy_of_step(3, tmp_path)
    signals_file = project / "products" / "signals.py"
    source = signals_file.read_text()
    docstring = '''    """Take a confirmed order's quantity out of its product's stock."""\n'''
    assert docstring in source
    signals_file.write_text(source.replace(docstring, docstring + "    os._exit(0)\n"))
    signals_file.write_text("import os\n" + signals_file.read_text())

    result = check(3, project, "--pytest-arg=tests/test_confirm_order.py")

    assert result.returncode == 1, result.stdout + result.stderr
    assert "  FAIL  confirming takes the ordered quantity from stock\n" in result.stdout
    assert "the test run stopped during this test" in result.stdout


def test_a_selection_that_matches_no_test_is_an_error_not_a_pass():
    result = check(3, get_step(3).path, "--pytest-arg=-k", "--pytest-arg=no_such_test")

    assert result.returncode == 2
    assert result.stderr == "error: no test of step 3 matched -k no_such_test\n"


def test_slow_tests_that_a_selection_leaves_out_are_not_called_quick():
    result = check(6, get_step(6).path, "--pytest-arg=-k", "--pytest-arg=test_setup")

    assert result.returncode == 0, result.stdout + result.stderr
    assert "--quick" not in result.stdout and "quick check" not in result.stdout


def test_a_test_that_runs_long_is_named_while_it_runs(capsys):
    """A hanging receiver must not leave the learner before a silent screen."""
    live = LiveReport(get_step(3), get_step(3).path)
    live.hear({"kind": "collected", "count": 1, "slow": []})
    live.hear({"kind": "started", "nodeid": "tests/test_x.py::test_a_receiver_that_hangs"})
    live.running_since -= 16

    live.tick()
    live.tick()  # the next notice waits longer

    printed = capsys.readouterr().out
    assert printed.count("still running: a receiver that hangs (16 s)") == 1
