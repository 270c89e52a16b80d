"""The comment benchmark: mail sent in the request (step 05) against a task (step 06).

A real SMTP server on 127.0.0.1 (aiosmtpd) takes SMTP_DELAY seconds to accept each
message, as a distant mail server does. Comments are posted one at a time to
``runserver``; for step 06 a worker runs beside it, on the database or on Redis.
"""

import asyncio
import contextlib
import http.client
import re
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse

from tutorial.course.steps import get_step
from tutorial.running.processes import free_port, read_until
from tutorial.running.redis_server import RedisMissing, throwaway_redis

SMTP_DELAY = 0.3
COMMENT_BODY = "bench comment {number}"
DELIVERY_TIMEOUT = 60


class SlowMailServer:
    """Accepts every message after SMTP_DELAY seconds and notes when each comment's came."""

    def __init__(self):
        from aiosmtpd.controller import Controller  # in .venv only: the CLI starts without it

        self.arrived = {}
        self.port = free_port()
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)

    async def handle_DATA(self, server, session, envelope):
        await asyncio.sleep(SMTP_DELAY)
        found = re.search(r"bench comment (\d+)", envelope.content.decode(errors="replace"))
        if found:
            self.arrived[int(found.group(1))] = time.perf_counter()
        return "250 Message accepted for delivery"

    def __enter__(self):
        self.controller.start()
        return self

    def __exit__(self, *exc_info):
        self.controller.stop()
        return False


def mail_environment(mail_server):
    return {
        "DJANGO_EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "DJANGO_EMAIL_HOST": "127.0.0.1",
        "DJANGO_EMAIL_PORT": str(mail_server.port),
    }


# What each worker prints once it waits for tasks.
READY = {"db_worker": "Starting worker", "rqworker": "Listening on"}


@contextlib.contextmanager
def worker(step, environment, redis_url=None):
    """The step's task worker, as `make step-6` runs it (RQ's when redis_url is given).

    Yields once the worker waits for tasks, so that its start-up is not timed.
    """
    if redis_url:
        command = ["rqworker", "default", "--job-class", "django_tasks_rq.Job"]
    else:
        command = ["db_worker", "--no-reload"]
    process = subprocess.Popen(
        [sys.executable, "manage.py", *command],
        cwd=step.path,
        env={**environment, "PYTHONUNBUFFERED": "1"},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        read_until(process, READY[command[0]])
        # Keep reading, so that a full pipe never stops the worker.
        threading.Thread(target=process.stdout.read, daemon=True).start()
        yield process
    finally:
        process.terminate()
        process.wait(timeout=30)


def post_comments(port, blog_id, count, first_number, mail_server):
    """POST ``count`` comments, each once the previous one's email has arrived.

    Returns (number, start, seconds to answer) for each. Waiting for each email keeps
    the worker idle when the next comment comes, so the delivery time has no queue in it.
    """
    token = csrf_token(port, blog_id)
    posted = []
    for number in range(first_number, first_number + count):
        fields = {
            "name": "Bench",
            "email": "bench@example.com",
            "body": COMMENT_BODY.format(number=number),
            "csrfmiddlewaretoken": token,
        }
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        started = time.perf_counter()
        connection.request(
            "POST",
            f"/blog/{blog_id}/",
            body=urllib.parse.urlencode(fields),
            headers={
                "Content-Type": "application/x-www-form-urlencoded",
                "Cookie": f"csrftoken={token}",
            },
        )
        response = connection.getresponse()
        response.read()
        seconds = time.perf_counter() - started
        connection.close()
        if response.status != 302:
            raise RuntimeError(f"comment POST answered {response.status}, not 302")
        posted.append((number, started, seconds))
        wait_for_mail(mail_server, number)
    return posted


def csrf_token(port, blog_id):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    connection.request("GET", f"/blog/{blog_id}/")
    response = connection.getresponse()
    response.read()
    cookie = response.getheader("Set-Cookie", "")
    connection.close()
    return cookie.split("csrftoken=", 1)[1].split(";", 1)[0]


def wait_for_mail(mail_server, number):
    deadline = time.monotonic() + DELIVERY_TIMEOUT
    while time.monotonic() < deadline:
        if number in mail_server.arrived:
            return
        time.sleep(0.05)
    raise RuntimeError(f"the email for comment {number} never arrived")


def percentile(values, fraction):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


def row(label, mail_server, posted):
    answers = [seconds for _number, _started, seconds in posted]
    delivered = [mail_server.arrived[number] - started for number, started, _ in posted]
    return [
        label,
        milliseconds(statistics.median(answers)),
        milliseconds(percentile(answers, 0.95)),
        milliseconds(statistics.median(delivered)),
    ]


def milliseconds(seconds):
    return f"{seconds * 1000:,.0f} ms"


def comment_rows(settings, databases, prepare, running_server):
    """One row per way of sending: step 05, step 06 on the database, step 06 on Redis.

    ``databases(name)`` gives a new SQLite file, ``prepare(number, database)`` makes a post
    in it and returns its id, ``running_server`` is bench.running_server. Returns the
    rows, notes, and each step's median answer.
    """
    rows, notes, medians = [], [], {}
    with SlowMailServer() as mail_server, contextlib.ExitStack() as services:
        runs = [
            (5, "step 05: mail sent in the request", None),
            (6, "step 06: task, db_worker", None),
        ]
        if not settings.with_redis:
            notes.append("RQ on Redis: left out of --quick.")
        else:
            try:
                redis_url = services.enter_context(throwaway_redis())
                runs.append((6, "step 06: task, RQ worker on Redis", redis_url))
            except RedisMissing:
                notes.append("RQ on Redis: skipped, redis-server is not installed.")
        for index, (number, label, redis_url) in enumerate(runs):
            database = databases(f"{number}_{index}")
            extra = {**mail_environment(mail_server)}
            if redis_url:
                extra["REDIS_URL"] = redis_url
            blog_id = prepare(number, database)
            with contextlib.ExitStack() as running:
                port = free_port()
                server = running.enter_context(running_server(number, database, port, extra))
                if number == 6:
                    running.enter_context(worker(get_step(6), server.environment, redis_url))
                first = index * settings.comments
                posted = post_comments(port, blog_id, settings.comments, first, mail_server)
            rows.append(row(label, mail_server, posted))
            medians.setdefault(number, statistics.median(t for _n, _s, t in posted))
    return rows, notes, medians
