"""`python -m tutorial check N PATH`, on the steps themselves and on broken copies."""

import shutil
from concurrent.futures import ThreadPoolExecutor

import pytest
from conftest import run_tutorial

from tutorial.steps import REPO_ROOT, all_steps, get_step


def check(step_number, project, *options):
    return run_tutorial("check", step_number, project, *options)


def copy_of_step(number, destination):
    step = get_step(number)
    project = destination / f"learner_{step.name}"
    shutil.copytree(step.path, project, ignore=shutil.ignore_patterns("db.sqlite3", "__pycache__"))
    return project


LEARNER_PROJECT = REPO_ROOT / "tests" / "learner_projects" / "step3"


@pytest.fixture(scope="module")
def own_checks():
    """Check every step against itself, and the learner's project against step 3, at once."""
    steps = all_steps()
    before = {step.number: folder_state(step.path) for step in steps}
    with ThreadPoolExecutor(max_workers=len(steps) + 1) as pool:
        learner = pool.submit(check, 3, LEARNER_PROJECT)
        checked = pool.map(lambda step: check(step.number, step.path), steps)
        results = dict(zip(before, checked, strict=True))
        results["learner"] = learner.result()
    return before, results


def test_a_learners_own_step_3_passes_the_check(own_checks):
    """Written from the article and the README only: the tests must judge behaviour."""
    _before, results = own_checks
    result = results["learner"]

    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.splitlines()[-1].endswith("0 failed: your project behaves like the step.")


@pytest.mark.parametrize("step", all_steps(), ids=lambda step: step.name)
def test_each_step_passes_its_own_check_and_is_left_untouched(step, own_checks):
    before, results = own_checks
    result = results[step.number]

    assert result.returncode == 0, result.stdout + result.stderr
    assert "FAIL" not in result.stdout
    assert result.stdout.splitlines()[-1].endswith("0 failed: your project behaves like the step.")
    assert folder_state(step.path) == before[step.number]


def folder_state(folder):
    return sorted((str(path), path.stat().st_mtime_ns) for path in folder.rglob("*"))


def test_a_receiver_that_is_never_imported_fails_the_stock_behaviour(tmp_path):
    project = copy_of_step(3, tmp_path)
    apps_file = project / "products" / "apps.py"
    apps_file.write_text(apps_file.read_text().replace("from products import signals", "pass  #"))

    result = check(3, project)

    assert result.returncode == 1
    assert "FAIL  confirming takes the ordered quantity from stock" in result.stdout
    assert "expected: 3" in result.stdout
    assert 'reread:   steps/03_custom_signal/README.md, "The code that changed"' in result.stdout
    assert "Result: " in result.stdout.splitlines()[-1]


def test_a_syntax_error_is_reported_with_file_and_line(tmp_path):
    project = copy_of_step(3, tmp_path)
    signals_file = project / "products" / "signals.py"
    lines = signals_file.read_text().splitlines()
    lines[4] = "def broken(:"
    signals_file.write_text("\n".join(lines) + "\n")

    result = check(3, project)

    assert result.returncode == 2
    assert result.stderr.startswith("error: your project fails to import: SyntaxError")
    assert "products/signals.py, line 5" in result.stderr
    assert "Traceback" not in result.stderr


def test_an_import_error_names_the_learners_file(tmp_path):
    project = copy_of_step(3, tmp_path)
    views = project / "orders" / "views.py"
    views.write_text("from orders.signals import no_such_signal\n" + views.read_text())

    result = check(3, project)

    assert result.returncode == 2
    assert "ImportError" in result.stderr
    assert "orders/views.py, line 1" in result.stderr


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

    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1
    assert message in result.stderr


def test_other_settings_modules_need_the_settings_option(tmp_path):
    project = copy_of_step(1, tmp_path)
    manage = project / "manage.py"
    manage.write_text(manage.read_text().replace("my_shop.settings", "shop.settings"))

    result = check(1, project)

    assert result.returncode == 2
    assert "'shop.settings'" in result.stderr
    assert "--settings shop.settings" in result.stderr


def test_an_unknown_step_is_a_one_line_error(tmp_path):
    result = check(9, get_step(1).path)

    assert result.returncode == 2
    assert result.stderr.startswith("error: there is no step '9'")
