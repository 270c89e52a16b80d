"""Find the tutorial's steps by number: ``1`` is ``steps/01_setup``."""

import os
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
# Tests point this at a scratch copy so that they never touch a learner's database.
STEPS_DIR = Path(os.environ.get("TUTORIAL_STEPS_DIR", REPO_ROOT / "steps"))
NOTEBOOKS_DIR = REPO_ROOT / "notebooks"
# What the course's commands keep between runs (bytecode, migrated databases); `make
# clean` deletes it, and nothing in it is needed.
CACHE_DIR = REPO_ROOT / ".cache"


class UnknownStep(LookupError):
    """Raised for a step number that has no folder; its message lists the valid ones."""


@dataclass(frozen=True)
class Step:
    number: int
    path: Path

    @property
    def name(self):
        return self.path.name

    @property
    def database(self):
        """The learner's own database: only ``serve`` and ``reset`` touch it."""
        return self.path / "db.sqlite3"

    @property
    def has_tasks(self):
        """From step 06 on, comments' emails are tasks, run by a worker beside the server."""
        return (self.path / "blog" / "tasks.py").exists()

    @property
    def fixture(self):
        return self.path / "fixtures" / "demo.json"

    def previous(self):
        return next((step for step in all_steps() if step.number == self.number - 1), None)

    def __str__(self):
        return f"steps/{self.name}"


def all_steps():
    steps = []
    for path in sorted(STEPS_DIR.iterdir()):
        prefix = path.name.split("_", 1)[0]
        if path.is_dir() and prefix.isdigit() and (path / "manage.py").exists():
            steps.append(Step(int(prefix), path))
    return steps


def step_numbers():
    """The range of the steps there are, such as "1 to 8", for the commands' help."""
    numbers = [step.number for step in all_steps()]
    return f"{numbers[0]} to {numbers[-1]}" if numbers else f"none found in {STEPS_DIR}"


def get_step(number):
    """Return the step with this number, or raise UnknownStep naming the valid ones."""
    steps = all_steps()
    for step in steps:
        if str(step.number) == str(number).lstrip("0") or str(number) == step.name:
            return step
    valid = ", ".join(str(step.number) for step in steps)
    raise UnknownStep(f"there is no step {number!r}; valid steps are {valid}")
