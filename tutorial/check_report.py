"""A pytest plugin for ``tutorial check``: one JSON line per test, read back by check.py.

Loaded with ``-p tutorial.check_report``; writes to the file named by CHECK_REPORT_FILE.
"""

import json
import os


def write(record):
    with open(os.environ["CHECK_REPORT_FILE"], "a", encoding="utf-8") as report:
        report.write(json.dumps(record) + "\n")


def pytest_deselected(items):
    for item in items:
        write({"kind": "deselected", "nodeid": item.nodeid})


def pytest_collectreport(report):
    if report.failed:
        write({"kind": "collect_error", "nodeid": report.nodeid, "message": crash_message(report)})


docstrings = {}


def pytest_itemcollected(item):
    docstrings[item.nodeid] = (getattr(item.obj, "__doc__", None) or "").strip()


def pytest_runtest_logreport(report):
    if report.when == "call" or report.failed:
        doc = docstrings.get(report.nodeid, "")
        write(
            {
                "kind": "test",
                "nodeid": report.nodeid,
                "when": report.when,
                "outcome": report.outcome,
                "doc": doc,
                "message": crash_message(report) if report.failed else "",
            }
        )


def crash_message(report):
    crash = getattr(report.longrepr, "reprcrash", None)
    if crash is not None:
        return crash.message
    return str(report.longrepr).strip().splitlines()[-1] if report.longrepr else ""
