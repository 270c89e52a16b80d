"""``python -m tutorial test-postgres``: every step's tests against a throwaway PostgreSQL.

The server lives in a temporary folder, listens on 127.0.0.1 on a free port, and is
stopped and deleted afterwards, whatever the tests did.
"""

import contextlib
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from tutorial.course.steps import REPO_ROOT, all_steps, get_step
from tutorial.running.processes import free_port
from tutorial.running.suites import Suite, run_test_suites, step_suite

SERVER_PROGRAMS = ("initdb", "pg_ctl", "postgres")
INSTALL_HINT = (
    "PostgreSQL's server programs (initdb, pg_ctl, postgres) were not found.\n"
    "Install them with `sudo apt-get install postgresql` (Debian/Ubuntu) or\n"
    "`brew install postgresql` (macOS), or set PG_BIN to the folder that holds them.\n"
    "The PostgreSQL tests did NOT run."
)
# A test server needs no durability: these make it several times faster.
FAST_UNSAFE_OPTIONS = "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"


class ServerProgramsMissing(RuntimeError):
    pass


def register(subparsers):
    parser = subparsers.add_parser(
        "test-postgres", help="run every step's tests on a throwaway PostgreSQL server"
    )
    parser.add_argument("step", nargs="?", help="only this step")
    parser.set_defaults(run=test_postgres)


def test_postgres(args):
    steps = [get_step(args.step)] if args.step else all_steps()
    try:
        with throwaway_server() as base_url:
            print(f"PostgreSQL is up at {base_url} (a throwaway server).")
            suites = [
                step_suite(step, env={"DATABASE_URL": f"{base_url}/step{step.number}"})
                for step in steps
            ]
            if not args.step:
                # check --postgres starts a server of its own for each run.
                suites.append(Suite("repository tests/", REPO_ROOT, ["tests", "-m", "postgres"]))
            for suite in suites:
                suite.label += " on PostgreSQL"
            return run_test_suites(suites)
    except ServerProgramsMissing as missing:
        print(missing, file=sys.stderr)
        return 3


def find_server_programs(search_path=None):
    """The folder holding initdb, pg_ctl and postgres: PG_BIN if set, else the newest found."""
    if search_path is None:
        search_path = standard_places()
    for folder in filter(None, search_path):
        if all((Path(folder) / program).is_file() for program in SERVER_PROGRAMS):
            return Path(folder)
    raise ServerProgramsMissing(INSTALL_HINT)


def standard_places():
    if os.environ.get("PG_BIN"):
        return [os.environ["PG_BIN"]]
    debian = sorted((str(path) for path in Path("/usr/lib/postgresql").glob("*/bin")), reverse=True)
    on_path = [str(Path(found).parent) for found in [shutil.which("pg_ctl")] if found]
    return debian + on_path


@contextlib.contextmanager
def throwaway_server():
    """Start PostgreSQL in a temporary folder; yield its URL without a database name."""
    programs = find_server_programs()
    folder = Path(tempfile.mkdtemp(prefix="tutorial-postgres-"))
    as_server_user = server_user_prefix(folder)
    data, port = folder / "data", free_port()
    pg_ctl = [*as_server_user, str(programs / "pg_ctl"), "-D", str(data), "-l", str(folder / "log")]
    try:
        quiet(
            [
                *as_server_user,
                str(programs / "initdb"),
                "-D",
                str(data),
                "-U",
                "postgres",
                "--auth=trust",
                "--encoding=UTF8",
                "--no-sync",
            ]
        )
        options = f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 {FAST_UNSAFE_OPTIONS}"
        quiet([*pg_ctl, "-w", "-o", options, "start"])
        try:
            yield f"postgres://postgres@127.0.0.1:{port}"
        finally:
            quiet([*pg_ctl, "-w", "-m", "fast", "stop"])
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def server_user_prefix(folder):
    """PostgreSQL refuses to run as root: run it as the `postgres` user when we are root."""
    if os.name == "nt" or os.geteuid() != 0:
        return []
    shutil.chown(folder, user="postgres")
    return ["runuser", "-u", "postgres", "--"]


def quiet(command):
    completed = subprocess.run(command, capture_output=True, text=True)
    if completed.returncode:
        raise RuntimeError(
            f"{' '.join(command[:3])}… failed:\n{completed.stdout}{completed.stderr}"
        )
