"""make test-postgres and make test-redis never pass silently when their server is missing."""

import pytest
from conftest import run_tutorial

from tutorial.running.postgres import ServerProgramsMissing, find_server_programs


def test_missing_server_programs_explain_how_to_install_them(tmp_path):
    result = run_tutorial("test-postgres", env={"PG_BIN": str(tmp_path)})

    assert result.returncode == 3
    assert "apt-get install postgresql" in result.stderr
    assert "did NOT run" in result.stderr
    assert "passed" not in result.stdout


def test_a_folder_without_the_programs_is_not_taken(tmp_path):
    (tmp_path / "pg_ctl").touch()

    with pytest.raises(ServerProgramsMissing, match="did NOT run"):
        find_server_programs(search_path=[str(tmp_path)])


def test_the_folder_with_all_three_programs_is_taken(tmp_path):
    for program in ["initdb", "pg_ctl", "postgres"]:
        (tmp_path / program).touch()

    assert find_server_programs(search_path=["", str(tmp_path)]) == tmp_path


def test_make_test_redis_without_redis_server_says_how_to_install_it(tmp_path):
    result = run_tutorial("test-redis", env={"REDIS_SERVER": str(tmp_path / "redis-server")})

    assert result.returncode == 3
    assert result.stderr.splitlines()[0].startswith("redis-server was not found. Install it")
    assert "did NOT run" in result.stderr
    assert "passed" not in result.stdout
