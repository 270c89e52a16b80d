"""Real worker processes against the test database: waiting, sharing, and being killed.

Each test starts `manage.py db_worker` (or RQ's `rqworker` when REDIS_URL is set) as a
process of its own, as `make step-6` does, with the console mail backend, and reads the
emails from what the worker prints.
"""

import os
import re
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from conftest import TaskResultStatus
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client

from blog.models import Blog, Comment
from blog.tasks import notify_author

pytestmark = pytest.mark.django_db(transaction=True)
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
        print("sent", flush=True)
        return len(messages)
"""


@pytest.fixture
def blog():
    author = User.objects.create_user("writer", email="writer@example.com")
    return Blog.objects.create(title="Brewing with a kettle", body="Pour slowly.", author=author)


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


def run_worker(worker_id):
    """Run one worker to the end of the queue; return everything it printed."""
    worker = start_worker(worker_id)
    output, _ = worker.communicate(timeout=120)
    assert worker.returncode == 0, output
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


@pytest.mark.course_only
def test_two_workers_send_two_hundred_mails_none_twice(blog, enqueued):
    for number in range(200):
        Comment.objects.create(
            blog=blog,
            name="Ada",
            email="a@example.com",
            body=f"comment number {number}",
        )
    assert len(enqueued) == 200

    with ThreadPoolExecutor(max_workers=2) as pool:
        outputs = list(pool.map(run_worker, ["worker-one", "worker-two"]))

    sent = [int(number) for output in outputs for number in SENT_BODY.findall(output)]
    assert sorted(sent) == list(range(200)), "each comment's mail exactly once"
    assert all(SENT_BODY.search(output) for output in outputs), "both workers took tasks"
    assert statuses(enqueued) == {TaskResultStatus.SUCCESSFUL}


@pytest.mark.course_only
def test_a_worker_killed_mid_task_leaves_a_trace_and_the_task_can_run_again(
    blog, enqueued, tmp_path, caplog
):
    """SIGKILL lets the worker record nothing: the task stays RUNNING, never silently lost."""
    (tmp_path / "slow_mail.py").write_text(SLOW_MAIL_BACKEND)
    post_comments(blog, 1)
    [queued] = enqueued
    worker = start_worker(
        "killed-worker", DJANGO_EMAIL_BACKEND="slow_mail.EmailBackend", PYTHONPATH=str(tmp_path)
    )
    try:
        read_until(worker, "sending now")
    finally:
        os.killpg(worker.pid, signal.SIGKILL)  # the worker and, under RQ, its work horse
        worker.wait(timeout=10)

    stuck = notify_author.get_result(queued.id)
    assert stuck.status == TaskResultStatus.RUNNING
    assert stuck.started_at is not None and stuck.finished_at is None
    if uses_rq():
        # RQ gives up on a job whose worker stopped answering once the job's timeout has
        # passed: the next worker's maintenance fails it. Here the hour passes at once.
        import django_rq
        from django_tasks_rq import Job
        from rq.registry import StartedJobRegistry

        started = StartedJobRegistry(queue=django_rq.get_queue("default"), job_class=Job)
        started.cleanup(time.time() + 3600)
        assert notify_author.get_result(queued.id).status == TaskResultStatus.FAILED
        assert any(f"comment {Comment.objects.get().pk}" in m for m in caplog.messages)
    else:
        assert stuck.worker_ids == ["killed-worker"], "the result names the worker that took it"
        output = run_worker("next-worker")
        assert SENT_BODY.findall(output) == [], "no other worker takes a RUNNING task"
        assert notify_author.get_result(queued.id).status == TaskResultStatus.RUNNING

    notify_author.enqueue(*stuck.args)  # what the operator does: see the README
    assert SENT_BODY.findall(run_worker("after-the-operator")) == ["0"]


@pytest.mark.course_only
def test_a_worker_stopped_with_sigterm_finishes_its_task_first(blog, enqueued, tmp_path):
    (tmp_path / "slow_mail.py").write_text(SLOW_MAIL_BACKEND)
    post_comments(blog, 1)
    [queued] = enqueued
    slow = {"DJANGO_EMAIL_BACKEND": "slow_mail.EmailBackend", "SLOW_MAIL_SECONDS": "1"}
    worker = start_worker("stopped-worker", PYTHONPATH=str(tmp_path), **slow)
    read_until(worker, "sending now")

    worker.send_signal(signal.SIGTERM)  # the worker itself, as a process manager stops it
    worker.wait(timeout=60)
    rest = worker.stdout.read()  # through the buffer that read_until() used

    assert "sent" in rest.split()
    assert notify_author.get_result(queued.id).status == TaskResultStatus.SUCCESSFUL


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
