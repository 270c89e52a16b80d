"""`python -m tutorial branches PATH`: one git branch per step, generated from the folders."""

import os
import subprocess
import sys
from collections import Counter

import pytest
from conftest import run_tutorial

from tutorial.check.command import folder_state
from tutorial.course.steps import REPO_ROOT, all_steps

STEPS = all_steps()
BRANCHES = [f"step-{step.number:02d}" for step in STEPS]


def git(repository, *arguments):
    return subprocess.run(
        ["git", *arguments], cwd=repository, capture_output=True, text=True, check=True
    ).stdout


def branch_ids(repository):
    return dict(zip(BRANCHES, git(repository, "rev-parse", *BRANCHES).split(), strict=True))


@pytest.fixture(scope="module")
def repository(tmp_path_factory):
    destination = tmp_path_factory.mktemp("branches") / "my_shop-steps"
    first = run_tutorial("branches", destination)
    assert first.returncode == 0, first.stderr
    ids = branch_ids(destination)
    second = run_tutorial("branches", destination)
    assert second.returncode == 0, second.stderr
    return destination, ids


def test_each_branch_is_a_child_of_the_previous_step(repository):
    destination, _ids = repository

    log = git(destination, "log", "--format=%s", BRANCHES[-1]).splitlines()

    assert log == [f"Step {step.number:02d}{title_rest(step)}" for step in reversed(STEPS)]


def title_rest(step):
    title = (step.path / "README.md").read_text().splitlines()[0]
    return title.removeprefix(f"# Step {step.number:02d}")


def test_a_second_run_gives_the_same_commit_ids(repository):
    destination, ids_after_the_first_run = repository

    assert branch_ids(destination) == ids_after_the_first_run


@pytest.mark.parametrize("step", STEPS[1:], ids=[step.name for step in STEPS[1:]])
def test_git_diff_between_branches_equals_the_course_diff(repository, step):
    destination, _ids = repository
    older, newer = f"step-{step.number - 1:02d}", f"step-{step.number:02d}"

    from_git = changed_lines(git(destination, "diff", older, newer))
    from_course = changed_lines(run_tutorial("diff", step.number, "--all").stdout)

    assert from_git == from_course


def changed_lines(diff_text):
    """{file: (lines added, lines removed)}, net of lines that only moved.

    Two diff programs may pair lines differently (git and Python's difflib do), but
    what a correct diff adds and removes, net, is the same: new minus old content.
    """
    plus, minus, current, files = {}, {}, None, set()
    lines = diff_text.splitlines()
    for index, line in enumerate(lines):
        if line.startswith("--- ") and index + 1 < len(lines) and lines[index + 1][:4] == "+++ ":
            current = file_name(lines[index + 1][4:]) or file_name(line[4:])
            files.add(current)
        elif line.startswith("+++ ") and index and lines[index - 1].startswith("--- "):
            continue
        elif line.startswith("diff --git "):  # git names an empty file only here
            files.add(line.split(" b/", 1)[1])
        elif line.startswith("+"):
            plus.setdefault(current, Counter())[line[1:]] += 1
        elif line.startswith("-"):
            minus.setdefault(current, Counter())[line[1:]] += 1
    empty = Counter()
    return {
        name: (
            plus.get(name, empty) - minus.get(name, empty),
            minus.get(name, empty) - plus.get(name, empty),
        )
        for name in files
    }


def file_name(header):
    """The file a diff header names, without git's a/ b/ or the course's steps/NN_name/."""
    if header == "/dev/null":
        return None
    if header.startswith(("a/", "b/")):
        return header[2:]
    return header.split("/", 2)[2]


def test_a_checked_out_step_is_a_working_project(repository, tmp_path):
    destination, _ids = repository
    git(destination, "checkout", "--quiet", "step-03")

    checked = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=destination,
        env={**os.environ, "SQLITE_PATH": str(tmp_path / "scratch.sqlite3")},
        capture_output=True,
        text=True,
    )

    assert checked.returncode == 0, checked.stderr
    assert (destination / "orders" / "signals.py").is_file()


@pytest.mark.parametrize(
    ("make_destination", "message"),
    [
        (lambda tmp: tmp / "mine", "was not made by `make branches`"),
        (lambda tmp: REPO_ROOT / "steps" / "branches", "is inside this repository"),
        (lambda tmp: tmp / "mine" / "notes.txt", "is a file"),
    ],
    ids=["someone-elses-folder", "inside-the-repository", "a-file"],
)
def test_destinations_it_did_not_make_are_refused(tmp_path, make_destination, message):
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("the learner's own")
    before = folder_state(tmp_path)

    result = run_tutorial("branches", make_destination(tmp_path))

    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and message in result.stderr
    assert folder_state(tmp_path) == before
    assert not (REPO_ROOT / "steps" / "branches").exists()


def test_a_generated_repository_with_changes_of_ones_own_is_refused(tmp_path):
    destination = tmp_path / "steps-repo"
    assert run_tutorial("branches", destination).returncode == 0
    (destination / "manage.py").write_text("# my own change\n")

    result = run_tutorial("branches", destination)

    assert result.returncode == 2
    assert "has changes of your own" in result.stderr
    assert (destination / "manage.py").read_text() == "# my own change\n"
