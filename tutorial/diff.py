"""``python -m tutorial diff N``: what changed from step N-1 to step N."""

import difflib
import sys

from tutorial.stepdiff import changed_files
from tutorial.steps import get_step

COLOURS = {"+": "\033[32m", "-": "\033[31m", "@": "\033[36m"}
RESET = "\033[0m"


def register(subparsers):
    parser = subparsers.add_parser("diff", help="show what changed from step N-1 to step N")
    parser.add_argument("step", help="step number, 2 to 5")
    parser.add_argument("--stat", action="store_true", help="list the changed files only")
    parser.set_defaults(run=show_diff, needs_venv=False)


def show_diff(args):
    step = get_step(args.step)
    previous = step.previous()
    if previous is None:
        print(
            f"error: step {step.number} is the first step; there is nothing to compare it with.",
            file=sys.stderr,
        )
        return 2
    changes = changed_files(previous.path, step.path)
    if args.stat:
        for path, status in changes.items():
            print(f"{status:<8} {path}")
        print(f"{len(changes)} files changed from {previous} to {step}")
        return 0
    colour = sys.stdout.isatty()
    for path in changes:
        for line in unified_diff(previous, step, path):
            print(colourize(line) if colour else line)
    return 0


def unified_diff(previous, step, path):
    old, new = previous.path / path, step.path / path
    old_name = f"{previous}/{path}" if old.exists() else "/dev/null"
    new_name = f"{step}/{path}" if new.exists() else "/dev/null"
    lines = difflib.unified_diff(
        read_lines(old), read_lines(new), fromfile=old_name, tofile=new_name, lineterm=""
    )
    # An empty file added or removed has no hunk, but it still changed.
    return list(lines) or [f"--- {old_name}", f"+++ {new_name}"]


def read_lines(path):
    if not path.exists():
        return []
    try:
        return path.read_text().splitlines()
    except UnicodeDecodeError:
        return ["(binary file)"]


def colourize(line):
    if line.startswith(("+++", "---")):
        return f"\033[1m{line}{RESET}"
    colour = COLOURS.get(line[:1])
    return f"{colour}{line}{RESET}" if colour else line
