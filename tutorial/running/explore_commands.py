"""Commands that look inside a step: receivers, tour; and the notebooks: notebooks, lab."""

import os
import subprocess
import sys

from tutorial.course.steps import NOTEBOOKS_DIR, get_step
from tutorial.in_step.project import run_in_step
from tutorial.running.processes import wait_through_ctrl_c


def register(subparsers):
    parser = subparsers.add_parser("receivers", help="list step N's signals and their receivers")
    parser.add_argument("step")
    parser.add_argument("--all", action="store_true", help="also name signals with no receiver")
    parser.set_defaults(run=receivers)

    parser = subparsers.add_parser("tour", help="run step N's scenario and print the signals sent")
    parser.add_argument("step")
    parser.set_defaults(run=tour)

    parser = subparsers.add_parser("notebooks", help="re-execute every notebook and save it")
    parser.add_argument("steps", nargs="*", metavar="N", help="only these steps' notebooks")
    parser.set_defaults(run=execute_notebooks)

    parser = subparsers.add_parser("lab", help="open JupyterLab on notebooks/")
    parser.set_defaults(run=lab)


def receivers(args):
    get_step(args.step)
    return run_in_step(args.step, "receivers", *(["--all"] if args.all else []))


def tour(args):
    get_step(args.step)
    return run_in_step(args.step, "tour")


def execute_notebooks(args):
    from tutorial.running.notebook_execution import (
        NoNotebook,
        NotebookFailed,
        execute,
        notebook_paths,
    )

    try:
        paths = notebook_paths(args.steps)
    except NoNotebook as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    failed = 0
    for path in paths:
        try:
            execute(path, save=True)
        except NotebookFailed as error:
            print(f"error: {error} (not saved)", file=sys.stderr)
            failed += 1
        else:
            print(f"executed and saved {path.relative_to(NOTEBOOKS_DIR.parent)}")
    return 1 if failed else 0


def lab(args):
    # One Ctrl-C stops it, without Jupyter's "Shut down this Jupyter server?" question.
    command = [
        sys.executable,
        "-m",
        "jupyter",
        "lab",
        str(NOTEBOOKS_DIR),
        "--ServerApp.answer_yes=True",
    ]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        # Containers often run as root, where JupyterLab refuses to start without it.
        command.append("--allow-root")
    returncode, interrupted = wait_through_ctrl_c(subprocess.Popen(command))
    return 0 if interrupted else returncode
