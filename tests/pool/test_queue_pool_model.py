"""Hypothesis state machine: random checkouts, returns, invalidations, detaches and disposes
against a simple model of QueuePool's accounting."""

from __future__ import annotations

import sqlite3
from typing import Any

import hypothesis.strategies as st
from hypothesis import settings
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from athanor import exc
from athanor.pool import PoolProxiedConnection, QueuePool


class QueuePoolMachine(RuleBasedStateMachine):
    """The model: a set of held proxies; the pool's numbers must follow from it."""

    def __init__(self) -> None:
        super().__init__()
        self.pool_size = 2
        self.max_overflow = 2
        self.pool = QueuePool(
            lambda: sqlite3.connect(":memory:"),
            pool_size=self.pool_size,
            max_overflow=self.max_overflow,
            timeout=0,
        )
        self.held: list[PoolProxiedConnection] = []
        self.checkouts = 0

    @rule()
    def checkout(self) -> None:
        if len(self.held) < self.pool_size + self.max_overflow:
            conn = self.pool.connect()
            assert conn.dbapi_connection not in {c.dbapi_connection for c in self.held}
            self.held.append(conn)
            self.checkouts += 1
        else:
            try:
                self.pool.connect()
            except exc.TimeoutError:
                return
            raise AssertionError("checkout beyond size + overflow must time out")

    @precondition(lambda self: self.held)
    @rule(index=st.integers(min_value=0), action=st.sampled_from(["close", "invalidate", "soft"]))
    def give_back(self, index: int, action: str) -> None:
        conn = self.held.pop(index % len(self.held))
        if action == "invalidate":
            conn.invalidate()
        elif action == "soft":
            conn.invalidate(soft=True)
            conn.close()
        else:
            conn.cursor().execute("SELECT 1")
            conn.close()
        assert not conn.is_valid

    @precondition(lambda self: self.held)
    @rule(index=st.integers(min_value=0))
    def detach(self, index: int) -> None:
        conn = self.held.pop(index % len(self.held))
        conn.detach()
        conn.close()

    @rule()
    def dispose(self) -> None:
        self.pool.dispose()
        assert self.pool.checkedin() == 0

    @invariant()
    def accounting_matches(self) -> None:
        pool: Any = self.pool
        assert pool.checkedout() == len(self.held)
        assert 0 <= pool.checkedin() <= self.pool_size
        assert pool.checkedin() + len(self.held) <= self.pool_size + self.max_overflow
        assert pool.overflow() <= self.max_overflow
        assert pool.stats().total_checkouts == self.checkouts
        assert not pool._waiters

    def teardown(self) -> None:
        for conn in self.held:
            conn.close()
        assert self.pool.checkedout() == 0
        self.pool.dispose()


TestQueuePoolModel = QueuePoolMachine.TestCase
TestQueuePoolModel.settings = settings(max_examples=60, stateful_step_count=30, deadline=None)
