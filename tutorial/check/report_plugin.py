"""A pytest plugin for ``tutorial check``: one JSON line per event, read back by check.py.

Loaded with ``-p tutorial.check.report_plugin``; appends to the file named by CHECK_REPORT_FILE.
CHECK_PROJECT names the learner's folder, so that an error raised in their code can be
traced back to their own file and line. CHECK_DATABASE_VENDOR, when set, is the database
the project's settings must choose (``postgresql`` for ``check --postgres``).
"""

import json
import os
import re
import time
import traceback
from pathlib import Path

import pytest

docstrings = {}


def pytest_configure(config):
    """Know every marker check leaves tests out by, also in a step that uses none of them."""
    from tutorial.check.command import LEFT_OUT_REASONS, SLOW, SLOW_REASON

    for marker, reason in LEFT_OUT_REASONS.items():
        config.addinivalue_line("markers", f"{marker}: left out by check, {reason}")
    config.addinivalue_line("markers", f"{SLOW}: left out by check --quick, {SLOW_REASON}")


def write(record):
    with open(os.environ["CHECK_REPORT_FILE"], "a", encoding="utf-8") as report:
        report.write(json.dumps(record) + "\n")


@pytest.hookimpl(tryfirst=True)
def pytest_load_initial_conftests(early_config, parser, args):
    """Set Django up before pytest-django does, which rewords the errors it meets.

    A project that cannot import stops the run here, with the error and where in the
    learner's files it was raised; check.py reports it in one line.
    """
    try:
        import django

        django.setup()
        from django.urls import get_resolver

        get_resolver().url_patterns  # noqa: B018 - imports every view module
        from django.db import connection
    except BaseException as error:  # a settings module may even call sys.exit()
        write({"kind": "import_error", **where_raised(error)})
        raise pytest.UsageError("the project fails to import") from None
    expected = os.environ.get("CHECK_DATABASE_VENDOR")
    if expected and connection.vendor != expected:
        write({"kind": "wrong_database", "vendor": connection.vendor})
        raise pytest.UsageError(f"the project's database is {connection.vendor}")


def where_raised(error):
    """The error's type and message, and the last place in the learner's files it passed."""
    if isinstance(error, SyntaxError):
        message, file, line = error.msg, error.filename, error.lineno
    else:
        project = os.environ["CHECK_PROJECT"]
        frames = traceback.extract_tb(error.__traceback__)
        ours = [frame for frame in frames if frame.filename.startswith(project)]
        message = str(error)
        file, line = (ours[-1].filename, ours[-1].lineno) if ours else (None, None)
    return {"type": type(error).__name__, "message": message, "file": file, "line": line}


def pytest_itemcollected(item):
    docstrings[item.nodeid] = (getattr(item.obj, "__doc__", None) or "").strip()


def pytest_collection_finish(session):
    """What will run, and which of it is slow, so that check can say so as it goes."""
    slow = [item.nodeid for item in session.items if item.get_closest_marker("slow")]
    write({"kind": "collected", "count": len(session.items), "slow": slow})


started = {}


def pytest_runtest_logstart(nodeid, location):
    started[nodeid] = time.monotonic()
    write({"kind": "started", "nodeid": nodeid})


def pytest_runtest_logfinish(nodeid, location):
    """After setup, call and teardown: the test's records are all written."""
    seconds = time.monotonic() - started.pop(nodeid)
    write({"kind": "finished", "nodeid": nodeid, "seconds": round(seconds, 2)})


def pytest_deselected(items):
    for item in items:
        markers = sorted({mark.name for mark in item.iter_markers()})
        write({"kind": "deselected", "nodeid": item.nodeid, "markers": markers})


def pytest_collectreport(report):
    if report.failed:
        write({"kind": "collect_error", "nodeid": report.nodeid, "message": crash_message(report)})


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    report.learner_location = learner_location(call.excinfo) if call.excinfo else ""
    return report


def learner_location(excinfo):
    """The last frame of the traceback in the learner's own files, as "path, line N"."""
    project = Path(os.environ["CHECK_PROJECT"])
    location = ""
    for entry in excinfo.traceback:
        path = Path(str(entry.path))
        if project in path.parents:
            location = f"{path.relative_to(project).as_posix()}, line {entry.lineno + 1}"
    return location


def pytest_runtest_logreport(report):
    if report.skipped:  # pytest.skip(), a skip marker, or an expected failure (xfail)
        write({"kind": "skipped", "nodeid": report.nodeid})
        return
    # A test passes when its call passes; setup or teardown only report when they fail.
    if report.when == "call" or report.failed:
        write(
            {
                "kind": "test",
                "nodeid": report.nodeid,
                "passed": report.passed,
                "doc": docstrings.get(report.nodeid, ""),
                "message": crash_message(report) if report.failed else "",
                "statement": failing_statement(report) if report.failed else "",
                "location": getattr(report, "learner_location", ""),
            }
        )


def crash_message(report):
    crash = getattr(report.longrepr, "reprcrash", None)
    if crash is not None:
        return crash.message
    if not report.longrepr:
        return ""
    # A collection error's last line, without the "E   " that pytest puts before it.
    return re.sub(r"^E\s+", "", str(report.longrepr).strip().splitlines()[-1])


def failing_statement(report):
    """The line of the test itself that failed, which pytest marks with '>'."""
    entries = getattr(getattr(report.longrepr, "reprtraceback", None), "reprentries", [])
    lines = getattr(entries[0], "lines", []) if entries else []
    marked = next((index for index, line in enumerate(lines) if line.startswith(">")), None)
    if marked is None:
        return ""
    statement = lines[marked][1:].strip()
    if statement.startswith("assert "):
        return statement.removesuffix(", (")  # its message follows on the next lines
    # A call spread over lines: its other lines follow, up to pytest's "E" lines.
    for line in lines[marked + 1 :]:
        if line.startswith("E") or not line.strip():
            break
        glued = statement.endswith("(") or line.strip().startswith(")")
        statement += line.strip() if glued else " " + line.strip()
    return statement.replace(",)", ")")
