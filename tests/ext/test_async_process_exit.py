"""A program that never disposes its async engine still exits when it is done."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

EXIT_LIMIT = 60.0
"""Seconds the program may take (it needs about one; generous for a shared machine)."""

PROGRAM = textwrap.dedent(
    """
    import asyncio
    import sys

    from athanor import text
    from athanor.ext.asyncio import create_async_engine

    engine = create_async_engine(sys.argv[1])


    async def main() -> None:
        async with engine.connect() as conn:
            print(await conn.scalar(text("SELECT 40 + 2")))
        # no engine.dispose(): the pooled connection and its worker thread stay open


    asyncio.run(main())
    """
)


@pytest.mark.parametrize("database", ["file", "memory"])
def test_undisposed_aiosqlite_engine_does_not_keep_the_process_alive(
    tmp_path: Path, database: str
) -> None:
    url = (
        f"sqlite+aiosqlite:///{tmp_path / 'app.db'}"
        if database == "file"
        else "sqlite+aiosqlite://"
    )
    script = tmp_path / "app.py"
    script.write_text(PROGRAM)
    try:
        completed = subprocess.run(
            [sys.executable, str(script), url],
            check=False,
            capture_output=True,
            text=True,
            timeout=EXIT_LIMIT,
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"the program did not exit within {EXIT_LIMIT:.0f} s of finishing its work")
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.strip() == "42"
