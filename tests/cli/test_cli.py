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

    out = io.StringIO()
    assert run_demo(backend.url, out=out) == 0
    text = out.getvalue()
    assert "inserted user with id: 1" in text
    assert "User: john_doe, Age: 30" in text
    assert "11 users in total" in text
    assert "Current Checked out connections: 1" in text
    assert "physical connections opened: 1" in text


def test_console_script_is_installed(tmp_path) -> None:
    completed = subprocess.run(
        [sys.executable, "-m", "athanor.cli.main", "demo", "--url", f"sqlite:///{tmp_path}/d.db"],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert completed.returncode == 0, completed.stderr
    assert "done" in completed.stdout
