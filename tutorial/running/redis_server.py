"""``python -m tutorial test-redis``: the task tests (steps 06 on) with RQ on a throwaway Redis.

The server keeps nothing on disk, listens on 127.0.0.1 on a free port, and is stopped
afterwards, whatever the tests did.
"""

import contextlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tutorial.course.steps import REPO_ROOT, all_steps
from tutorial.running.processes import free_port
from tutorial.running.suites import Suite, run_test_suites, step_suite

INSTALL_HINT = (
    "redis-server was not found. Install it with `sudo apt-get install redis-server`"
    " (Debian/Ubuntu) or `brew install redis` (macOS), or set REDIS_SERVER to its path.\n"
    "The Redis tests did NOT run."
)
# The tests of the steps that have tasks, run with their settings switched to RQ.
TASK_TESTS = [
    "tests/test_comments.py",
    "tests/test_delivery.py",
    "tests/test_workers.py",
    "tests/test_async_receivers.py",
]
START_SECONDS = 10


class RedisMissing(RuntimeError):
    pass


def register(subparsers):
    parser = subparsers.add_parser(
        "test-redis", help="run the task tests (steps 06 on) with RQ workers on a throwaway Redis"
    )
    parser.set_defaults(run=test_redis)


def test_redis(args):
    steps = [step for step in all_steps() if step.has_tasks]
    try:
        with throwaway_redis() as url:
            print(f"Redis is up at {url} (a throwaway server).")
            # With the tests marked rq, which need RQ's own processes (its work horse).
            task_tests = [*TASK_TESTS, "-m", "not browser"]
            # Each suite runs at the same time as the others, with its own workers: each
            # gets a Redis database of its own, so that no worker takes another's jobs.
            databases = (f"{url.removesuffix('/0')}/{number}" for number in range(16))
            suites = [
                step_suite(step, task_tests, env={"REDIS_URL": next(databases)}) for step in steps
            ]
            for suite in suites:
                suite.label += " on RQ and Redis"
            # `make step-6` with REDIS_URL: the server with an RQ worker beside it.
            suites.append(
                Suite(
                    "repository tests/ on Redis",
                    REPO_ROOT,
                    ["tests", "-m", "redis"],
                    env={"REDIS_URL": next(databases)},
                    fail_on_skip=True,
                )
            )
            return run_test_suites(suites)
    except RedisMissing as missing:
        print(missing, file=sys.stderr)
        return 3


def find_redis_server():
    program = os.environ.get("REDIS_SERVER") or shutil.which("redis-server")
    if not program or not Path(program).is_file():
        raise RedisMissing(INSTALL_HINT)
    return program


@contextlib.contextmanager
def throwaway_redis():
    """Start redis-server on a free port; yield its URL; stop it on the way out."""
    program = find_redis_server()
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="tutorial-redis-") as folder:
        server = subprocess.Popen(
            [
                program,
                "--port",
                str(port),
                "--bind",
                "127.0.0.1",
                "--dir",
                folder,
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        try:
            wait_until_it_answers(server, port)
            yield f"redis://127.0.0.1:{port}/0"
        finally:
            server.terminate()
            server.wait(timeout=START_SECONDS)


def wait_until_it_answers(server, port):
    from redis import Redis
    from redis.exceptions import ConnectionError as NotYet

    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"redis-server stopped at once:\n{server.stdout.read()}")
        with contextlib.suppress(NotYet):
            if Redis(host="127.0.0.1", port=port).ping():
                return
        time.sleep(0.1)
    raise RuntimeError(f"redis-server did not answer on port {port} within {START_SECONDS} s")
