"""``python -m tutorial test-browser``: the steps' browser tests, in headless Chromium.

They never pass silently: without Chromium this says so and exits non-zero, and a
browser test that skips counts as a failure.
"""

import os
import shutil
import sys

from tutorial.course.steps import REPO_ROOT, all_steps
from tutorial.running.suites import Suite, run_test_suites, step_suite

CHROMIUM = os.environ.get("CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
# Headless, and quiet: no connections to update or sync services. (The steps' own browser
# tests carry the same list: a step never imports the course.)
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
NOT_RUN = 3
# The README's picture of the toolbar's "Signals sent" panel, which the browser tests take.
SCREENSHOTS = REPO_ROOT / "docs" / "images"
# Set for the repository's browser tests: the folder where they save the screenshots.
SCREENSHOTS_VARIABLE = "TUTORIAL_SCREENSHOTS"


def register(subparsers):
    parser = subparsers.add_parser(
        "test-browser", help="run the pages' browser tests in headless Chromium (steps 3 on)"
    )
    parser.add_argument(
        "--screenshots",
        action="store_true",
        help=f"save the README's screenshots in {SCREENSHOTS.relative_to(REPO_ROOT)}",
    )
    parser.set_defaults(run=test_browser)


def test_browser(args):
    if not os.path.exists(CHROMIUM):
        print(
            f"Chromium not found at {CHROMIUM}: install it with `sudo apt-get install chromium`.\n"
            "The browser tests did NOT run.",
            file=sys.stderr,
        )
        return NOT_RUN
    steps = [step for step in all_steps() if (step.path / "tests" / "test_browser.py").exists()]
    suites = [step_suite(step, ["-m", "browser", "-rs"]) for step in steps]
    for suite in suites:
        suite.label += " in Chromium"
    # The toolbar's panel on served steps; with --screenshots, pictures for the README.
    screenshots = {SCREENSHOTS_VARIABLE: str(SCREENSHOTS)} if args.screenshots else {}
    suites.append(
        Suite("repository tests/ in Chromium", REPO_ROOT, ["tests", "-m", "browser"], screenshots)
    )
    for suite in suites:
        suite.fail_on_skip = True
    return run_test_suites(suites)
