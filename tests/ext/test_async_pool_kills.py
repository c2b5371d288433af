"""A burst of tasks on a small async pool while the server kills some of its connections:
the tasks that lose their connection get a disconnect error, every other one completes, and
nothing leaks, neither in the pool's bookkeeping nor in the server's own list of sessions."""

from __future__ import annotations

import asyncio
import random
from typing import Any

import pytest

from athanor import exc, text
from athanor.ext.asyncio import create_async_engine
from athanor.util.async_adapter import wait_for_background_closes
from backends import Backend, settled

pytestmark = [pytest.mark.backends("postgresql", "mysql"), pytest.mark.usefixtures("async_driver")]

TASKS = 60
POOL_SIZE = 2
MAX_OVERFLOW = 3

SESSION_ID = {"postgresql": "SELECT pg_backend_pid()", "mysql": "SELECT CONNECTION_ID()"}
PAUSE = {"postgresql": "SELECT pg_sleep(0.02)", "mysql": "SELECT SLEEP(0.02)"}


def _kill(backend: Backend, session_ids: list[int]) -> None:
    """End sessions this test's engine opened, from a plain connection of the test's own."""
    raw = backend.raw_connect()
    try:
        cur = raw.cursor()
        for session_id in session_ids:
            if backend.name == "postgresql":
                cur.execute("SELECT pg_terminate_backend(%s)", (session_id,))
            else:
                try:
                    cur.execute(f"KILL {int(session_id)}")
                except Exception as error:  # already gone: "Unknown thread id"
                    if "Unknown thread" not in str(error):
                        raise
    finally:
        raw.close()


@pytest.mark.parametrize("pre_ping", [False, True], ids=["no-ping", "pre-ping"])
def test_a_burst_survives_connections_killed_by_the_server(
    backend: Backend, pre_ping: bool
) -> None:
    rng = random.Random(7)
    ours: set[int] = set()
    killed: set[int] = set()

    async def main() -> dict[str, Any]:
        engine = create_async_engine(
            backend.async_url(),
            pool_size=POOL_SIZE,
            max_overflow=MAX_OVERFLOW,
            pool_timeout=60,
            pool_pre_ping=pre_ping,
        )
        outcomes: list[str] = []
        unexpected: list[BaseException] = []

        async def task(n: int) -> None:
            await asyncio.sleep(rng.uniform(0, 0.05))
            try:
                async with engine.connect() as conn:
                    ours.add(int(await conn.scalar(text(SESSION_ID[backend.name]))))
                    await conn.execute(text(PAUSE[backend.name]))
                    assert await conn.scalar(text("SELECT :n + 1"), {"n": n}) == n + 1
                outcomes.append("ok")
            except exc.DBAPIError as error:
                # only a connection the server killed may fail, and it is known as such
                if error.connection_invalidated:
                    outcomes.append("killed")
                else:
                    unexpected.append(error)
            except BaseException as error:
                unexpected.append(error)

        async def killer() -> None:
            for _ in range(4):
                await asyncio.sleep(0.05)
                victims = [s for s in ours if s not in killed]
                chosen = rng.sample(victims, min(2, len(victims)))
                killed.update(chosen)
                await asyncio.to_thread(_kill, backend, chosen)

        try:
            async with asyncio.timeout(120):
                await asyncio.gather(killer(), *(task(n) for n in range(TASKS)))
            await wait_for_background_closes()
            pool = engine.pool
            after_burst = {
                "checked_out": pool.checkedout(),
                "idle": pool.checkedin(),
                "overflow": pool.overflow(),
            }
            # the pool still serves: every idle connection is alive or replaced on use
            async with engine.connect() as conn:
                assert await conn.scalar(text("SELECT 42")) == 42
            idle = pool.checkedin()
            server_during = await asyncio.to_thread(
                settled, lambda: abs(backend.server_sessions() - idle)
            )
            return {
                "outcomes": outcomes,
                "unexpected": unexpected,
                "after_burst": after_burst,
                "server_minus_idle": server_during,
            }
        finally:
            await engine.dispose()

    seen = asyncio.run(main())
    assert seen["unexpected"] == []
    assert len(seen["outcomes"]) == TASKS
    assert killed, "the test must kill connections mid-burst"
    assert seen["outcomes"].count("ok") >= TASKS - len(killed)
    assert seen["after_burst"]["checked_out"] == 0
    assert seen["after_burst"]["idle"] <= POOL_SIZE
    assert seen["after_burst"]["overflow"] <= 0
    # the server holds exactly the connections the pool keeps: none leaked, none forgotten
    assert seen["server_minus_idle"] == 0
    assert settled(backend.server_sessions) == 0
