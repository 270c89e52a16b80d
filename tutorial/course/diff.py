"""``python -m tutorial diff N``: what changed from step N-1 to step N."""

import difflib
import sys

from tutorial.course.changed_files import changed_files
from tutorial.course.steps import get_step, step_numbers

COLOURS = {"+": "\033[32m", "-": "\033[31m", "@": "\033[36m"}
RESET = "\033[0m"


# The order an instructor shows a step in: the project's code first, then its tests;
# the README's prose only when asked for.
GROUPS = ["code", "tests", "README"]


def register(subparsers):
    parser = subparsers.add_parser("diff", help="show what changed from step N-1 to step N")
    parser.add_argument("step", help=f"step number, {step_numbers()} (not the first)")
    parser.add_argument("--stat", action="store_true", help="list the changed files only")
    parser.add_argument("--all", action="store_true", help="the README's changes too")
    parser.set_defaults(run=show_diff, needs_venv=False)


def group_of(path):
    if path == "README.md":
        return "README"
    return "tests" if path.startswith("tests/") else "code"


def grouped(changes, with_readme):
    """{group: {path: status}}, groups in GROUPS order, empty groups left out."""
    groups = {name: {} for name in GROUPS if with_readme or name != "README"}
    for path, status in changes.items():
        if group_of(path) in groups:
            groups[group_of(path)][path] = status
    return {name: files for name, files in groups.items() if files}


def show_diff(args):
    step = get_step(args.step)
    previous = step.previous()
    if previous is None:
        print(
            f"error: step {step.number} is the first step; there is nothing to compare it with.",
            file=sys.stderr,
        )
        return 2
    groups = grouped(changed_files(previous.path, step.path), with_readme=args.all)
    if args.stat:
        for name, files in groups.items():
            print(f"{name}:")
            for path, status in files.items():
                print(f"  {status:<8} {path}")
        shown = sum(map(len, groups.values()))
        readme = "" if args.all else " (README.md left out: --all shows it)"
        print(f"{shown} files changed from {previous} to {step}{readme}")
        return 0
    colour = sys.stdout.isatty()
    for files in groups.values():
        for path in files:
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
