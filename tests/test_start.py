"""`python -m tutorial start N PATH`: step N-1's project as the learner's own starting point."""

import os
import shutil
import sys
from concurrent.futures import ThreadPoolExecutor

import pytest
from conftest import run_tutorial

from tutorial.check.command import folder_state
from tutorial.course.changed_files import changed_files
from tutorial.course.diff import grouped
from tutorial.course.steps import REPO_ROOT, get_step
from tutorial.preload import client


def start(step_number, project):
    return run_tutorial("start", step_number, project)


def apply_the_steps_code(step_number, project):
    """Make step N's code changes in a started copy, as its README walks a learner through."""
    step = get_step(step_number)
    changes = grouped(changed_files(step.previous().path, step.path), with_readme=False)
    for path, status in changes["code"].items():
        if status == "removed":
            (project / path).unlink()
        else:
            (project / path).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(step.path / path, project / path)


@pytest.fixture(scope="module")
def started(tmp_path_factory):
    """Step 3 started twice: as it comes, checked against step 2, and with step 3's code."""
    folder = tmp_path_factory.mktemp("start")
    as_started, built = folder / "try3", folder / "built3"
    outputs = [start(3, as_started), start(3, built)]
    apply_the_steps_code(3, built)
    with ThreadPoolExecutor(max_workers=2) as pool:
        checks = list(
            pool.map(lambda job: run_tutorial("check", *job), [(2, as_started), (3, built)])
        )
    return as_started, outputs[0], checks


def test_start_copies_what_a_learner_has_and_nothing_of_the_course(started):
    project, output, _checks = started

    assert output.returncode == 0, output.stderr
    for path in [
        "manage.py",
        "my_shop/settings.py",
        "orders/models.py",
        "fixtures/demo.json",
        "products/migrations/0001_initial.py",
    ]:
        assert (project / path).is_file(), path
    for left_out in ["tests", "pytest.ini", "README.md", "db.sqlite3"]:
        assert not (project / left_out).exists(), left_out
    assert not list(project.rglob("__pycache__"))


def test_start_says_which_readme_to_follow_and_how_to_check(started):
    project, output, _checks = started

    assert "steps/03_custom_signal/README.md" in output.stdout
    assert f"make check STEP=3 PROJECT={project}" in output.stdout
    assert f"{REPO_ROOT / '.venv' / 'bin' / 'python'} manage.py migrate" in output.stdout


def test_the_started_project_migrates_and_passes_the_previous_steps_check(started, tmp_path):
    project, _output, (previous_check, _built_check) = started

    migrated = client.run(
        [sys.executable, "manage.py", "migrate", "--noinput"],
        cwd=project,
        env={**os.environ, "SQLITE_PATH": str(tmp_path / "scratch.sqlite3")},
        capture_output=True,
        text=True,
    )

    assert migrated.returncode == 0, migrated.stderr
    assert previous_check.returncode == 0, previous_check.stdout
    assert previous_check.stdout.splitlines()[-1].endswith("your project behaves like the step.")


def test_the_started_project_with_the_steps_changes_passes_its_check(started):
    _project, _output, (_previous_check, built_check) = started

    assert built_check.returncode == 0, built_check.stdout
    assert built_check.stdout.splitlines()[-1].endswith("your project behaves like the step.")


def test_step_1_has_nothing_to_copy_and_says_how_to_begin(tmp_path):
    result = start(1, tmp_path / "try1")

    assert result.returncode == 0
    assert "django-admin startproject my_shop ." in result.stdout
    assert not (tmp_path / "try1").exists()


@pytest.mark.parametrize(
    ("make_destination", "message"),
    [
        (lambda tmp: tmp / "mine", "is not empty, and nothing in it was changed"),
        (lambda tmp: REPO_ROOT / "steps" / "my_try", "is inside this repository"),
    ],
    ids=["not-empty", "inside-the-repository"],
)
def test_bad_destinations_are_refused_in_one_line(tmp_path, make_destination, message):
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("the learner's own")
    destination = make_destination(tmp_path)
    before = folder_state(tmp_path)

    result = start(3, destination)

    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1 and message in result.stderr
    assert folder_state(tmp_path) == before
    assert not (REPO_ROOT / "steps" / "my_try").exists()


def test_an_unknown_step_is_refused_in_one_line(tmp_path):
    result = start(9, tmp_path / "try9")

    assert result.returncode == 2
    assert result.stderr.startswith("error: there is no step '9'")
    assert not (tmp_path / "try9").exists()
