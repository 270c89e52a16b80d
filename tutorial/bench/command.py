"""``python -m tutorial bench``: what the signals cost, measured on this machine.

Three tables: queries per confirmation; the price of a signal next to a direct call;
concurrent confirmations per second against a real server, with lost updates counted.
Every measurement runs inside its step's own interpreter. Timings never decide a test.
"""

import json
import os
import platform
import queue
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from tutorial.bench.comments import SMTP_DELAY, comment_rows
from tutorial.course.steps import REPO_ROOT, get_step
from tutorial.in_step.project import run_in_step
from tutorial.running.postgres import ServerProgramsMissing, throwaway_server
from tutorial.running.processes import free_port, wait_until_up

RESULTS = REPO_ROOT / "bench" / "results" / "latest.md"


@dataclass(frozen=True)
class Settings:
    repetitions: int
    orders_per_row: int
    thread_counts: tuple
    load_steps: tuple
    databases: tuple
    ratio_rounds: int
    comments: int
    with_redis: bool
    # Products deleted at once, and how many times each delete is measured.
    deletes: dict
    # Step 07 against step 08: rounds, each of this many confirmations per step.
    capstone: tuple


FULL = Settings(
    300,
    160,
    (1, 4, 8),
    (3, 4),
    ("SQLite", "PostgreSQL"),
    15,
    50,
    True,
    {1: 21, 100: 9, 10000: 3},
    (7, 200),
)
# A smoke run: every table, with as little work in each as still shows it working.
QUICK = Settings(10, 12, (4,), (3,), ("SQLite",), 3, 2, False, {1: 3, 10: 3}, (2, 10))


def register(subparsers):
    parser = subparsers.add_parser("bench", help="measure what signals cost (writes a table)")
    parser.add_argument("--quick", action="store_true", help="a few repetitions, SQLite only")
    parser.add_argument(
        "--output", help=f"write the tables here instead of {RESULTS.relative_to(REPO_ROOT)}"
    )
    parser.set_defaults(run=bench)


def bench(args):
    settings = QUICK if args.quick else FULL
    # The article's receiver goes last in step 3's batch: it disconnects the step's own.
    measure_together(
        [
            (3, "queries", None),
            (3, "signal_vs_direct", signal_options(settings)),
            (3, "send_cost", send_options(settings)),
            (3, "article_queries", None),
            (4, "queries", None),
            (5, "queries", None),
            (5, "comment_queries", None),
            (6, "comment_queries", None),
            (6, "enqueue_queries", None),
            (7, "delete_cost", delete_options(settings)),
            (7, "queries", None),
            (8, "queries", None),
            (7, "project_receivers", None),
            (8, "project_receivers", None),
        ]
    )
    sections = [
        machine_note(),
        query_section(),
        signal_cost_section(settings),
        comment_section(settings),
        delete_section(settings),
        capstone_section(settings),
        load_section(settings),
    ]
    text = "\n\n".join(sections) + "\n"
    output = Path(args.output) if args.output else RESULTS
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(text)
    print(text)
    print(f"Written to {output}")
    return 0


# Results of measurements already made in a batch, by (step, name, options as JSON).
_measured = {}


def measure_together(requests):
    """Make independent measurements of each step in one interpreter: a step's Django
    starts once, not once per measurement. Later measure() calls get the results."""
    by_step = {}
    for step_number, name, options in requests:
        by_step.setdefault(step_number, []).append([name, options or {}])
    for step_number, batch in by_step.items():
        completed = run_in_step(step_number, "bench", "--batch", json.dumps(batch), capture=True)
        if completed.returncode:
            raise RuntimeError(f"measurements failed in step {step_number}:\n{completed.stderr}")
        results = json.loads(completed.stdout.strip().splitlines()[-1])
        for (name, options), result in zip(batch, results, strict=True):
            _measured[(step_number, name, json.dumps(options))] = result


def measure(step_number, name, options=None, database=None):
    batched = (step_number, name, json.dumps(options or {}))
    if database is None and batched in _measured:
        return _measured.pop(batched)
    arguments = ["bench", "--measure", name, "--options", json.dumps(options or {})]
    if database:
        arguments += ["--database", str(database)]
    completed = run_in_step(step_number, *arguments, capture=True)
    if completed.returncode:
        raise RuntimeError(f"{name} failed in step {step_number}:\n{completed.stderr}")
    return json.loads(completed.stdout.strip().splitlines()[-1])


def markdown_table(headers, rows):
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def machine_note():
    cpu = next(
        (line.split(":", 1)[1].strip() for line in cpu_info() if line.startswith("model name")),
        platform.processor() or "unknown CPU",
    )
    import django

    return (
        f"Measured on {date.today().isoformat()}: {cpu}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}, Django {django.get_version()}, "
        f"with `python -m tutorial bench`."
    )


def cpu_info():
    try:
        return Path("/proc/cpuinfo").read_text().splitlines()
    except OSError:
        return []


def query_section():
    rows = []
    for number in (3, 4, 5):
        counted = measure(number, "queries")
        rows.append([f"step {number:02d}", counted["work"], counted["all"], counted["status"]])
    article = measure(3, "article_queries")
    article_row = ["step 03, the article's receiver", article["work"], article["all"]]
    rows.append([*article_row, article["status"]])
    table = markdown_table(["confirmation through", "queries", "with BEGIN/COMMIT", "HTTP"], rows)
    fewer = rows[0][1] - article["work"]
    return (
        f"### Queries per successful confirmation\n\n{table}\n\n"
        f"The article's read-modify-write receiver makes {fewer} query fewer than step 03's: "
        "it never reads the new stock back. It also loses updates when confirmations "
        "overlap (`test_the_articles_read_modify_write_receiver_loses_updates`)."
    )


def signal_options(settings):
    return {"repetitions": settings.repetitions, "rounds": settings.ratio_rounds}


def send_options(settings):
    return {"repetitions": settings.repetitions * 100}


def signal_cost_section(settings):
    confirmation = measure(3, "signal_vs_direct", signal_options(settings))
    spread = f"{confirmation['ratio_low']:.3f} to {confirmation['ratio_high']:.3f}"
    first = markdown_table(
        ["stock update (step 03)", "median per call", "ratio", "middle half of the rounds"],
        [
            [
                "`order_confirmed.send()`",
                microseconds(confirmation["signal"]),
                f"{confirmation['ratio']:.3f}",
                spread,
            ],
            ["direct call of the receiver", microseconds(confirmation["direct"]), "1.000", ""],
        ],
    )
    costs = measure(3, "send_cost", send_options(settings))
    plain = costs["plain call"]
    second = markdown_table(
        ["call", "median per call", "× plain call"],
        [[name, nanoseconds(seconds), f"{seconds / plain:.1f}"] for name, seconds in costs.items()],
    )
    return (
        "### What a signal costs\n\n" + first + "\n\n"
        f"{settings.ratio_rounds} rounds of {settings.repetitions} stock updates each way, "
        "through the signal and directly, alternating call by call, each round in one "
        "transaction; the ratio is the median of the rounds' ratios.\n\n"
        + second
        + f"\n\nMedians of 7 rounds of {settings.repetitions * 100} calls each."
    )


def comment_section(settings):
    def prepare(number, database):
        return measure(number, "prepare_blog", database=database)["blog"]

    with database_for("SQLite") as databases:
        rows, notes, medians = comment_rows(settings, databases, prepare, running_server)
    table = markdown_table(
        ["comment POST to", "answer, median", "answer, 95th percentile", "POST to mail delivered"],
        rows,
    )
    share = medians[6] / medians[5]
    posts = measure(5, "comment_queries")["work"], measure(6, "comment_queries")["work"]
    enqueue = measure(6, "enqueue_queries")["all"]
    return (
        "### A comment's email: in the request, or a task\n\n"
        f"{table}\n\n{settings.comments} comments posted to `runserver`, each once the "
        f"previous one's email has arrived, with an SMTP server on 127.0.0.1 that takes "
        f"{SMTP_DELAY * 1000:.0f} ms to accept each message. Step 06 answers in {share:.0%} of "
        "step 05's median time. `db_worker` looks for new tasks every second (`--interval`), "
        "which adds up to a second to the delivery; an RQ worker is woken by Redis at once."
        "\n\n"
        f"A comment POST makes {posts[0]} queries in step 05 and {posts[1]} in step 06, "
        f"besides BEGIN and COMMIT: `notify_author.enqueue()` makes {enqueue}, the INSERT "
        "of the task's row." + "".join(f"\n\n{note}" for note in notes)
    )


def delete_options(settings):
    sizes = sorted(settings.deletes)
    return {"sizes": sizes, "repetitions": {str(size): settings.deletes[size] for size in sizes}}


def delete_section(settings):
    rows, results = [], measure(7, "delete_cost", delete_options(settings))
    for measured in results:
        baseline = measured["rows"][0]["seconds"]
        for row in measured["rows"]:
            ratio = row["seconds"] / baseline
            time = milliseconds(row["seconds"])
            cells = [row["receivers"], f"{row['queries']:,}", time, f"{ratio:.1f}"]
            rows.append([f"{measured['size']:,}", *cells])
    largest = results[-1]  # sizes are measured smallest first
    slowdown = largest["rows"][-1]["seconds"] / largest["rows"][0]["seconds"]
    table = markdown_table(
        ["products deleted", "delete receivers connected", "queries", "median time", "× none"],
        rows,
    )
    return (
        "### Deleting products: what a delete receiver costs (step 07)\n\n"
        f"{table}\n\n`Product.objects.filter(pk__in=…).delete()`, each product with two "
        "orders and a tag, in a transaction rolled back after each run; BEGIN and COMMIT not "
        "counted. With no delete receiver on `Order`, Django deletes a product's orders "
        "with one `DELETE … WHERE product_id IN (…)`; with one, it first SELECTs them to send "
        "a signal per row. Step 07's receivers clear each product's tags, four queries a "
        "product (read the tags, delete the links, lock the tags, recount them): "
        f"{largest['size']:,} products take {slowdown:.0f} times as long."
    )


CAPSTONE_RUNS = [
    (7, "step 07: stock taken by pre_save and post_save receivers", {}),
    (8, "step 08: Order.confirm(), then order_confirmed to the sales log", {}),
    (8, "step 08, nothing listening to order_confirmed", {"without_listeners": True}),
]


def capstone_section(settings):
    rounds, repetitions = settings.capstone
    medians = {label: [] for _number, label, _options in CAPSTONE_RUNS}
    for _round in range(rounds):
        # One process per run, alternating, so that drift hits every run alike.
        for number, label, options in CAPSTONE_RUNS:
            result = measure(
                number, "confirmation_seconds", {"repetitions": repetitions, **options}
            )
            medians[label].append(result["median"])
    baseline = statistics.median(medians[CAPSTONE_RUNS[0][1]])
    rows = []
    for _number, label, _options in CAPSTONE_RUNS:
        median = statistics.median(medians[label])
        spread = f"{microseconds(min(medians[label]))} to {microseconds(max(medians[label]))}"
        rows.append([label, microseconds(median), spread, f"{median / baseline:.2f}"])
    queries = {number: measure(number, "queries") for number in (7, 8)}
    receivers = {number: measure(number, "project_receivers") for number in (7, 8)}
    headers = ["confirmation through the view", "median", "rounds' medians", "× step 07"]
    table = markdown_table(headers, rows)
    return (
        "### A signal or a call: confirming an order in step 07 and step 08\n\n"
        f"{table}\n\n{rounds} rounds of {repetitions} confirmations each, through the test "
        "client, one process per run, the runs alternating; the median of the rounds' "
        f"medians. Queries per confirmation, BEGIN and COMMIT aside: {queries[7]['work']} in "
        f"step 07, {queries[8]['work']} in step 08 (one of them the sales log's task). Receivers "
        f"the project connects (`make receivers-N`): {len(receivers[7])} in step 07, "
        f"{len(receivers[8])} in step 08."
    )


def milliseconds(seconds):
    return f"{seconds * 1e3:,.1f} ms"


def microseconds(seconds):
    return f"{seconds * 1e6:,.0f} µs"


def nanoseconds(seconds):
    return f"{seconds * 1e9:,.0f} ns"


def load_section(settings):
    rows, notes = [], []
    for database_name in settings.databases:
        try:
            with database_for(database_name) as databases:
                for number in settings.load_steps:
                    rows += load_rows(number, database_name, databases(number), settings)
        except ServerProgramsMissing:
            notes.append(f"{database_name}: skipped, its server programs are not installed.")
    table = markdown_table(
        ["step", "database", "threads", "confirmed", "409", "per second", "lost updates"], rows
    )
    return (
        "### Concurrent confirmations against `runserver`\n\n"
        + table
        + f"\n\nEach row: {settings.orders_per_row} orders of 1 item for a stock of "
        f"{stock_for(settings)}, posted by the client threads; lost updates = stock taken "
        "minus confirmations answered 200." + "".join(f"\n\n{note}" for note in notes)
    )


def stock_for(settings):
    return settings.orders_per_row * 3 // 4


class database_for:
    """A context manager giving, per step, a fresh database of the named kind."""

    def __init__(self, name):
        self.name = name

    def __enter__(self):
        if self.name == "SQLite":
            self.folder = tempfile.TemporaryDirectory(prefix="bench-")
            return lambda number: Path(self.folder.name) / f"step{number}.sqlite3"
        self.server = throwaway_server()
        base_url = self.server.__enter__()
        return lambda number: create_postgres_database(base_url, f"bench_step{number}")

    def __exit__(self, *exc_info):
        if self.name == "SQLite":
            self.folder.cleanup()
        else:
            self.server.__exit__(*exc_info)
        return False


def create_postgres_database(base_url, name):
    import psycopg

    with psycopg.connect(f"{base_url}/postgres", autocommit=True) as connection:
        connection.execute(f"CREATE DATABASE {name}")
    return f"{base_url}/{name}"


def load_rows(number, database_name, database, settings):
    stock = stock_for(settings)
    batches = measure(
        number,
        "prepare_load",
        {
            "batches": len(settings.thread_counts),
            "orders_per_batch": settings.orders_per_row,
            "stock": stock,
        },
        database=database,
    )
    port = free_port()
    with running_server(number, database, port):
        results = [
            confirm_concurrently(port, batch["orders"], threads)
            for threads, batch in zip(settings.thread_counts, batches, strict=True)
        ]
    final = measure(number, "stock", {"products": [b["product"] for b in batches]}, database)
    rows = []
    for threads, batch, (statuses, seconds) in zip(
        settings.thread_counts, batches, results, strict=True
    ):
        confirmed = statuses.count(200)
        lost = (stock - final[str(batch["product"])]) - confirmed
        rows.append(
            [
                f"{number:02d}",
                database_name,
                threads,
                confirmed,
                statuses.count(409),
                f"{confirmed / seconds:,.0f}",
                lost,
            ]
        )
    return rows


class running_server:
    """``manage.py runserver`` on 127.0.0.1 in a subprocess, stopped on the way out."""

    def __init__(self, number, database, port, extra_environment=None):
        self.step, self.database, self.port = get_step(number), str(database), port
        self.environment = {
            **os.environ,
            **(extra_environment or {}),
            "DJANGO_SETTINGS_MODULE": "my_shop.settings",
        }
        if self.database.startswith("postgres"):
            self.environment["DATABASE_URL"] = self.database
        else:
            self.environment.pop("DATABASE_URL", None)
            self.environment["SQLITE_PATH"] = self.database

    def __enter__(self):
        self.process = subprocess.Popen(
            [sys.executable, "manage.py", "runserver", "--noreload", f"127.0.0.1:{self.port}"],
            cwd=self.step.path,
            env=self.environment,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_until_up(self.port)
        return self

    def __exit__(self, *exc_info):
        self.process.terminate()
        self.process.wait(timeout=10)
        return False


def confirm_concurrently(port, order_ids, threads):
    """POST a confirmation for every order from ``threads`` clients; return statuses, seconds."""
    pending = queue.Queue()
    for order_id in order_ids:
        pending.put(order_id)
    statuses, lock = [], threading.Lock()
    start = threading.Barrier(threads + 1)

    def client():
        token = csrf_token(port)
        start.wait()
        while True:
            try:
                order_id = pending.get_nowait()
            except queue.Empty:
                return
            status = post_confirmation(port, order_id, token)
            with lock:
                statuses.append(status)

    workers = [threading.Thread(target=client) for _ in range(threads)]
    for worker in workers:
        worker.start()
    start.wait()
    began = time.perf_counter()
    for worker in workers:
        worker.join(timeout=120)
    return statuses, time.perf_counter() - began


def csrf_token(port):
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/admin/login/", timeout=10) as page:
        cookie = page.headers.get("Set-Cookie", "")
    return cookie.split("csrftoken=", 1)[1].split(";", 1)[0]


def post_confirmation(port, order_id, token):
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/orders/{order_id}/confirm/",
        method="POST",
        headers={"Cookie": f"csrftoken={token}", "X-CSRFToken": token},
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code
