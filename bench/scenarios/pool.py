"""Pool scenarios: checkout/checkin in one thread, and many threads sharing a small pool.

The raw floor is a bare ``queue.Queue`` holding driver connections: the least any pool can
do. Library bodies use ``ctx.lib.pool`` (``QueuePool``) and ``create_engine``'s pool.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from time import perf_counter
from typing import Any

from bench.registry import ANY, Ctx, Metrics, Run, Scenario, register


def raw_queue_cycles(ctx: Ctx) -> Run:
    bare: queue.Queue[Any] = queue.Queue()
    bare.put(ctx.raw_connection())
    n = ctx.scale.pool_cycles

    def run() -> None:
        for _ in range(n):
            conn = bare.get()
            bare.put(conn)

    return run


def engine_connect_cycles(ctx: Ctx) -> Run:
    engine, n = ctx.engine(), ctx.scale.pool_cycles

    def run() -> None:
        for _ in range(n):
            conn = engine.connect()
            conn.close()

    return run


def pool_connect_cycles(ctx: Ctx) -> Run:
    pool = ctx.lib.pool.QueuePool(ctx.db.raw_connect, pool_size=5, max_overflow=10)
    ctx.on_cleanup(pool.dispose)
    pool.connect().close()
    n = ctx.scale.pool_cycles

    def run() -> None:
        for _ in range(n):
            conn = pool.connect()
            conn.close()

    return run


register(
    Scenario(
        "pool.engine_connect",
        "pool",
        "engine.connect() + close() in one thread vs a bare queue.Queue get/put",
        ops=lambda s: s.pool_cycles,
        data=ANY,
        raw=raw_queue_cycles,
        lib=engine_connect_cycles,
        targets={"athanor/sqlalchemy": 0.5},
    )
)
register(
    Scenario(
        "pool.queuepool_connect",
        "pool",
        "pool.QueuePool(creator).connect() + close() in one thread vs a bare queue.Queue get/put",
        ops=lambda s: s.pool_cycles,
        data=ANY,
        raw=raw_queue_cycles,
        lib=pool_connect_cycles,
        targets={"athanor/sqlalchemy": 0.5},
    )
)


def _contended(ctx: Ctx, cycle: Callable[[list[float]], None]) -> Run:
    """Run ``cycle`` (checkout, SELECT 1, checkin; appends its checkout wait) from many threads.

    The threads are started untimed and wait on a barrier; the timed run releases them and
    joins them. Returns throughput and checkout-wait percentiles over every cycle.
    """
    threads, per_thread = ctx.scale.threads, ctx.scale.thread_cycles
    waits: list[list[float]] = [[] for _ in range(threads)]
    errors: list[BaseException] = []
    start = threading.Barrier(threads + 1)

    def work(mine: list[float]) -> None:
        try:
            start.wait()
            for _ in range(per_thread):
                cycle(mine)
        except BaseException as error:
            errors.append(error)

    workers = [threading.Thread(target=work, args=(w,), daemon=True) for w in waits]
    for worker in workers:
        worker.start()
    ctx.on_cleanup(start.abort)  # frees the threads if the run never starts

    def run() -> Metrics:
        began = perf_counter()
        start.wait()
        for worker in workers:
            worker.join()
        elapsed = perf_counter() - began
        if errors:
            raise errors[0]
        merged = sorted(w for mine in waits for w in mine)
        return {
            "ops_per_s": len(merged) / elapsed,
            "p50_wait_us": merged[len(merged) // 2] * 1e6,
            "p99_wait_us": merged[min(len(merged) - 1, int(len(merged) * 0.99))] * 1e6,
            "p999_wait_us": merged[min(len(merged) - 1, int(len(merged) * 0.999))] * 1e6,
            "max_wait_us": merged[-1] * 1e6,
        }

    return run


def raw_contended(ctx: Ctx) -> Run:
    bare: queue.Queue[Any] = queue.Queue()
    for _ in range(ctx.scale.pool_size):
        bare.put(ctx.raw_connection(threadsafe=True))

    def cycle(waits: list[float]) -> None:
        t0 = perf_counter()
        conn = bare.get()
        waits.append(perf_counter() - t0)
        cur = conn.cursor()
        cur.execute("SELECT 1")
        cur.fetchall()
        cur.close()
        bare.put(conn)

    return _contended(ctx, cycle)


def engine_contended(ctx: Ctx) -> Run:
    engine = ctx.engine(pool_size=ctx.scale.pool_size, max_overflow=0)

    def cycle(waits: list[float]) -> None:
        t0 = perf_counter()
        conn = engine.connect()
        waits.append(perf_counter() - t0)
        conn.exec_driver_sql("SELECT 1").scalar()
        conn.close()

    return _contended(ctx, cycle)


register(
    Scenario(
        "pool.threads_16_on_4",
        "pool",
        "16 threads share a pool of 4: engine.connect() + exec_driver_sql('SELECT 1') + close "
        "vs a bare queue.Queue of 4 driver connections; also throughput and checkout-wait p99",
        ops=lambda s: s.threads * s.thread_cycles,
        data=ANY,
        raw=raw_contended,
        lib=engine_contended,
        targets={"athanor/sqlalchemy": 0.5},
        lower_metrics=("p99_wait_us",),
    )
)
