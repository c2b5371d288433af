"""The ``athanor`` command: --version, the demo on every backend, usage errors."""

from __future__ import annotations

import io
import subprocess
import sys

import pytest

import athanor
from athanor.cli.main import main


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["--version"])
    assert exited.value.code == 0
    assert capsys.readouterr().out.strip() == f"athanor {athanor.__version__}"


def test_unknown_command_prints_usage_and_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["bogus"])
    assert exited.value.code == 2
    assert "usage: athanor" in capsys.readouterr().err


def test_no_command_prints_usage_and_returns_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 2
    assert "usage: athanor" in capsys.readouterr().err


def test_demo_runs_on_every_backend(backend) -> None:
    from athanor.cli.demo import run_demo

    out, err = io.StringIO(), io.StringIO()
    assert run_demo(backend.url, out=out, err=err) == 0, err.getvalue()
    text = out.getvalue()
    assert "inserted user with id: 1" in text
    assert "User: john_doe, Age: 30" in text
    assert "11 users in total" in text
    assert "Current Checked out connections: 1" in text
    assert "physical connections opened: 1" in text
    # the demo leaves nothing behind: its own table is dropped again
    engine = athanor.create_engine(backend.url)
    assert not athanor.inspect(engine).has_table("demo_users")
    engine.dispose()


def _run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "athanor.cli.main", *args],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


def test_demo_leaves_an_existing_demo_users_table_alone(backend) -> None:
    engine = athanor.create_engine(backend.url)
    with engine.begin() as conn:
        conn.execute(athanor.text("CREATE TABLE demo_users (keep_me VARCHAR(20))"))
        conn.execute(athanor.text("INSERT INTO demo_users (keep_me) VALUES ('precious')"))
    completed = _run_cli("demo", "--url", backend.url)
    assert completed.returncode == 1
    assert "a table named demo_users already exists" in completed.stderr
    assert "Point --url at another database" in completed.stderr
    assert "created table" not in completed.stdout
    with engine.connect() as conn:
        assert conn.execute(athanor.text("SELECT keep_me FROM demo_users")).all() == [("precious",)]
    engine.dispose()


def test_demo_reports_an_unreachable_database_without_a_traceback() -> None:
    completed = _run_cli(
        "demo", "--url", "postgresql://nobody:VerySecretPw@127.0.0.1:1/nothing?connect_timeout=2"
    )
    assert completed.returncode == 1
    assert completed.stderr.startswith("athanor demo: error: ")
    assert "Traceback" not in completed.stderr
    assert "VerySecretPw" not in completed.stderr


def test_console_script_is_installed(tmp_path) -> None:
    completed = _run_cli("demo", "--url", f"sqlite:///{tmp_path}/d.db")
    assert completed.returncode == 0, completed.stderr
    assert "done" in completed.stdout
