"""``python -m tutorial``: the course's commands, the same ones the Makefile calls."""

import argparse
import importlib
import os
import sys

from tutorial.course.steps import UnknownStep
from tutorial.running.environment import rerun_in_venv, running_in_venv
from tutorial.running.processes import stop_on_termination

# Each module adds its subcommands in register(subparsers).
COMMAND_MODULES = [
    "tutorial.running.everyday_commands",
    "tutorial.course.diff",
    "tutorial.check.command",
    "tutorial.course.start",
    "tutorial.course.branches",
    "tutorial.running.explore_commands",
    "tutorial.running.postgres",
    "tutorial.running.redis_server",
    "tutorial.running.matrix",
    "tutorial.running.browser",
    "tutorial.running.protections",
    "tutorial.bench.command",
]


def build_parser():
    parser = argparse.ArgumentParser(
        prog="python -m tutorial",
        description="Run, test and explore the steps of the Django signals tutorial.",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for module_name in COMMAND_MODULES:
        importlib.import_module(module_name).register(subparsers)
    return parser


def command_names():
    parser = build_parser()
    return set(parser._subparsers._group_actions[0].choices)


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    args = build_parser().parse_args(argv)
    stop_on_termination()
    if getattr(args, "needs_venv", True) and not running_in_venv():
        return rerun_in_venv(argv)
    try:
        return args.run(args) or 0
    except UnknownStep as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # The reader went away (`... | head`): stop quietly, as Unix tools do.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
