"""An engine inherited through os.fork(): the child opens connections of its own and never
touches (nor closes) the parent's, which keep working."""

from __future__ import annotations

import json
import os
from typing import Any

import pytest

from athanor import create_engine, text
from athanor.engine import Engine
from backends import Backend

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork()")


def session_id(backend: Backend, conn: Any) -> Any:
    """The server's id of the session behind ``conn`` (a Connection); None on SQLite."""
    if backend.name == "postgresql":
        return conn.execute(text("SELECT pg_backend_pid()")).scalar()
    if backend.name == "mysql":
        return conn.execute(text("SELECT CONNECTION_ID()")).scalar()
    return None


def owners(conn: Any) -> list[str]:
    return [row[0] for row in conn.execute(text("SELECT owner FROM fork_rows ORDER BY owner"))]


def in_child(engine: Engine, backend: Backend, checked_out: Any) -> dict[str, Any]:
    """What the child process does with the inherited engine."""
    if checked_out is not None:
        checked_out.close()  # a connection checked out at fork time, returned in the child
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO fork_rows (owner) VALUES ('child')"))
    with engine.connect() as conn:
        return {"session": session_id(backend, conn), "owners": owners(conn)}


def run_child(engine: Engine, backend: Backend, checked_out: Any = None) -> dict[str, Any]:
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - runs in the child
        status = 0
        try:
            os.close(read_end)
            payload = json.dumps(in_child(engine, backend, checked_out))
        except BaseException as error:
            payload = json.dumps({"error": repr(error)})
            status = 1
        finally:
            os.write(write_end, payload.encode())
            os.close(write_end)
            os._exit(status)
    os.close(write_end)
    chunks = []
    while chunk := os.read(read_end, 65536):
        chunks.append(chunk)
    os.close(read_end)
    _, status = os.waitpid(pid, 0)
    result: dict[str, Any] = json.loads(b"".join(chunks))
    assert status == 0, result
    return result


@pytest.mark.parametrize("hold_one", [False, True], ids=["idle", "checked-out"])
def test_a_forked_child_opens_its_own_connections(backend: Backend, hold_one: bool) -> None:
    engine = create_engine(backend.url, pool_size=1, max_overflow=1)
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE fork_rows (owner VARCHAR(20))"))
        conn.execute(text("INSERT INTO fork_rows (owner) VALUES ('parent')"))
    held = engine.connect() if hold_one else None
    with engine.connect() as conn:
        parent_session = session_id(backend, conn)
        conn.commit()
    child = run_child(engine, backend, held)
    assert child["owners"] == ["child", "parent"]
    if parent_session is not None:
        assert child["session"] != parent_session
    with engine.connect() as conn:  # the parent's pooled connection still works
        assert session_id(backend, conn) == parent_session
        assert owners(conn) == ["child", "parent"]
    if held is not None:
        assert owners(held) == ["child", "parent"]
        held.close()
    engine.dispose()
