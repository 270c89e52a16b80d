"""make test-browser never passes silently without a browser."""

import os
import subprocess
import sys

from tutorial.steps import REPO_ROOT


def test_missing_chromium_is_a_failure_that_says_how_to_install_it(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "tutorial", "test-browser"],
        cwd=REPO_ROOT,
        env={**os.environ, "CHROMIUM": str(tmp_path / "no-chromium-here")},
        capture_output=True,
        text=True,
    )

    assert result.returncode == 3
    assert "apt-get install chromium" in result.stderr
    assert "did NOT run" in result.stderr
    assert "passed" not in result.stdout
