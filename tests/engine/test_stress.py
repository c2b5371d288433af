"""Many threads on a small pool through the engine: no leak, no sharing, no lost data."""

from __future__ import annotations

import random
import threading
import time

import pytest

import athanor
from athanor import exc, text

THREADS = 32
ITERATIONS = 25


class Boom(Exception):
    """An application error raised inside a connection block on purpose."""


def test_threads_hammering_a_small_pool(backend) -> None:
    # SQLite serialises the six writers on its file lock: on a loaded machine a writer may
    # wait longer than sqlite3's default 5 s busy timeout, which is not what this test is about.
    connect_args = {"timeout": 60} if backend.is_sqlite else {}
    engine = athanor.create_engine(
        backend.url,
        pool_size=4,
        max_overflow=2,
        pool_timeout=30,
        pool_pre_ping=True,
        connect_args=connect_args,
    )
    if backend.is_sqlite:
        # Each commit would wait for the disk; on a busy machine the six serialised writers
        # then queue long enough to starve one.  Durability is not what this test is about.
        @athanor.event.listens_for(engine, "connect")
        def no_fsync(dbapi_connection, record) -> None:
            dbapi_connection.execute("PRAGMA synchronous = OFF")

    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE hits (worker INTEGER, n INTEGER)"))
    in_use: set[int] = set()
    guard = threading.Lock()
    shared: list[int] = []
    committed = [0] * THREADS
    errors: list[BaseException] = []

    def worker(index: int) -> None:
        rng = random.Random(index)
        deadline = time.monotonic() + 60
        for n in range(ITERATIONS):
            if time.monotonic() > deadline:
                return
            try:
                with engine.connect() as conn:
                    key = id(conn.connection.dbapi_connection)
                    with guard:
                        if key in in_use:
                            shared.append(key)
                        in_use.add(key)
                    try:
                        conn.execute(
                            text("INSERT INTO hits (worker, n) VALUES (:w, :n)"),
                            {"w": index, "n": n},
                        )
                        if rng.random() < 0.3:
                            raise Boom
                        conn.commit()
                        committed[index] += 1
                    finally:
                        with guard:
                            in_use.discard(key)
            except Boom:
                continue
            except exc.TimeoutError as error:  # only acceptable if truly exhausted
                errors.append(error)
            except BaseException as error:
                errors.append(error)
                return

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads)
    assert errors == []
    assert shared == []
    assert engine.pool.checkedout() == 0
    with engine.connect() as conn:
        stored = conn.execute(text("SELECT count(*) FROM hits")).scalar_one()
    assert stored == sum(committed)
    stats = engine.pool.stats()
    assert stats.checked_out == 0
    engine.dispose()


@pytest.mark.backends("postgresql", "mysql")
def test_exhausted_pool_times_out_with_a_clear_message(backend) -> None:
    engine = athanor.create_engine(backend.url, pool_size=1, max_overflow=0, pool_timeout=0.2)
    with engine.connect(), pytest.raises(exc.TimeoutError) as caught:
        engine.connect()
    message = str(caught.value)
    assert "size 1" in message or "Pool size: 1" in message or "pool_size" in message
    assert engine.pool.checkedout() == 0
    engine.dispose()


def test_a_burst_leaves_at_most_pool_size_idle(backend) -> None:
    """Overflow connections are closed when they come back, however the returns interleave
    with waiters: after a burst of threads the pool keeps at most ``pool_size`` idle ones,
    and never has more than ``pool_size + max_overflow`` open at once."""
    connect_args = {"timeout": 60} if backend.is_sqlite else {}
    engine = athanor.create_engine(
        backend.url, pool_size=5, max_overflow=10, pool_timeout=60, connect_args=connect_args
    )
    guard = threading.Lock()
    live = {"open": 0, "peak": 0}

    def opened(dbapi_connection: object, record: object) -> None:
        with guard:
            live["open"] += 1
            live["peak"] = max(live["peak"], live["open"])

    def closed(dbapi_connection: object, record: object) -> None:
        with guard:
            live["open"] -= 1

    athanor.event.listen(engine.pool, "connect", opened)
    athanor.event.listen(engine.pool, "close", closed)
    threads_count = 40
    start = threading.Barrier(threads_count)
    errors: list[BaseException] = []

    def burst(index: int) -> None:
        rng = random.Random(index)
        try:
            start.wait()
            for _ in range(15):
                with engine.connect() as conn:
                    conn.execute(text("SELECT 1")).scalar()
                    if rng.random() < 0.5:
                        time.sleep(rng.random() / 500)
                    if rng.random() < 0.2:
                        conn.rollback()
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=burst, args=(i,)) for i in range(threads_count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    stats = engine.pool.stats()
    assert stats.checked_out == 0
    assert stats.idle <= 5
    assert stats.overflow <= 0
    assert stats.waits > 0  # the burst did saturate the pool
    assert live["open"] == stats.idle
    assert live["peak"] <= 15
    engine.dispose()
    assert live["open"] == 0
