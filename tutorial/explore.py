"""Commands that look inside a step: receivers, tour; and the notebooks: notebooks, lab."""

import subprocess
import sys

from tutorial.project import run_in_step
from tutorial.steps import NOTEBOOKS_DIR, get_step


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
    from tutorial.notebooks import NoNotebook, execute, notebook_paths

    try:
        paths = notebook_paths(args.steps)
    except NoNotebook as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    for path in paths:
        execute(path, save=True)
        print(f"executed and saved {path.relative_to(NOTEBOOKS_DIR.parent)}")


def lab(args):
    return subprocess.call([sys.executable, "-m", "jupyter", "lab", str(NOTEBOOKS_DIR)])
