"""Every notebook runs without error and prints what its stored outputs say it prints."""

import json
import os
import sys
import textwrap
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import nbformat
import pytest
from jupyter_client.kernelspec import KernelSpecManager

from tutorial.course.steps import NOTEBOOKS_DIR, REPO_ROOT, all_steps, get_step
from tutorial.preload import client
from tutorial.running.notebook_execution import (
    NotebookFailed,
    ThisInterpreterKernel,
    execute,
    outputs_comparable,
    text_outputs,
)

NOTEBOOKS = sorted(NOTEBOOKS_DIR.glob("*.ipynb"))
COMPARED = ["stdout", "stderr", "results", "errors"]


@pytest.fixture(scope="module")
def executed():
    with ThreadPoolExecutor(max_workers=3) as pool:
        return dict(zip(NOTEBOOKS, pool.map(execute, NOTEBOOKS), strict=True))


def test_there_is_one_notebook_per_step():
    prefixes = sorted(path.name[:2] for path in NOTEBOOKS)

    assert prefixes == [f"{step.number:02d}" for step in all_steps()]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: path.stem)
def test_notebook_reproduces_its_stored_outputs(executed, path):
    saved = nbformat.read(path, as_version=4)
    stored, fresh = text_outputs(saved), text_outputs(executed[path])

    assert [cell["errors"] for cell in fresh] == [[] for _ in fresh], "a cell raised"
    if not outputs_comparable(saved):
        return  # saved under another Django version, whose module names it shows
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


def test_executed_notebooks_store_no_timestamps(executed):
    metadata = [cell.metadata for notebook in executed.values() for cell in notebook.cells]

    assert not [entry for entry in metadata if "execution" in entry]


def test_the_kernel_is_this_interpreter_even_with_another_python3_installed(tmp_path, monkeypatch):
    decoy = tmp_path / "kernels" / "python3"
    decoy.mkdir(parents=True)
    (decoy / "kernel.json").write_text(
        json.dumps(
            {"argv": ["/elsewhere/python", "-m", "ipykernel_launcher"], "language": "python"}
        )
    )
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path))

    assert KernelSpecManager().get_kernel_spec("python3").argv[0] == "/elsewhere/python"
    assert ThisInterpreterKernel(kernel_name="python3").kernel_spec.argv[0] == sys.executable


def test_a_failing_cell_is_named_and_the_notebook_left_unsaved(tmp_path):
    path = tmp_path / "broken.ipynb"
    cells = [nbformat.v4.new_code_cell("total = 1"), nbformat.v4.new_code_cell("total / 0")]
    nbformat.write(nbformat.v4.new_notebook(cells=cells), path)
    saved = path.read_text()

    with pytest.raises(NotebookFailed) as failure:
        execute(path, save=True)

    assert str(failure.value) == "broken.ipynb, cell [2]: ZeroDivisionError: division by zero"
    assert path.read_text() == saved


def run_python(code, cwd=REPO_ROOT):
    return client.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        cwd=cwd,
        env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
        capture_output=True,
        text=True,
    )


def test_start_loads_one_step_per_kernel_and_removes_its_scratch_database():
    completed = run_python(
        """
        import os
        from tutorial.notebook import start
        start(1)
        start("01_setup")
        print("DATABASE", os.environ["SQLITE_PATH"])
        try:
            start(2)
        except RuntimeError as error:
            print("REFUSED", error)
        """
    )
    printed = completed.stdout.splitlines()

    assert completed.returncode == 0, completed.stderr
    assert printed[:2] == [
        "Step 1 (steps/01_setup) is loaded, on a scratch database.",
        "Step 1 (steps/01_setup) is already loaded.",
    ]
    assert "restart it for another step" in printed[3]
    assert not Path(printed[2].removeprefix("DATABASE ")).parent.exists()


def test_start_refuses_the_steps_own_database():
    database = get_step(2).database
    existed = database.exists()
    completed = run_python(
        f"from tutorial.notebook import start; start(2, database={str(database)!r})"
    )

    assert "is the learner's database" in completed.stderr
    assert database.exists() == existed


def step_files(number):
    """A step's files, apart from the bytecode Python writes when it imports them."""
    return sorted(p for p in get_step(number).path.rglob("*") if "__pycache__" not in p.parts)


def test_a_database_named_by_the_reader_is_kept_in_the_readers_folder(tmp_path):
    before = step_files(1)
    completed = run_python(
        "from tutorial.notebook import start; start(1, database='kept.sqlite3')", cwd=tmp_path
    )

    assert completed.returncode == 0, completed.stderr
    assert (tmp_path / "kept.sqlite3").stat().st_size > 0
    assert step_files(1) == before


def test_reading_notebooks_leaves_out_jsonschemas_iri_parser():
    """It costs 1.4 s at import, in every process that reads a notebook (tutorial/__init__.py)."""
    completed = run_python(
        "import sys, tutorial.running.notebook_execution; print(sys.modules['rfc3987_syntax'])"
    )

    assert completed.stdout == "None\n", completed.stderr
