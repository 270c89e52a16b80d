"""The everyday commands: setup, lock, serve, test, reset, lint and clean."""

import argparse
import os
import shutil
import subprocess
import sys

from tutorial.course.steps import CACHE_DIR, REPO_ROOT, all_steps, get_step, step_numbers
from tutorial.preload import client
from tutorial.running import environment
from tutorial.running.demo_database import prepare_database
from tutorial.running.run_together import run_together
from tutorial.running.suites import (
    checked_step_suite,
    repository_suites,
    run_test_suites,
    step_suite,
)

# What to open and try once a step's server is up.
SERVE_HINTS = {
    1: ["/admin/  the admin is there, with nothing of ours in it yet"],
    2: ["/admin/  log in as admin / admin and add products and orders"],
    3: [
        "/orders/  click Confirm and watch the stock change (and this console's log line)",
        "/admin/   log in as admin / admin",
    ],
    4: [
        "/orders/  confirm from the page; the request signals log each request here",
        "/admin/   tick 'confirmed' on an order: the same receiver takes the stock",
    ],
    5: [
        "/signup/  create an account and see the profile the signal made",
        "/blog/1/  leave a comment: the author's email is printed in this console",
        "/orders/  the shop from the earlier steps",
    ],
    6: [
        "/blog/1/  leave a comment: the page answers at once, then the worker prints the email",
        "/admin/django_tasks_database/dbtaskresult/  each task and its result (admin / admin)",
    ],
    7: [
        "/products/  the catalogue by tag; edit tags and images in /admin/ (admin / admin)",
        "/login/     log in, or fail to: each attempt lands in /admin/accounts/loginevent/",
        "/admin/auth/group/  the 'Shop staff' group that migrate created",
    ],
    8: [
        "/orders/  confirm: Order.confirm() takes the stock, the sales log hears of it after",
        "/admin/orders/order/  'Confirm selected orders', or the button on an order's page",
        "/admin/sales/sale/  the sales log, recorded by a task the worker runs",
    ],
}


# Steps with background work: `serve` starts a task worker beside the web server. No
# --reload: the reloader would kill a task half done when it restarts or stops.
DATABASE_WORKER = ["manage.py", "db_worker", "--no-reload"]
# With REDIS_URL set, those steps' settings queue the tasks in Redis, for RQ's workers.
RQ_WORKER = ["manage.py", "rqworker", "default", "--job-class", "django_tasks_rq.Job"]


def worker_command(step):
    """The task worker that step's settings call for, or None when it has no tasks."""
    if not step.has_tasks:
        return None
    return RQ_WORKER if os.environ.get("REDIS_URL") else DATABASE_WORKER


def register(subparsers):
    add = subparsers.add_parser

    parser = add("setup", help="create .venv and install the pinned requirements")
    parser.set_defaults(run=setup, needs_venv=False)

    parser = add("lock", help="regenerate requirements/*.txt from requirements/*.in")
    parser.set_defaults(run=lock)

    parser = add("serve", help="migrate step N's own database and run its server")
    parser.add_argument("step", help=f"step number, {step_numbers()}")
    parser.add_argument("--port", default=os.environ.get("PORT", "8000"))
    parser.add_argument(
        "--asgi", action="store_true", help="serve my_shop/asgi.py with uvicorn, not runserver"
    )
    parser.add_argument(
        "--trace", action="store_true", help="print the signals each request sends (runserver)"
    )
    parser.add_argument(
        "--toolbar",
        action="store_true",
        help="add django-debug-toolbar, with a 'Signals sent' panel (runserver)",
    )
    parser.set_defaults(run=serve)

    parser = add("test", help="run every step's tests (or step N's), each in its own pytest")
    parser.add_argument("step", nargs="?", help="only this step (default: all, plus tests/)")
    parser.add_argument("pytest_args", nargs=argparse.REMAINDER, help="passed on to pytest")
    parser.set_defaults(run=test)

    parser = add("reset", help="delete step N's db.sqlite3 (the only command that does)")
    parser.add_argument("step")
    parser.set_defaults(run=reset, needs_venv=False)

    parser = add("lint", help="ruff check and ruff format --check")
    parser.set_defaults(run=lint)

    parser = add("clean", help="delete .venv and caches; never a database")
    parser.set_defaults(run=clean, needs_venv=False)


def setup(args):
    environment.ensure_venv()


def lock(args):
    uv = shutil.which("uv") or environment.bootstrap_uv()
    for source in sorted((REPO_ROOT / "requirements").glob("*.in")):
        target = source.with_suffix(".txt")
        python_version = "3.12" if "django61" in source.name else "3.10"
        subprocess.run(
            [
                uv,
                "pip",
                "compile",
                "--quiet",
                "--universal",
                "--python-version",
                python_version,
                str(source.relative_to(REPO_ROOT)),
                "-o",
                str(target.relative_to(REPO_ROOT)),
            ],
            cwd=REPO_ROOT,
            check=True,
        )
        print(f"wrote {target.relative_to(REPO_ROOT)}")


def manage(step, *arguments, database=None, **run_options):
    return client.run(
        [sys.executable, "manage.py", *arguments],
        cwd=step.path,
        env=step_environment(step, database),
        **run_options,
    )


def step_environment(step, database=None):
    """The environment a step's manage.py runs in: its own settings and db.sqlite3
    (or the SQLite file ``database``)."""
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "my_shop.settings",
        "SQLITE_PATH": str(database or step.database),
    }


def serve(args):
    step = get_step(args.step)
    for option in ("trace", "toolbar"):
        if getattr(args, option) and args.asgi:
            print(f"error: --{option} works with runserver; leave out --asgi", file=sys.stderr)
            return 2
    if args.trace and args.toolbar:
        print("error: --trace and --toolbar each record the signals: choose one", file=sys.stderr)
        return 2
    # Links in step 5's emails point at the port actually served.
    os.environ.setdefault("SITE_URL", f"http://127.0.0.1:{args.port}")
    prepare_database(step, manage)
    server_name = "uvicorn, through my_shop/asgi.py" if args.asgi else "runserver"
    if args.trace:
        server_name += ", printing each request's signals"
    if args.toolbar:
        server_name += ", with django-debug-toolbar and its 'Signals sent' panel"
    print(f"\nStep {step.number} ({step}) on http://127.0.0.1:{args.port}/ ({server_name})")
    for hint in SERVE_HINTS.get(step.number, []):
        print(f"  open http://127.0.0.1:{args.port}{hint}")
    if args.asgi:
        print("  uvicorn serves no static files, so the admin shows without its styles")
    if os.environ.get("DATABASE_URL"):
        print("Your data stays in the database at DATABASE_URL.\n")
    else:
        print(f"Your data stays in {step}/db.sqlite3 until `make reset-{step.number}`.\n")
    server = [sys.executable, *server_command(args.asgi, args.port, args.trace, args.toolbar)]
    # runserver's reloader has a child that serves: run_together stops both, whatever
    # stops this process (Ctrl-C, SIGTERM or SIGHUP).
    commands = {"web": server}
    worker = worker_command(step)
    if worker:
        commands["worker"] = [sys.executable, *worker]
    return run_together(commands, cwd=step.path, env=step_environment(step))


def server_command(asgi, port, trace=False, toolbar=False):
    """runserver (WSGI), traced, with the toolbar or plain, or uvicorn serving ASGI."""
    if asgi:
        application = "my_shop.asgi:application"
        return ["-m", "uvicorn", application, "--host", "127.0.0.1", "--port", str(port)]
    if trace:
        # The tooling wraps the step's application; the step itself stays as it is.
        return ["-m", "tutorial.in_step.traced_server", "runserver", f"127.0.0.1:{port}"]
    runserver = ["manage.py", "runserver", f"127.0.0.1:{port}"]
    if toolbar:
        # The step's settings, with the toolbar added around them by the tooling.
        return [*runserver, "--settings", "tutorial.in_step.toolbar_settings"]
    return runserver


def test(args):
    pytest_args = [arg for arg in args.pytest_args if arg != "--"]
    if args.step is not None:
        suites = [step_suite(get_step(args.step), pytest_args)]
    else:
        suites = [checked_step_suite(step, pytest_args) for step in all_steps()]
        suites += repository_suites(pytest_args)
    return run_test_suites(suites)


def reset(args):
    step = get_step(args.step)
    removed = []
    for path in (step.database, step.path / "db.sqlite3-journal"):
        if path.exists():
            path.unlink()
            removed.append(path)
    if removed:
        print(f"Deleted {step}/db.sqlite3; the next `make step-{step.number}` starts afresh.")
    else:
        print(f"Nothing to delete: {step}/db.sqlite3 does not exist.")


def lint(args):
    checks = [["check", "."], ["format", "--check", "."]]
    failed = [
        subprocess.run([sys.executable, "-m", "ruff", *check], cwd=REPO_ROOT).returncode
        for check in checks
    ]
    return 1 if any(failed) else 0


CACHE_DIR_NAMES = {"__pycache__", ".pytest_cache", ".ruff_cache", ".ipynb_checkpoints"}


def clean(args):
    for venv_dir in (environment.VENV_DIR, REPO_ROOT / ".venv-django61"):
        if venv_dir.exists():
            shutil.rmtree(venv_dir)
            print(f"Removed {venv_dir.name}.")
    caches = []
    for root, dirs, _files in os.walk(REPO_ROOT):
        dirs[:] = [name for name in dirs if not name.startswith((".git", ".venv"))]
        caches += [os.path.join(root, name) for name in dirs if name in CACHE_DIR_NAMES]
    if CACHE_DIR.exists():
        caches.append(CACHE_DIR)
    for cache in caches:
        shutil.rmtree(cache)
    print(f"Removed {len(caches)} cache folders. Databases were left alone.")
