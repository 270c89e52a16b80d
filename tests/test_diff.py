"""`python -m tutorial diff N` and the file comparison it shares with the doc tests."""

import pytest
from conftest import run_on_a_terminal, run_tutorial

from tutorial.course.changed_files import changed_files


def write(folder, files):
    for relative_path, text in files.items():
        path = folder / relative_path
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


NOISE = {
    "db.sqlite3": "data",
    "db.sqlite3-journal": "data",
    "db.sqlite3-wal": "data",
    "shop/__pycache__/models.cpython-311.pyc": "bytecode",
    ".pytest_cache/v/cache/lastfailed": "{}",
    ".ipynb_checkpoints/scratch-checkpoint.ipynb": "{}",
}


@pytest.fixture
def two_steps(tmp_path):
    """Two step folders that differ in code and, differently, in databases and caches."""
    write(
        tmp_path / "01_first",
        {"manage.py": "", "shop/models.py": "stock = 1\n", "shop/old.py": "", **NOISE},
    )
    write(
        tmp_path / "02_second",
        {"manage.py": "", "shop/models.py": "stock = 2\n", "shop/new.py": ""}
        | {path: text + " changed" for path, text in NOISE.items()},
    )
    return tmp_path


def test_changed_files_leave_out_databases_and_caches(two_steps):
    changes = changed_files(two_steps / "01_first", two_steps / "02_second")

    assert changes == {
        "shop/models.py": "changed",
        "shop/new.py": "added",
        "shop/old.py": "removed",
    }


def test_every_file_of_a_first_step_is_new(two_steps):
    changes = changed_files(None, two_steps / "01_first")

    assert changes == {"manage.py": "added", "shop/models.py": "added", "shop/old.py": "added"}


def test_stat_lists_each_file_with_how_it_changed(two_steps):
    result = run_tutorial("diff", "2", "--stat", env={"TUTORIAL_STEPS_DIR": str(two_steps)})

    assert result.returncode == 0
    assert result.stdout.splitlines() == [
        "code:",
        "  changed  shop/models.py",
        "  added    shop/new.py",
        "  removed  shop/old.py",
        "3 files changed from steps/01_first to steps/02_second"
        " (README.md left out: --all shows it)",
    ]


@pytest.fixture
def steps_with_tests_and_readme(two_steps):
    write(two_steps / "01_first", {"README.md": "old prose\n", "tests/test_a.py": "a = 1\n"})
    write(two_steps / "02_second", {"README.md": "new prose\n", "tests/test_a.py": "a = 2\n"})
    return two_steps


def test_the_code_comes_first_then_the_tests_and_the_readme_only_with_all(
    steps_with_tests_and_readme,
):
    env = {"TUTORIAL_STEPS_DIR": str(steps_with_tests_and_readme)}

    plain = run_tutorial("diff", "2", env=env).stdout
    everything = run_tutorial("diff", "2", "--all", env=env).stdout
    stat = run_tutorial("diff", "2", "--stat", "--all", env=env).stdout.splitlines()

    assert plain.index("shop/models.py") < plain.index("tests/test_a.py")
    assert "README.md" not in plain
    assert everything.index("tests/test_a.py") < everything.index("+new prose")
    assert [line for line in stat if line.endswith(":")] == ["code:", "tests:", "README:"]
    assert stat[-1] == "5 files changed from steps/01_first to steps/02_second"


def test_piped_output_is_a_plain_unified_diff(two_steps):
    result = run_tutorial("diff", "2", env={"TUTORIAL_STEPS_DIR": str(two_steps)})

    assert result.returncode == 0
    models_diff = "--- steps/01_first/shop/models.py\n+++ steps/02_second/shop/models.py\n"
    assert models_diff in result.stdout
    assert "-stock = 1\n+stock = 2\n" in result.stdout
    assert "--- /dev/null\n+++ steps/02_second/shop/new.py" in result.stdout
    assert "\033[" not in result.stdout


def test_a_terminal_gets_colours(two_steps):
    output = run_on_a_terminal("diff", "2", env={"TUTORIAL_STEPS_DIR": str(two_steps)})

    assert "\033[31m-stock = 1\033[0m" in output
    assert "\033[32m+stock = 2\033[0m" in output
