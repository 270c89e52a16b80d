"""``python -m tutorial branches PATH``: the steps as a git repository, one branch per step.

Branch ``step-03`` holds steps/03_custom_signal at the root of the repository, in a
commit whose parent is step-02's, so ``git log step-08`` reads as the course. The
branches are generated from the step folders, with a fixed author and fixed dates:
the same steps give the same commit ids, so the branches can never drift from the
folders. The standard library and the git program are all this needs.
"""

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
AUTHOR = {
    "GIT_AUTHOR_NAME": "Django signals tutorial",
    "GIT_AUTHOR_EMAIL": "tutorial@example.com",
    "GIT_COMMITTER_NAME": "Django signals tutorial",
    "GIT_COMMITTER_EMAIL": "tutorial@example.com",
}


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
    parent = None
    for step in all_steps():
        parent = commit_step(repository, step, parent)
        branch = f"step-{step.number:02d}"
        git(repository, "update-ref", f"refs/heads/{branch}", parent)
        print(f"{branch}  {parent[:12]}  {step_title(step)}")
    if has_work_tree_checkout(repository):
        git(repository, "reset", "--quiet", "--hard")
    steps = all_steps()
    last = f"step-{steps[-1].number:02d}"
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


def commit_step(repository, step, parent):
    tree = write_tree(repository, step.path)
    environment = {**AUTHOR, **commit_dates(step.number)}
    parents = ["-p", parent] if parent else []
    message = ["-m", step_title(step)]
    return git(
        repository, "commit-tree", "--no-gpg-sign", tree, *parents, *message, env=environment
    )


def write_tree(repository, folder):
    """Store the folder's files (no databases, no caches) as a git tree; return its id."""
    files = sorted(step_files(folder))
    index = repository / ".git" / "tutorial-index"
    environment = {"GIT_INDEX_FILE": str(index)}
    index.unlink(missing_ok=True)
    paths = "\n".join(str(folder / name) for name in files) + "\n"
    blobs = git(repository, "hash-object", "-w", "--stdin-paths", input=paths).split()
    entries = "".join(
        f"{file_mode(folder / name)} {blob}\t{name}\n"
        for name, blob in zip(files, blobs, strict=True)
    )
    git(repository, "update-index", "--add", "--index-info", input=entries, env=environment)
    tree = git(repository, "write-tree", env=environment)
    index.unlink()
    return tree


def file_mode(path):
    return "100755" if os.access(path, os.X_OK) else "100644"


def commit_dates(number):
    """Fixed dates, a day apart, so that the same steps always give the same commits."""
    when = f"2026-01-{number:02d}T12:00:00+00:00"
    return {"GIT_AUTHOR_DATE": when, "GIT_COMMITTER_DATE": when}


def step_title(step):
    """The step README's title, without its leading '# '."""
    first_line = (step.path / "README.md").read_text().splitlines()[0]
    return first_line.removeprefix("# ").strip()


def git(repository, *arguments, input=None, env=None):
    completed = subprocess.run(
        ["git", *arguments],
        cwd=repository,
        input=input,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
    )
    if completed.returncode:
        raise RuntimeError(f"git {arguments[0]} failed: {completed.stderr.strip()}")
    return completed.stdout.strip()
