"""`python -m tutorial serve N` on a scratch copy of a step: it never sees a real db.sqlite3."""

import contextlib
import http.cookiejar
import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from conftest import Terminal, copy_of_step

from tutorial.course.steps import REPO_ROOT, get_step
from tutorial.running.browser import CHROMIUM, CHROMIUM_FLAGS, SCREENSHOTS_VARIABLE
from tutorial.running.processes import free_port, read_until, wait_until_up


@pytest.fixture
def scratch_steps(tmp_path):
    copy_of_step(2, tmp_path)
    return tmp_path


def serve_until_ready(steps_dir, port, step=2, options=(), timeout=20, python=sys.executable):
    """Start `serve N`, wait for /admin/login/ to answer; return the process."""
    # COLUMNS emptied: the trace's tables are read whole, whatever width the shell exports.
    env = {**os.environ, "TUTORIAL_STEPS_DIR": str(steps_dir), "COLUMNS": ""}
    process = subprocess.Popen(
        [python, "-m", "tutorial", "serve", str(step), "--port", str(port), *options],
        cwd=REPO_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
        # Ctrl-C must work as in a terminal, even where this test runs with SIGINT ignored
        # (a job started in the background by a script inherits that).
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    try:
        wait_until_up(port, timeout)
    except TimeoutError as error:
        pytest.fail(f"serve {step}: {error}:\n{stop(process)}")
    return process


def stop(process):
    """Ctrl-C, as a learner stops the server; fail with what still runs if it does not stop.

    Returns what the server printed and no read_until() took yet: read through the same
    buffer, which communicate() would skip.
    """
    os.killpg(process.pid, signal.SIGINT)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        still_running = subprocess.run(
            ["ps", "-o", "pid,ppid,stat,wchan:20,args", "-g", str(process.pid)],
            capture_output=True,
            text=True,
        ).stdout
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        pytest.fail(f"Ctrl-C did not stop the server:\n{still_running}\n{process.stdout.read()}")
    return process.stdout.read()


def product_names(database):
    with sqlite3.connect(database) as connection:
        return [name for (name,) in connection.execute("SELECT name FROM products_product")]


def test_serve_keeps_a_learners_data_until_reset(scratch_steps):
    database = scratch_steps / "02_models" / "db.sqlite3"
    port = free_port()

    process = serve_until_ready(scratch_steps, port)
    first_output = stop(process)
    assert "A new steps/02_models/db.sqlite3: migrated with the demo data" in first_output
    assert f"http://127.0.0.1:{port}/" in first_output
    assert "Espresso beans" in product_names(database)

    with sqlite3.connect(database) as connection:
        connection.execute(
            "INSERT INTO products_product (name, description, price, quantity)"
            " VALUES ('Learner teapot', '', 20, 1)"
        )
    process = serve_until_ready(scratch_steps, port)
    second_output = stop(process)
    assert "A new" not in second_output
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


RUNSERVER_READY = "Quit the server with CONTROL-C."


@pytest.mark.parametrize(
    ("target", "ready_text"),
    [
        (["step-3"], RUNSERVER_READY),
        (["step-3", "ASGI=1"], "Application startup complete."),
        (["step-3", "TRACE=1"], RUNSERVER_READY),
        (["step-3", "TOOLBAR=1"], RUNSERVER_READY),
        (["step-6"], RUNSERVER_READY),
        (["lab"], "Use Control-C to stop this server"),
    ],
    ids=" ".join,
)
def test_ctrl_c_on_a_terminal_stops_make_quietly(tmp_path, target, ready_text):
    arguments = target
    if target[0].startswith("step-"):
        copy_of_step(int(target[0][-1]), tmp_path)
        arguments = [*target, f"PORT={free_port()}"]

    environment = {"TUTORIAL_STEPS_DIR": str(tmp_path), "COLUMNS": ""}
    environment["BROWSER"] = "true"  # JupyterLab opens no browser: `true` does nothing
    terminal = Terminal(["make", *arguments], environment)
    terminal.read_until(ready_text)
    started = all_descendants(terminal.pid)
    terminal.ctrl_c()
    output = terminal.seen

    assert "Traceback" not in output
    assert "KeyboardInterrupt" not in output
    assert "make: ***" not in output, "make shows no error"
    time.sleep(0.5)
    assert [pid for pid in started if is_running(pid)] == [], output


@pytest.mark.parametrize(
    ("command", "ready_text"),
    [
        (["serve", "3"], RUNSERVER_READY),
        (["serve", "6"], RUNSERVER_READY),
        (["lab"], "Use Control-C to stop this server"),
        (["check", "3", "{copy}", "--watch"], "Watching for changes"),
    ],
    ids=lambda value: " ".join(value) if isinstance(value, list) else "",
)
def test_sigterm_stops_a_long_running_command_and_all_it_started(tmp_path, command, ready_text):
    """What `kill`, `timeout`, a process manager or an IDE's stop button sends."""
    copy = copy_of_step(int(command[1]), tmp_path) if command[0] != "lab" else tmp_path
    arguments = [argument.format(copy=copy) for argument in command]
    if command[0] == "serve":
        arguments += ["--port", str(free_port())]
    environment = {"TUTORIAL_STEPS_DIR": str(tmp_path), "COLUMNS": "", "BROWSER": "true"}
    terminal = Terminal([sys.executable, "-m", "tutorial", *arguments], environment)
    terminal.read_until(ready_text)
    started = all_descendants(terminal.pid)
    returncode = terminal.terminate()

    assert "Traceback" not in terminal.seen
    assert returncode in (0, 130)
    time.sleep(0.5)
    assert [pid for pid in started if is_running(pid)] == [], terminal.seen


def test_sigterm_stops_make_test_and_every_suite_it_started():
    """The runner, its preloaded interpreter, and the suites forked from it: at once,
    not once step 06's suite (half a minute, with its workers) has run to its end."""
    terminal = Terminal([sys.executable, "-m", "tutorial", "test", "6"], {"COLUMNS": ""})
    deadline = time.monotonic() + 60
    while not any("pytest" in command_line(pid) for pid in all_descendants(terminal.pid)):
        assert time.monotonic() < deadline, f"no suite started:\n{terminal.seen}"
        time.sleep(0.05)
    started = all_descendants(terminal.pid)
    sent = time.monotonic()
    returncode = terminal.terminate()

    assert time.monotonic() - sent < 10, "the suite ran on to its end"
    assert returncode == 130
    assert "Interrupted: the suites still waiting were not run." in terminal.seen
    assert "Traceback" not in terminal.seen
    time.sleep(0.5)
    assert [pid for pid in started if is_running(pid)] == [], terminal.seen


def status_of(url):
    with urllib.request.urlopen(url) as response:
        return response.status


def post_with_csrf_token(base_url, form_page, path, fields=None):
    """POST as a browser would: with the CSRF cookie and token that the form page gave."""
    cookies = http.cookiejar.CookieJar()
    browser = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(cookies))
    with browser.open(base_url + form_page) as page:
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.read().decode())
    fields = {**(fields or {}), "csrfmiddlewaretoken": token.group(1)}
    data = urllib.parse.urlencode(fields).encode()
    request = urllib.request.Request(base_url + path, data=data, headers={"Referer": base_url})
    with browser.open(request) as response:
        return response.status


def test_serve_asgi_logs_each_concurrent_request_with_its_own_path(tmp_path):
    """Step 4 under uvicorn: request_started sends scope, and requests overlap in time."""
    copy_of_step(4, tmp_path)
    steps_dir = tmp_path
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    paths = ["/orders/", "/admin/login/", "/orders/?page=2", "/admin/login/?next=/admin/"] * 4

    process = serve_until_ready(steps_dir, port, step=4, options=["--asgi"])
    try:
        confirmed = post_with_csrf_token(base_url, "/orders/", "/orders/2/confirm/")
        with ThreadPoolExecutor(max_workers=8) as pool:
            statuses = list(pool.map(status_of, [base_url + path for path in paths]))
    finally:
        output = stop(process)

    assert "(uvicorn, through my_shop/asgi.py)" in output
    assert confirmed == 200
    assert "Quantity updated for Pour-over kettle. New quantity: 5" in output
    assert statuses == [200] * len(paths)
    logged = re.findall(r"request_log.signals: (GET|POST) (\S+) finished in [\d.]+ ms", output)
    assert ("POST", "/orders/2/confirm/") in logged
    # One line per request, each with its own path: no request read another's start.
    served = [("GET", path.partition("?")[0]) for path in paths]
    assert sorted(line for line in logged if line[0] == "GET") == sorted(
        served + [("GET", "/admin/login/"), ("GET", "/orders/")]
    )


def test_runserver_loads_the_apps_in_two_processes(tmp_path):
    """Both call AppConfig.ready(): the parent, which only restarts, and the child it starts.

    The child watches the files and serves; a change ends it, and the parent, the same
    process throughout, starts a new child, which loads the apps again.
    """
    project = copy_of_step(3, tmp_path)
    apps_file = project / "products" / "apps.py"
    calls = tmp_path / "ready_calls.txt"
    apps_file.write_text(
        apps_file.read_text().replace(
            "    def ready(self):\n",
            "    def ready(self):\n"
            f"        with open({str(calls)!r}, 'a') as calls:\n"
            "            calls.write(f'{__import__(\"os\").getpid()}\\n')\n",
        )
    )
    environment = {**os.environ, "SQLITE_PATH": str(tmp_path / "scratch.sqlite3")}
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}"],
        cwd=project,
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        wait_until_up(port)
        first_two = wait_for_ready_calls(calls, 2)
        after_the_edit = edit_until_reloaded(apps_file, calls)
        wait_until_up(port)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=10)

    assert len(first_two) == 2, "one ready() per process, and runserver runs two"
    assert str(server.pid) in first_two, "the parent loads the apps too"
    assert str(server.pid) in after_the_edit and after_the_edit > first_two, "a new child"


def edit_until_reloaded(apps_file, calls, timeout=30):
    """Edit a file the child watches until a new child loads the apps.

    The child's reloader takes its first look at the files' times a moment after
    ready(): an edit made before that look is part of what it first sees, and goes
    unnoticed. Under load that moment comes late, so edit again every two seconds.
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        apps_file.write_text(apps_file.read_text() + "\n# edited\n")
        if len(wait_for_ready_calls(calls, 3, timeout=2)) >= 3:
            break
    return ready_pids(calls)


def wait_for_ready_calls(calls, count, timeout=20):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and len(ready_pids(calls)) < count:
        time.sleep(0.1)
    return ready_pids(calls)


def ready_pids(calls):
    return set(calls.read_text().split()) if calls.exists() else set()


def test_step_6_serves_with_a_worker_and_ctrl_c_stops_both(tmp_path):
    copy_of_step(6, tmp_path)
    steps_dir = tmp_path
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"

    process = serve_until_ready(steps_dir, port, step=6)
    started = all_descendants(process.pid)
    try:
        comment = {"name": "Ada", "email": "ada@example.com", "body": "Lovely kettle."}
        posted = post_with_csrf_token(base_url, "/blog/1/", "/blog/1/", comment)
        emailed = read_until(process, "Subject: New comment")
    finally:
        output = stop(process)

    assert posted == 200, "the comment is answered, after its redirect"
    assert "worker | Subject: New comment" in emailed
    assert len(started) >= 3, f"runserver (two processes) and the worker: {started}"
    left = [pid for pid in started if is_running(pid)]
    assert left == [], f"Ctrl-C left these running:\n{output}"


@pytest.mark.redis
def test_step_6_on_redis_serves_with_an_rq_worker_and_ctrl_c_stops_all(tmp_path):
    """REDIS_URL=… make step-6: RQ's worker, not db_worker, and Ctrl-C stops it and its horse."""
    copy_of_step(6, tmp_path)
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    assert os.environ.get("REDIS_URL"), "run with make test-redis, which starts a Redis server"

    process = serve_until_ready(tmp_path, port, step=6)
    try:
        comment = {"name": "Ada", "email": "ada@example.com", "body": "Lovely kettle."}
        posted = post_with_csrf_token(base_url, "/blog/1/", "/blog/1/", comment)
        emailed = read_until(process, "Subject: New comment")
        started = all_descendants(process.pid)
        commands = [command_line(pid) for pid in started]
    finally:
        output = stop(process)

    assert posted == 200
    assert "worker | Subject: New comment" in emailed
    assert any("manage.py rqworker" in command for command in commands), commands
    assert "db_worker" not in output
    left = [pid for pid in started if is_running(pid)]
    assert left == [], f"Ctrl-C left these running:\n{output}"


def command_line(pid):
    try:
        return Path(f"/proc/{pid}/cmdline").read_text().replace("\0", " ")
    except FileNotFoundError:
        return ""


def all_descendants(pid):
    listed = subprocess.run(["ps", "-e", "-o", "pid=,ppid="], capture_output=True, text=True)
    children = {}
    for line in listed.stdout.splitlines():
        child, parent = map(int, line.split())
        children.setdefault(parent, []).append(child)
    found, waiting = [], [pid]
    while waiting:
        for child in children.get(waiting.pop(), []):
            found.append(child)
            waiting.append(child)
    return found


def is_running(pid):
    """Alive, and not a zombie: an exited child that no parent has reaped yet is gone."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state != "Z"


def test_serve_with_trace_prints_each_requests_signals_under_its_line(tmp_path):
    copy_of_step(3, tmp_path)
    steps_dir = tmp_path
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"

    process = serve_until_ready(steps_dir, port, step=3, options=["--trace"])
    seen = ""
    try:
        confirmed = post_with_csrf_token(base_url, "/orders/", "/orders/2/confirm/")
        # The trace is printed once the server has closed the response, after answering.
        seen = read_until(process, "orders.signals.order_confirmed")
    finally:
        output = seen + stop(process)

    assert confirmed == 200
    after_the_post = output[output.index('"POST /orders/2/confirm/ HTTP/1.1" 200') :]
    assert "orders.signals.order_confirmed" in after_the_post
    assert "→ products.signals.update_quantity_on_order_confirmation" in after_the_post
    assert "post_init" not in output, "the noisy signals are left out"


# The toolbar's "Signals sent" panel, in headless Chromium: make test-browser runs these.
SCREENSHOTS = os.environ.get(SCREENSHOTS_VARIABLE)


@pytest.fixture
def browser_page():
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"Chromium not found at {CHROMIUM}: install it with `apt-get install chromium`")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_FLAGS
        )
        yield chromium.new_page(viewport={"width": 1280, "height": 800})
        chromium.close()


def signals_sent_by_the_post(page):
    """The toolbar's history panel, switched to the POST, then the "Signals sent" panel."""
    from playwright.sync_api import expect

    page.click("#djDebugPanelList a.HistoryPanel")
    page.wait_for_load_state("networkidle")  # the panel loads, then refreshes its rows
    post = page.locator("#HistoryPanel tbody tr", has_text="POST").first
    switch = post.get_by_role("button", name="Switch")
    post_id = switch.get_attribute("data-request-id")
    switch.click()
    expect(page.locator("#djDebug")).to_have_attribute("data-request-id", post_id, timeout=15000)
    page.click("#djDebugPanelList a.SignalsSentPanel")
    panel = page.locator("#SignalsSentPanel")
    panel.locator("table").wait_for()
    return panel


@contextlib.contextmanager
def served_with_the_toolbar(steps_dir, step):
    """A copy of the step served with `--toolbar`; yields its address."""
    copy_of_step(step, steps_dir)
    port = free_port()
    process = serve_until_ready(steps_dir, port, step=step, options=["--toolbar"])
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        stop(process)


@pytest.mark.browser
def test_the_signals_sent_panel_shows_a_confirmations_signals(tmp_path, browser_page):
    with served_with_the_toolbar(tmp_path, step=3) as address:
        browser_page.goto(f"{address}/orders/")
        browser_page.get_by_role("button", name="Confirm").first.click()
        browser_page.get_by_text("confirmed successfully").wait_for()
        shown = signals_sent_by_the_post(browser_page).inner_text()
        if SCREENSHOTS:
            browser_page.screenshot(path=Path(SCREENSHOTS) / "signals-sent-panel.png")

    assert "orders.signals.order_confirmed" in shown
    assert "products.signals.update_quantity_on_order_confirmation" in shown
    assert "products/signals.py:" in shown, "the receiver's file and line"
    assert " ms" in shown, "the time it took"
    assert "request_started" not in shown, "sent before the first middleware"


@pytest.mark.browser
def test_the_signals_sent_panel_shows_the_task_a_comment_enqueued(tmp_path, browser_page):
    with served_with_the_toolbar(tmp_path, step=6) as address:
        browser_page.goto(f"{address}/blog/1/")
        form = browser_page.locator("#comment-form")
        form.locator("[name=name]").fill("Ada")
        form.locator("[name=email]").fill("ada@example.com")
        form.locator("[name=body]").fill("Lovely kettle.")
        form.get_by_role("button", name="Post comment").click()
        browser_page.get_by_text("Thank you").wait_for()
        shown = signals_sent_by_the_post(browser_page).inner_text()

    assert "django.db.models.signals.post_save" in shown
    assert "blog.signals.send_comment_notification" in shown
    assert "task_enqueued" in shown, "sent on commit, inside the request"
    assert "Tasks enqueued" in shown


def test_the_toolbars_settings_keep_geodjango_s_library_lookups_out():
    """ctypes finds GEOS and GDAL by running gcc and ldconfig: no step uses them."""
    script = (
        "import sys, django; django.setup()\n"
        "import debug_toolbar.panels.sql.tracking\n"
        "print(sorted(m for m in sys.modules if m.startswith(('django.contrib.gis.geos',"
        " 'django.contrib.gis.gdal'))))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=get_step(3).path,
        env={
            **os.environ,
            "PYTHONPATH": str(REPO_ROOT),
            "DJANGO_SETTINGS_MODULE": "tutorial.in_step.toolbar_settings",
        },
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
