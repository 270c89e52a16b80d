"""`python -m tutorial serve N` on a scratch copy of a step: it never sees a real db.sqlite3."""

import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest

from tutorial.steps import REPO_ROOT, get_step


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def scratch_steps(tmp_path):
    step = get_step(2)
    shutil.copytree(
        step.path, tmp_path / step.name, ignore=shutil.ignore_patterns("db.sqlite3", "__pycache__")
    )
    return tmp_path


def serve_until_ready(steps_dir, port, timeout=20):
    """Start `serve 2`, wait for /admin/login/ to answer 200; return (process, seconds)."""
    env = {**os.environ, "TUTORIAL_STEPS_DIR": str(steps_dir)}
    process = subprocess.Popen(
        [sys.executable, "-m", "tutorial", "serve", "2", "--port", str(port)],
        cwd=REPO_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/admin/login/") as response:
                if response.status == 200:
                    return process, time.monotonic() - started
        except (urllib.error.URLError, ConnectionError):
            time.sleep(0.1)
    stop(process)
    pytest.fail(f"serve 2 did not answer within {timeout} s:\n{process.stdout.read()}")


def stop(process):
    os.killpg(process.pid, signal.SIGINT)
    output, _ = process.communicate(timeout=10)
    return output


def product_names(database):
    with sqlite3.connect(database) as connection:
        return [name for (name,) in connection.execute("SELECT name FROM products_product")]


def test_serve_keeps_a_learners_data_until_reset(scratch_steps):
    database = scratch_steps / "02_models" / "db.sqlite3"
    port = free_port()

    process, _seconds = serve_until_ready(scratch_steps, port)
    first_output = stop(process)
    assert "Installed 8 object(s)" in first_output
    assert f"http://127.0.0.1:{port}/" in first_output
    assert "Espresso beans" in product_names(database)

    with sqlite3.connect(database) as connection:
        connection.execute(
            "INSERT INTO products_product (name, description, price, quantity)"
            " VALUES ('Learner teapot', '', 20, 1)"
        )
    process, _seconds = serve_until_ready(scratch_steps, port)
    second_output = stop(process)
    assert "Installed" not in second_output
    assert "Learner teapot" in product_names(database)

    reset = subprocess.run(
        [sys.executable, "-m", "tutorial", "reset", "2"],
        cwd=REPO_ROOT,
        env={**os.environ, "TUTORIAL_STEPS_DIR": str(scratch_steps)},
        capture_output=True,
        text=True,
    )
    assert reset.returncode == 0
    assert not database.exists()
