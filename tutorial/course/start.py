"""``python -m tutorial start N PATH``: step N-1's project as a learner's starting point.

Only what a learner would have is copied: the project and its apps, migrations,
templates and fixtures; never the course's tests, pytest.ini, README, databases or
caches. The standard library is enough: this runs before .venv exists.
"""

import os
import shutil
import sys

from tutorial.course.changed_files import changed_files
from tutorial.course.learner_folders import (
    DestinationRefused,
    is_empty_or_new,
    outside_the_repository,
)
from tutorial.course.steps import REPO_ROOT, get_step, step_numbers

# What a step folder holds for the course only.
COURSE_ONLY = ("tests", "pytest.ini", "README.md")
# The course's environment (make setup creates it): every package of every step.
COURSE_VENV = REPO_ROOT / ".venv"


def register(subparsers):
    parser = subparsers.add_parser(
        "start", help="copy step N-1's project into PATH, to build step N there yourself"
    )
    parser.add_argument("step", help=f"the step you are about to build, {step_numbers()}")
    parser.add_argument("project", help="a new or empty folder for your project")
    parser.set_defaults(run=start, needs_venv=False)


def start(args):
    step = get_step(args.step)
    previous = step.previous()
    if previous is None:
        print_how_to_begin(step, args.project)
        return 0
    try:
        destination = usable_destination(args.project)
    except DestinationRefused as refused:
        print(f"error: {refused}", file=sys.stderr)
        return 2
    copy_project(previous.path, destination)
    print(f"Copied the project of {previous} into {args.project}: your starting point.")
    print("Left out: the course's tests, pytest.ini, README, database and caches.\n")
    print("Next:")
    print(f'  1. Follow {step}/README.md: "Get here from the previous step", then')
    print(f'     "The code that changed". `make diff-{step.number}` shows every changed line.')
    print(f"  2. Check your project: make check STEP={step.number} PROJECT={args.project}")
    print(f"     (or: python -m tutorial check {step.number} {args.project})")
    print_which_python(args.project)
    return 0


def print_which_python(project):
    """Say which Python runs the learner's manage.py: the course's, which has every package."""
    if os.name == "nt":
        python, activate = (
            COURSE_VENV / "Scripts" / "python.exe",
            COURSE_VENV / "Scripts" / "activate",
        )
    else:
        python, activate = (
            COURSE_VENV / "bin" / "python",
            f"source {COURSE_VENV / 'bin' / 'activate'}",
        )
    print("\nWhich Python: the course's environment, which has every package the steps use")
    print("(any make target creates it). The README's `pip install` lines are done already there.")
    print(f"  cd {project} && {python} manage.py migrate")
    print(f"  or activate it once per terminal: {activate}")


def print_how_to_begin(step, project):
    print(f"Step {step.number} is the first: there is no earlier project to copy.")
    print(f'Begin as {step}/README.md says, under "Get here from the previous step":')
    print(f"  mkdir {project} && cd {project}")
    print("  django-admin startproject my_shop .")
    print(f"Then check your project: make check STEP={step.number} PROJECT={project}")
    print_which_python(project)


def usable_destination(project):
    destination = outside_the_repository(project)
    if not is_empty_or_new(destination):
        raise DestinationRefused(
            f"{project} is not empty, and nothing in it was changed; give a new or empty folder"
        )
    return destination


def learner_files(step_folder):
    """Every file of the step that a learner would have, relative to the step's folder."""
    files = changed_files(None, step_folder)
    return [path for path in files if not path.startswith(COURSE_ONLY)]


def copy_project(step_folder, destination):
    destination.mkdir(parents=True, exist_ok=True)
    for relative_path in learner_files(step_folder):
        target = destination / relative_path
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(step_folder / relative_path, target)
