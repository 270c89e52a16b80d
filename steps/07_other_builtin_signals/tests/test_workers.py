"""Real worker processes against the test database: waiting, sharing, and being killed.

Each test starts `manage.py db_worker` (or RQ's `rqworker` when REDIS_URL is set) as a
process of its own, as `make step-6` does, with the console mail backend, and reads the
emails from what the worker prints.
"""

import contextlib
import io
import os
import re
import signal
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from conftest import TaskResultStatus
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import connection
from django.test import Client

from blog.models import Comment
from blog.tasks import notify_author

# Slow: each test starts real worker processes (check --quick leaves them out).
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]
User = get_user_model()
SENT_BODY = re.compile(r"^comment number (\d+)$", re.MULTILINE)
SLOW_MAIL_BACKEND = """
import os
import time

from django.core.mail.backends.base import BaseEmailBackend


class EmailBackend(BaseEmailBackend):
    def send_messages(self, messages):
        print("sending now", flush=True)
        time.sleep(float(os.environ.get("SLOW_MAIL_SECONDS", "60")))
        for message in messages:
            print(message.body)
        print("sent", flush=True)
        return len(messages)
"""


def uses_rq():
    return settings.TASKS["default"]["BACKEND"].startswith("django_tasks_rq")


def worker_command(worker_id):
    """A worker that runs what is queued, then exits."""
    manage = [sys.executable, "manage.py"]
    if uses_rq():
        return [
            *manage,
            "rqworker",
            "default",
            "--burst",
            "--name",
            worker_id,
            "--job-class",
            "django_tasks_rq.Job",
        ]
    return [
        *manage,
        "db_worker",
        "--batch",
        "--no-startup-delay",
        "--no-reload",
        "--worker-id",
        worker_id,
    ]


def worker_environment(**extra):
    """The worker's settings: this test's database, mail printed on its standard output."""
    environment = {
        **os.environ,
        "DJANGO_EMAIL_BACKEND": "django.core.mail.backends.console.EmailBackend",
    }
    database = connection.settings_dict
    if connection.vendor == "sqlite":
        environment["SQLITE_PATH"] = str(database["NAME"])
    else:
        password = f":{database['PASSWORD']}" if database["PASSWORD"] else ""
        environment["DATABASE_URL"] = (
            f"postgres://{database['USER']}{password}"
            f"@{database['HOST']}:{database['PORT']}/{database['NAME']}"
        )
    return {**environment, **extra}


def start_worker(worker_id, **environment):
    return subprocess.Popen(
        worker_command(worker_id),
        cwd=settings.BASE_DIR,
        env=worker_environment(**environment),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )


def run_worker_with(worker_id, timeout=120, **environment):
    """Run one worker to the end of the queue; return its exit status and what it printed."""
    worker = start_worker(worker_id, **environment)
    try:
        output, _ = worker.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(worker.pid, signal.SIGKILL)
        output = worker.communicate()[0]
        printed = f"; it printed:\n{output}" if output.strip() else ", and printed nothing"
        pytest.fail(f"the worker was still at work after {timeout} s{printed}")
    return worker.returncode, output


def run_worker(worker_id):
    """Run one worker to the end of the queue, which it must reach; return what it printed."""
    returncode, output = run_worker_with(worker_id)
    assert returncode == 0, output
    return output


def post_comments(blog, count):
    client = Client()
    return [
        client.post(
            f"/blog/{blog.pk}/",
            {
                "name": "Ada",
                "email": "ada@example.com",
                "body": f"comment number {number}",
            },
        ).status_code
        for number in range(count)
    ]


def statuses(task_results):
    return {notify_author.get_result(result.id).status for result in task_results}


def test_comments_wait_without_a_worker_and_are_sent_when_one_starts(blog, enqueued):
    statuses_of_the_posts = post_comments(blog, 20)

    assert statuses_of_the_posts == [302] * 20, "every comment is answered without a worker"
    assert len(enqueued) == 20
    assert statuses(enqueued) == {TaskResultStatus.READY}, "the tasks wait in the queue"

    output = run_worker("the-only-worker")

    assert sorted(map(int, SENT_BODY.findall(output))) == list(range(20)), output
    assert statuses(enqueued) == {TaskResultStatus.SUCCESSFUL}


def test_two_workers_send_two_hundred_mails_none_twice(blog, enqueued, tmp_path):
    for number in range(200):
        Comment.objects.create(
            blog=blog,
            name="Ada",
            email="a@example.com",
            body=f"comment number {number}",
        )
    assert len(enqueued) == 200

    # On PostgreSQL both workers must take tasks: at 10 ms per email, a worker that starts
    # a second late still finds work. On SQLite only the emails are counted: no wait.
    mail = slow_mail(tmp_path, seconds=0.01 if connection.vendor == "postgresql" else 0)
    with ThreadPoolExecutor(max_workers=2) as pool:
        runs = pool.map(lambda name: run_worker_with(name, **mail), ["worker-one", "worker-two"])
        returncodes, outputs = zip(*runs, strict=True)

    assert returncodes == (0, 0), outputs

    sent = [int(number) for output in outputs for number in SENT_BODY.findall(output)]
    assert sorted(sent) == list(range(200)), "each comment's mail exactly once"
    if connection.vendor == "postgresql":
        # SQLite has one write lock, held while each email is sent: there one worker may
        # take nearly every task. PostgreSQL locks the comment's row only.
        assert all(SENT_BODY.search(output) for output in outputs), "both workers took tasks"
    assert statuses(enqueued) == {TaskResultStatus.SUCCESSFUL}


def slow_mail(tmp_path, seconds):
    """A worker's environment for a mail backend that prints "sending now", then takes its time."""
    (tmp_path / "slow_mail.py").write_text(SLOW_MAIL_BACKEND)
    return {
        "DJANGO_EMAIL_BACKEND": "slow_mail.EmailBackend",
        "SLOW_MAIL_SECONDS": str(seconds),
        "PYTHONPATH": str(tmp_path),
    }


def start_slow_worker(worker_id, tmp_path, seconds=60, **environment):
    return start_worker(worker_id, **slow_mail(tmp_path, seconds), **environment)


def work_horse_of(worker):
    """RQ's work horse: the worker's child, in a process group of its own (os.setpgrp)."""
    [horse] = Path(f"/proc/{worker.pid}/task/{worker.pid}/children").read_text().split()
    return int(horse)


def sweep():
    """What the operator, or a scheduler, runs after a fault: see README 06."""
    call_command("queue_missed_notifications", "--older-than", "0", stdout=io.StringIO())


def fail_abandoned_rq_jobs():
    """RQ's maintenance, as a worker runs it, once the dead worker's heartbeat is past."""
    import django_rq
    from django_tasks_rq import Job
    from rq.registry import StartedJobRegistry

    started = StartedJobRegistry(queue=django_rq.get_queue("default"), job_class=Job)
    started.cleanup(time.time() + 3600)  # the hour passes at once


def test_a_worker_killed_mid_task_leaves_a_trace_and_the_sweep_sends_the_email_once(
    blog, enqueued, tmp_path, caplog
):
    """SIGKILL lets the worker record nothing; the email is still due, never sent twice."""
    post_comments(blog, 1)
    [queued] = enqueued
    worker = start_slow_worker("killed-worker", tmp_path)
    try:
        read_until(worker, "sending now")
        horse = work_horse_of(worker) if uses_rq() else None
    finally:
        os.killpg(worker.pid, signal.SIGKILL)
        if uses_rq():
            os.killpg(horse, signal.SIGKILL)  # its own group: the worker's kill missed it
        worker.wait(timeout=10)

    stuck = notify_author.get_result(queued.id)
    assert stuck.status == TaskResultStatus.RUNNING
    assert stuck.started_at is not None and stuck.finished_at is None
    if uses_rq():
        fail_abandoned_rq_jobs()
        assert notify_author.get_result(queued.id).status == TaskResultStatus.FAILED
        assert any(f"comment {Comment.objects.get().pk}" in m for m in caplog.messages)
    else:
        assert stuck.worker_ids == ["killed-worker"], "the result names the worker that took it"
        output = run_worker("next-worker")
        assert SENT_BODY.findall(output) == [], "no other worker takes a RUNNING task"
        assert notify_author.get_result(queued.id).status == TaskResultStatus.RUNNING

    sweep()
    assert SENT_BODY.findall(run_worker("after-the-sweep")) == ["0"]
    sweep()
    assert SENT_BODY.findall(run_worker("after-a-second-sweep")) == []


@pytest.mark.rq
@pytest.mark.library
def test_rqs_work_horse_outlives_its_worker_and_a_re_enqueue_sends_nothing_twice(
    blog, enqueued, tmp_path
):
    """Killing rqworker's process group leaves the horse, which sends and records success."""
    post_comments(blog, 1)
    [queued] = enqueued
    worker = start_slow_worker("headless-worker", tmp_path, seconds=2)
    read_until(worker, "sending now")
    horse = work_horse_of(worker)

    os.killpg(worker.pid, signal.SIGKILL)
    read_until(worker, "sent")  # the horse writes to the same pipe
    wait_until_gone(horse)

    assert notify_author.get_result(queued.id).status == TaskResultStatus.SUCCESSFUL
    notify_author.enqueue(Comment.objects.get().pk)  # the operator's re-enqueue
    assert SENT_BODY.findall(run_worker("after-the-re-enqueue")) == []


@pytest.mark.rq
@pytest.mark.library
def test_rqs_work_horse_killed_alone_fails_the_job_without_task_finished(blog, enqueued, tmp_path):
    post_comments(blog, 1)
    [queued] = enqueued
    worker = start_slow_worker("horseless-worker", tmp_path)
    read_until(worker, "sending now")

    os.killpg(work_horse_of(worker), signal.SIGKILL)
    output, _ = worker.communicate(timeout=60)  # --burst: the queue is empty, it exits

    assert notify_author.get_result(queued.id).status == TaskResultStatus.FAILED
    assert "Could not email the author" not in output, "RQ skipped its failure callback"
    sweep()
    assert SENT_BODY.findall(run_worker("after-the-sweep")) == ["0"]


@pytest.mark.rq
@pytest.mark.library
def test_rq_keeps_a_finished_result_for_500_seconds(blog, enqueued):
    import django_rq

    post_comments(blog, 1)
    [queued] = enqueued
    run_worker("the-only-worker")

    assert notify_author.get_result(queued.id).status == TaskResultStatus.SUCCESSFUL
    seconds_left = django_rq.get_connection("default").ttl(f"rq:job:{queued.id}")
    assert 490 <= seconds_left <= 500, "then get_result() raises TaskResultDoesNotExist"


@pytest.mark.library
def test_db_worker_under_its_reloader_abandons_the_task_when_stopped(
    blog, settings, enqueued, tmp_path
):
    """`db_worker` reloads by default when DEBUG is on; then SIGTERM kills the task."""
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    post_comments(blog, 1)
    [queued] = enqueued
    environment = worker_environment(**slow_mail(tmp_path, seconds=0.5))
    environment.pop("REDIS_URL", None)
    worker = subprocess.Popen(
        [sys.executable, "manage.py", "db_worker", "--no-startup-delay", "--worker-id", "reloaded"],
        cwd=settings.BASE_DIR,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        read_until(worker, "sending now")
        worker.send_signal(signal.SIGTERM)  # the reloader's parent, as a process manager would
        worker.wait(timeout=30)
        time.sleep(1)  # twice what the email takes: it would have been sent by now
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(worker.pid, signal.SIGKILL)

    assert "sent" not in worker.stdout.read().split()
    assert notify_author.get_result(queued.id).status == TaskResultStatus.RUNNING


def wait_until_gone(pid, timeout=30):
    deadline = time.monotonic() + timeout
    while Path(f"/proc/{pid}").exists() and time.monotonic() < deadline:
        time.sleep(0.1)


@pytest.mark.library
def test_a_worker_stopped_with_sigterm_finishes_its_task_first(blog, enqueued, tmp_path):
    post_comments(blog, 1)
    [queued] = enqueued
    worker = start_slow_worker("stopped-worker", tmp_path, seconds=0.5)
    read_until(worker, "sending now")

    worker.send_signal(signal.SIGTERM)  # the worker itself, as a process manager stops it
    worker.wait(timeout=60)
    rest = worker.stdout.read()  # through the buffer that read_until() used

    assert "sent" in rest.split()
    assert notify_author.get_result(queued.id).status == TaskResultStatus.SUCCESSFUL


@pytest.fixture
def silent_mail_server():
    """An SMTP port that accepts connections and never says a word: a hung mail server."""
    with socket.create_server(("127.0.0.1", 0)) as server:
        yield server.getsockname()[1]  # connections wait in the backlog, unanswered


def smtp_to(port, timeout="0.25"):
    return {
        "DJANGO_EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "DJANGO_EMAIL_HOST": "127.0.0.1",
        "DJANGO_EMAIL_PORT": str(port),
        "DJANGO_EMAIL_TIMEOUT": timeout,
    }


def test_a_mail_server_that_never_answers_fails_the_task_and_the_worker_goes_on(
    blog, enqueued, silent_mail_server
):
    """EMAIL_TIMEOUT (DJANGO_EMAIL_TIMEOUT here) bounds each email; without it a worker
    waits on a silent mail server for ever, and every task behind it waits too."""
    post_comments(blog, 2)
    # Two emails, each given up after EMAIL_TIMEOUT: a quarter of a second where the
    # settings read DJANGO_EMAIL_TIMEOUT, as the step's do, else the project's own number.
    limit = 20 if settings.EMAIL_TIMEOUT is None else 2 * settings.EMAIL_TIMEOUT + 15

    returncode, output = run_worker_with(
        "patient-worker", timeout=limit, **smtp_to(silent_mail_server)
    )

    assert returncode == 0, output
    assert statuses(enqueued) == {TaskResultStatus.FAILED}, "both tasks ran, and timed out"
    assert "timed out" in notify_author.get_result(enqueued[0].id).errors[-1].traceback


def test_a_failing_task_enqueued_by_keyword_leaves_the_worker_running_to_the_end(blog):
    comments = [
        Comment.objects.create(blog=blog, name="Ada", email="a@example.com", body=str(number))
        for number in range(3)
    ]
    results = [notify_author.enqueue(comment_id=comment.pk) for comment in comments]
    with socket.create_server(("127.0.0.1", 0)) as closed:
        refusing_port = closed.getsockname()[1]  # closed again below: connections refused

    returncode, output = run_worker_with("keyword-worker", **smtp_to(refusing_port))

    assert returncode == 0, output
    assert statuses(results) == {TaskResultStatus.FAILED}, "every task ran; none left READY"
    for comment in comments:
        assert f"Could not email the author about comment {comment.pk} " in output


def read_until(process, text, timeout=60):
    """Read the process's output line by line until a line contains text."""
    seen, deadline = [], time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        seen.append(line)
        if text in line:
            return "".join(seen)
    pytest.fail(f"the worker never printed {text!r}:\n{''.join(seen)}")
