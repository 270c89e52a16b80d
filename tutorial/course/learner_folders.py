"""Where the course may write a learner's files: never inside this repository."""

from pathlib import Path

from tutorial.course.steps import REPO_ROOT


class DestinationRefused(Exception):
    """A path the course must not write to: one line for the learner, exit status 2."""


def outside_the_repository(destination):
    """The destination as an absolute folder path, refused when it is here or is a file."""
    path = Path(destination).expanduser().resolve()
    if path == REPO_ROOT or REPO_ROOT in path.parents:
        raise DestinationRefused(
            f"{destination} is inside this repository; choose a folder outside it, "
            "such as ../my_shop"
        )
    if path.exists() and not path.is_dir():
        raise DestinationRefused(f"{destination} is a file; give a new or empty folder")
    return path


def is_empty_or_new(path):
    return not path.exists() or not any(path.iterdir())
