"""Create the course's virtual environment in ``.venv`` and run commands inside it.

This module uses only the standard library: it runs before anything is installed.
"""

import hashlib
import os
import shutil
import subprocess
import sys
import venv

from tutorial.steps import REPO_ROOT

VENV_DIR = REPO_ROOT / ".venv"
LOCK_FILE = REPO_ROOT / "requirements" / "base.txt"
STAMP_FILE = VENV_DIR / "requirements.sha256"


def venv_python():
    if os.name == "nt":
        return VENV_DIR / "Scripts" / "python.exe"
    return VENV_DIR / "bin" / "python"


def running_in_venv():
    return os.path.realpath(sys.prefix) == os.path.realpath(VENV_DIR)


def lock_digest():
    return hashlib.sha256(LOCK_FILE.read_bytes()).hexdigest()


def is_up_to_date():
    return (
        venv_python().exists()
        and STAMP_FILE.exists()
        and STAMP_FILE.read_text().strip() == lock_digest()
    )


def ensure_venv(quiet=False):
    """Install the pinned requirements into .venv unless the stamp says they are there."""
    if is_up_to_date():
        add_repository_to_path()
        if not quiet:
            print(f"{VENV_DIR.name} is up to date with {LOCK_FILE.relative_to(REPO_ROOT)}")
        return
    print(f"Installing the pinned requirements into {VENV_DIR.name} (first run only)...")
    if not venv_python().exists():
        venv.create(VENV_DIR, with_pip=True)
    install(LOCK_FILE)
    add_repository_to_path()
    STAMP_FILE.write_text(lock_digest() + "\n")
    print("Environment ready.")


def add_repository_to_path():
    """Let the venv import ``tutorial`` from anywhere, notebook kernels included."""
    for site_packages in [
        *VENV_DIR.glob("lib/python3*/site-packages"),
        VENV_DIR / "Lib" / "site-packages",
    ]:
        path_file = site_packages / "django-signals-tutorial.pth"
        if site_packages.is_dir() and not path_file.exists():
            path_file.write_text(str(REPO_ROOT) + "\n")


def install(requirements):
    """Prefer uv (seconds) and fall back to pip (a minute or so)."""
    uv = shutil.which("uv") or bootstrap_uv()
    if uv:
        command = [uv, "pip", "install", "--quiet", "--python", str(venv_python())]
    else:
        command = [str(venv_python()), "-m", "pip", "install", "--quiet"]
    subprocess.run([*command, "-r", str(requirements)], check=True)


def bootstrap_uv():
    """Put uv into the venv with pip; return its path, or None if pip cannot get it."""
    result = subprocess.run(
        [
            str(venv_python()),
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "uv",
        ],
        capture_output=True,
    )
    uv = venv_python().parent / ("uv.exe" if os.name == "nt" else "uv")
    return str(uv) if result.returncode == 0 and uv.exists() else None


def rerun_in_venv(argv):
    """Run ``python -m tutorial ARGV`` again with the venv's interpreter; return its exit code."""
    ensure_venv(quiet=True)
    return subprocess.call([str(venv_python()), "-m", "tutorial", *argv], cwd=REPO_ROOT)
