"""Which files differ between two step folders, and how."""

import filecmp
from fnmatch import fnmatch
from pathlib import PurePosixPath

# Databases (with SQLite's -journal, -wal and -shm files), caches and bytecode: never code.
IGNORED = [
    "*.sqlite3",
    "*.sqlite3-*",
    "__pycache__",
    "*.pyc",
    ".pytest_cache",
    ".ruff_cache",
    ".ipynb_checkpoints",
]


def is_ignored(relative_path):
    parts = PurePosixPath(relative_path).parts
    return any(fnmatch(part, pattern) for part in parts for pattern in IGNORED)


def step_files(folder):
    """Every file of a step, as POSIX paths relative to the folder, minus caches and databases."""
    if folder is None:
        return set()
    files = (path.relative_to(folder).as_posix() for path in folder.rglob("*") if path.is_file())
    return {path for path in files if not is_ignored(path)}


def changed_files(old_folder, new_folder):
    """Map each differing file to "added", "removed" or "changed"; old_folder may be None."""
    old, new = step_files(old_folder), step_files(new_folder)
    changes = {path: "added" for path in new - old}
    changes.update({path: "removed" for path in old - new})
    for path in old & new:
        if not filecmp.cmp(old_folder / path, new_folder / path, shallow=False):
            changes[path] = "changed"
    return dict(sorted(changes.items()))
