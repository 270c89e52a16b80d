"""``python -m tutorial branches PATH``: the steps as a git repository, one branch per step.

Branch ``step-03`` holds steps/03_custom_signal at the root of the repository, in a
commit whose parent is step-02's, so ``git log step-08`` reads as the course. The
branches are generated from the step folders, with a fixed author and fixed dates:
the same steps give the same commit ids, so the branches can never drift from the
folders. The standard library and the git program are all this needs.
"""

import datetime
import os
import shutil
import subprocess
import sys

from tutorial.course.changed_files import step_files
from tutorial.course.learner_folders import (
    DestinationRefused,
    is_empty_or_new,
    outside_the_repository,
)
from tutorial.course.steps import all_steps

MARKER_KEY = "tutorial.generated"
MARKER_VALUE = "make branches"
AUTHOR_NAME = "Django signals tutorial"
AUTHOR_EMAIL = "tutorial@example.com"


def register(subparsers):
    parser = subparsers.add_parser(
        "branches", help="create or refresh a git repository with one branch per step"
    )
    parser.add_argument("destination", help="a new folder, or one made by this command")
    parser.set_defaults(run=make_branches, needs_venv=False)


def make_branches(args):
    if shutil.which("git") is None:
        print("git was not found: install it, then run this again.", file=sys.stderr)
        return 3
    try:
        repository = prepared_repository(args.destination)
    except DestinationRefused as refused:
        print(f"error: {refused}", file=sys.stderr)
        return 2
    steps = all_steps()
    for step, commit in zip(steps, import_steps(repository, steps), strict=True):
        print(f"{branch_name(step)}  {commit[:12]}  {step_title(step)}")
    if has_work_tree_checkout(repository):
        git(repository, "reset", "--quiet", "--hard")
    last = branch_name(steps[-1])
    print(f"\n{len(steps)} branches in {args.destination}: try `git log --oneline {last}`.")
    return 0


def prepared_repository(destination):
    """The repository to write to: a new one, or one this command made and left clean."""
    path = outside_the_repository(destination)
    if is_empty_or_new(path):
        path.mkdir(parents=True, exist_ok=True)
        git(path, "init", "--quiet", "--initial-branch=step-01")
        git(path, "config", MARKER_KEY, MARKER_VALUE)
        return path
    if not made_by_us(path):
        raise DestinationRefused(
            f"{destination} is not empty and was not made by `make branches`; "
            "give a new folder, or one it made"
        )
    if git(path, "status", "--porcelain", "--untracked-files=no"):
        raise DestinationRefused(
            f"{destination} has changes of your own; commit or remove them first"
        )
    return path


def made_by_us(path):
    if not (path / ".git").is_dir():
        return False
    found = subprocess.run(
        ["git", "config", "--get", MARKER_KEY], cwd=path, capture_output=True, text=True
    )
    return found.stdout.strip() == MARKER_VALUE


def has_work_tree_checkout(repository):
    head = subprocess.run(
        ["git", "rev-parse", "--verify", "--quiet", "HEAD"], cwd=repository, capture_output=True
    )
    return head.returncode == 0


def import_steps(repository, steps):
    """Write each step's commit and branch with one `git fast-import`; return the commit ids.

    Each commit holds the step's files (no databases, no caches) and has the previous
    step's commit as its parent; a branch that exists is moved, whatever it held.
    """
    stream = bytearray()
    for mark, step in enumerate(steps, start=1):
        stream += fast_import_commit(step, mark, parent=mark - 1 if mark > 1 else None)
    marks = repository / ".git" / "tutorial-marks"
    git(repository, "fast-import", "--quiet", "--force", f"--export-marks={marks}", input=stream)
    commits = dict(line.split() for line in marks.read_text().splitlines())
    marks.unlink()
    return [commits[f":{mark}"] for mark in range(1, len(steps) + 1)]


def fast_import_commit(step, mark, parent):
    """The fast-import commands for one step's commit; git's stream format is bytes."""
    branch = f"refs/heads/{branch_name(step)}"
    when = commit_time(step.number)
    message = f"{step_title(step)}\n".encode()
    lines = [
        f"reset {branch}",  # a new history for the branch, whatever it held
        f"commit {branch}",
        f"mark :{mark}",
        f"author {AUTHOR_NAME} <{AUTHOR_EMAIL}> {when} +0000",
        f"committer {AUTHOR_NAME} <{AUTHOR_EMAIL}> {when} +0000",
        f"data {len(message)}",
    ]
    commit = "\n".join(lines).encode() + b"\n" + message
    if parent:
        commit += f"from :{parent}\n".encode()
    commit += b"deleteall\n"
    for name in sorted(step_files(step.path)):
        content = (step.path / name).read_bytes()
        mode = file_mode(step.path / name)
        commit += f"M {mode} inline {name}\ndata {len(content)}\n".encode() + content + b"\n"
    return bytes(commit) + b"\n"


def file_mode(path):
    return "100755" if os.access(path, os.X_OK) else "100644"


def commit_time(number):
    """A fixed time, a day apart per step, so that the same steps give the same commits."""
    when = datetime.datetime(2026, 1, number, 12, tzinfo=datetime.timezone.utc)
    return int(when.timestamp())


def branch_name(step):
    return f"step-{step.number:02d}"


def step_title(step):
    """The step README's title, without its leading '# '."""
    first_line = (step.path / "README.md").read_text().splitlines()[0]
    return first_line.removeprefix("# ").strip()


def git(repository, *arguments, input=None):
    completed = subprocess.run(
        ["git", *arguments], cwd=repository, input=input, capture_output=True
    )
    if completed.returncode:
        raise RuntimeError(f"git {arguments[0]} failed: {completed.stderr.decode().strip()}")
    return completed.stdout.decode().strip()
