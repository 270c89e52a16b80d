"""make test-browser never passes silently without a browser."""

from conftest import run_tutorial


def test_missing_chromium_is_a_failure_that_says_how_to_install_it(tmp_path):
    result = run_tutorial("test-browser", env={"CHROMIUM": str(tmp_path / "no-chromium-here")})

    assert result.returncode == 3
    assert "apt-get install chromium" in result.stderr
    assert "did NOT run" in result.stderr
    assert "passed" not in result.stdout
