"""Every notebook runs without error and prints what its stored outputs say it prints.

Standard error is left out of the comparison: it holds log lines and tracebacks whose
file names (a kernel's temporary cell files) change on every run.
"""

from concurrent.futures import ThreadPoolExecutor

import nbformat
import pytest

from tutorial.notebooks import execute, text_outputs
from tutorial.steps import NOTEBOOKS_DIR, all_steps

NOTEBOOKS = sorted(NOTEBOOKS_DIR.glob("*.ipynb"))
COMPARED = ["stdout", "results", "errors"]


@pytest.fixture(scope="module")
def executed():
    with ThreadPoolExecutor(max_workers=3) as pool:
        return dict(zip(NOTEBOOKS, pool.map(execute, NOTEBOOKS), strict=True))


def test_there_is_one_notebook_per_step():
    prefixes = sorted(path.name[:2] for path in NOTEBOOKS)

    assert prefixes == [f"{step.number:02d}" for step in all_steps()]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: path.stem)
def test_notebook_reproduces_its_stored_outputs(executed, path):
    stored = text_outputs(nbformat.read(path, as_version=4))
    fresh = text_outputs(executed[path])

    assert [cell["errors"] for cell in fresh] == [[] for _ in fresh], "a cell raised"
    for number, (before, after) in enumerate(zip(stored, fresh, strict=True)):
        for kind in COMPARED:
            assert after[kind] == before[kind], f"code cell {number}: {kind} differs"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: path.stem)
def test_notebook_starts_with_the_one_line_bootstrap(path):
    notebook = nbformat.read(path, as_version=4)
    first_code = next(cell for cell in notebook.cells if cell.cell_type == "code")

    assert first_code.source.splitlines() == [
        f"from tutorial.notebook import start; start({int(path.name[:2])})",
        "%load_ext django_extensions.management.notebook_extension",
    ]
