"""README 08's "Get here" items, applied in their order to step 07's project.

After each item the project must pass `check` and `makemigrations --check`, as a learner
who stops there would run them: an order that breaks halfway (a field removed while the
admin still lists it) fails here.
"""

import functools
import os
import re
import sys

from tutorial.course.changed_files import changed_files
from tutorial.course.diff import grouped
from tutorial.course.start import copy_project
from tutorial.course.steps import get_step
from tutorial.preload import client

STEP = get_step(8)
# Each item of README 08's "Get here", in order: a name it must mention, and the files
# of step 08 it brings. my_shop/settings.py comes with the sales app (INSTALLED_APPS),
# and brings item 5's MIDDLEWARE and LOGGING lines early: check imports no middleware.
ITEMS = [
    ("products/stock.py", ["products/stock.py", "products/signals.py"]),
    (
        "TagQuerySet",
        [
            "products/models.py",
            "products/views.py",
            "products/admin.py",
            "products/migrations/0003_remove_tag_product_count.py",
            "fixtures/demo.json",
        ],
    ),
    (
        "confirm()",
        [
            "orders/models.py",
            "orders/signals.py",
            "orders/views.py",
            "orders/admin.py",
            "orders/templates/admin/orders/order/change_form.html",
        ],
    ),
    ("sales", ["sales/", "my_shop/settings.py"]),
    ("request_log/middleware.py", ["request_log/"]),
]
CHECKS = (
    "import django; django.setup(); from django.core.management import call_command; "
    "call_command('check'); call_command('makemigrations', check=True, dry_run=True)"
)
LAST_ITEM = (
    "import django; django.setup(); from django.core.management import call_command; "
    "call_command('migrate', verbosity=0); call_command('loaddata', 'demo', verbosity=0); "
    "call_command('record_missing_sales')"
)


def readme_items():
    readme = (STEP.path / "README.md").read_text()
    section = readme.split("## Get here from the previous step", 1)[1].split("\n## ", 1)[0]
    return re.split(r"^\d+\. ", section, flags=re.MULTILINE)[1:]


@functools.cache
def code_changes():
    """Step 08's code changes from step 07, compared once for all the items."""
    changes = changed_files(STEP.previous().path, STEP.path)
    return grouped(changes, with_readme=False)["code"]


def files_of(prefixes):
    return {path: status for path, status in code_changes().items() if path.startswith(prefixes)}


def run_in(project, code):
    environment = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "my_shop.settings",
        "SQLITE_PATH": str(project / "db.sqlite3"),
    }
    environment.pop("DATABASE_URL", None)
    return client.run(
        [sys.executable, "-c", code], cwd=project, env=environment, capture_output=True, text=True
    )


def test_the_items_name_what_they_bring_in_the_readme_s_order():
    items = readme_items()

    assert len(items) == len(ITEMS) + 1, "the last item migrates"
    for (name, _files), text in zip(ITEMS, items, strict=False):
        assert name in text, f"README 08, Get here: {name!r} is not in the item {text[:60]!r}"


def test_the_items_bring_every_file_of_the_step():
    brought = set().union(*(files_of(tuple(prefixes)) for _name, prefixes in ITEMS))

    assert brought == set(code_changes())


def test_after_each_item_the_project_passes_check_and_makemigrations(tmp_path):
    project = tmp_path / "learner"
    copy_project(STEP.previous().path, project)

    for number, (_name, prefixes) in enumerate(ITEMS, start=1):
        for path, status in files_of(tuple(prefixes)).items():
            if status == "removed":
                (project / path).unlink()
            else:
                (project / path).parent.mkdir(parents=True, exist_ok=True)
                (project / path).write_bytes((STEP.path / path).read_bytes())
        checked = run_in(project, CHECKS)
        assert checked.returncode == 0, f"after item {number}: {checked.stderr[-2000:]}"

    finished = run_in(project, LAST_ITEM)
    assert finished.returncode == 0, finished.stderr[-2000:]
    assert "Recorded the sale of 1 order(s)." in finished.stdout
