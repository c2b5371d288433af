"""mypy --strict on user code: typed rows from select(), and mistakes rejected.

user_code.py must type-check cleanly, and each ``# revealed:`` comment must match what
mypy reveals on that line; user_code_errors.py must fail exactly on its ``# error:`` lines.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
GOOD = HERE / "user_code.py"
BAD = HERE / "user_code_errors.py"
DIAGNOSTIC = re.compile(r"^(?P<file>[^:]+):(?P<line>\d+): (?P<kind>error|note): (?P<text>.*)$")


def expected(path: Path, marker: str) -> dict[int, str]:
    found = {}
    for number, line in enumerate(path.read_text().splitlines(), 1):
        if f"# {marker}: " in line:
            found[number] = line.split(f"# {marker}: ", 1)[1].strip()
    return found


@pytest.fixture(scope="module")
def diagnostics(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[int, list[str]]]:
    work = tmp_path_factory.mktemp("mypy")
    config = work / "mypy.ini"
    config.write_text("[mypy]\nstrict = True\nshow_error_codes = True\n")
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "mypy",
            "--config-file",
            str(config),
            "--cache-dir",
            str(work / "cache"),
            "--no-pretty",
            "--hide-error-context",
            str(GOOD),
            str(BAD),
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    assert completed.returncode == 1, completed.stdout + completed.stderr
    found: dict[str, dict[int, list[str]]] = {GOOD.name: {}, BAD.name: {}}
    for line in completed.stdout.splitlines():
        match = DIAGNOSTIC.match(line)
        if match is None:
            continue
        entry = f"{match['kind']}: {match['text']}"
        found[Path(match["file"]).name].setdefault(int(match["line"]), []).append(entry)
    return found


def test_correct_user_code_passes_mypy_strict(diagnostics) -> None:
    errors = {
        line: entries
        for line, entries in diagnostics[GOOD.name].items()
        if any(entry.startswith("error:") for entry in entries)
    }
    assert errors == {}


def test_row_types_are_inferred_from_the_selected_columns(diagnostics) -> None:
    wanted = expected(GOOD, "revealed")
    assert len(wanted) >= 9
    revealed = {
        line: entry.removeprefix('note: Revealed type is "').removesuffix('"')
        for line, entries in diagnostics[GOOD.name].items()
        for entry in entries
        if entry.startswith("note: Revealed type is")
    }
    assert revealed == wanted


def test_mistakes_are_type_errors(diagnostics) -> None:
    wanted = expected(BAD, "error")
    assert len(wanted) == 6
    reported = {
        line: sorted(
            entry.rsplit("[", 1)[1].rstrip("]") for entry in entries if entry.startswith("error:")
        )
        for line, entries in diagnostics[BAD.name].items()
    }
    reported = {line: codes for line, codes in reported.items() if codes}
    assert reported == {line: [code] for line, code in wanted.items()}
    execute_123 = diagnostics[BAD.name][next(iter(wanted))]
    assert any('"execute" of "Connection" matches argument type "int"' in e for e in execute_123)
