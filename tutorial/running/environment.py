"""Create the course's virtual environments and run commands inside them.

This module uses only the standard library: it runs before anything is installed.
"""

import hashlib
import os
import shutil
import subprocess
import sys
import venv
from dataclasses import dataclass
from pathlib import Path

from tutorial.course.steps import REPO_ROOT
from tutorial.running.processes import wait_through_ctrl_c


@dataclass(frozen=True)
class Environment:
    """A virtual environment with the packages pinned by one lock file."""

    directory: Path
    lock_file: Path

    @property
    def python(self):
        if os.name == "nt":
            return self.directory / "Scripts" / "python.exe"
        return self.directory / "bin" / "python"

    @property
    def stamp(self):
        return self.directory / "requirements.sha256"

    def lock_digest(self):
        return hashlib.sha256(self.lock_file.read_bytes()).hexdigest()

    def is_up_to_date(self):
        return (
            self.python.exists()
            and self.stamp.exists()
            and self.stamp.read_text().strip() == self.lock_digest()
        )

    def ensure(self, base_python=None, quiet=False):
        """Install the pinned requirements unless the stamp says they are there already."""
        name, lock = self.directory.name, self.lock_file.relative_to(REPO_ROOT)
        if self.is_up_to_date():
            self.add_repository_to_path()
            if not quiet:
                print(f"{name} is up to date with {lock}")
            return
        print(f"Installing {lock} into {name} (first run only)...", flush=True)
        if not self.python.exists():
            create(self.directory, base_python)
        install(self.python, self.lock_file)
        self.add_repository_to_path()
        self.stamp.write_text(self.lock_digest() + "\n")
        print(f"{name} is ready.")

    def add_repository_to_path(self):
        """Let the environment import ``tutorial`` from anywhere, notebook kernels included."""
        places = [
            *self.directory.glob("lib/python3*/site-packages"),
            self.directory / "Lib/site-packages",
        ]
        for site_packages in places:
            path_file = site_packages / "django-signals-tutorial.pth"
            if site_packages.is_dir() and not path_file.exists():
                path_file.write_text(str(REPO_ROOT) + "\n")


DEFAULT = Environment(REPO_ROOT / ".venv", REPO_ROOT / "requirements" / "base.txt")
VENV_DIR = DEFAULT.directory


def create(directory, base_python=None):
    if base_python is None:
        venv.create(directory, with_pip=True)
    else:
        subprocess.run([str(base_python), "-m", "venv", str(directory)], check=True)


def install(python, requirements):
    """Prefer uv (seconds) and fall back to pip (a minute or so).

    Both compile the packages' bytecode now: where PYTHONDONTWRITEBYTECODE is set (CI,
    Docker), nothing else would, and every process would compile Django again.
    """
    uv = shutil.which("uv") or bootstrap_uv(python)
    if uv:
        command = [uv, "pip", "install", "--quiet", "--compile-bytecode", "--python", str(python)]
    else:
        command = [str(python), "-m", "pip", "install", "--quiet"]
    subprocess.run([*command, "-r", str(requirements)], check=True)


def bootstrap_uv(python=None):
    """Put uv into a venv with pip; return its path, or None if pip cannot get it."""
    python = python or DEFAULT.python
    uv = Path(python).parent / ("uv.exe" if os.name == "nt" else "uv")
    if uv.exists():
        return str(uv)
    result = subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "uv"],
        capture_output=True,
    )
    return str(uv) if result.returncode == 0 and uv.exists() else None


def running_in_venv():
    return os.path.realpath(sys.prefix) == os.path.realpath(DEFAULT.directory)


def ensure_venv(quiet=False):
    DEFAULT.ensure(quiet=quiet)


def rerun_in_venv(argv):
    """Run ``python -m tutorial ARGV`` again with the venv's interpreter; return its exit code."""
    ensure_venv(quiet=True)
    child = subprocess.Popen([str(DEFAULT.python), "-m", "tutorial", *argv], cwd=REPO_ROOT)
    returncode, _interrupted = wait_through_ctrl_c(child)
    return returncode
