"""SQLite for local work: file and memory engines, check_same_thread, WAL mode.

Run: python examples/sqlite_local.py [path/to/app.db]
"""

from __future__ import annotations

import sys
import threading

from athanor import create_engine, text


def main(path: str) -> None:
    engine = create_engine(f"sqlite:///{path}", echo=False, future=True)

    # Performance tip: WAL mode, as in the tutorial.
    with engine.begin() as conn:
        conn.exec_driver_sql("PRAGMA journal_mode=WAL;")
        conn.exec_driver_sql("PRAGMA synchronous=NORMAL;")
    with engine.connect() as conn:
        print("journal_mode:", conn.exec_driver_sql("PRAGMA journal_mode").scalar())
        conn.execute(text("CREATE TABLE IF NOT EXISTS notes (id INTEGER PRIMARY KEY, body TEXT)"))
        conn.commit()

    # Pooled file connections may be used from any thread (one thread at a time).
    def write(n: int) -> None:
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO notes (body) VALUES (:body)"), {"body": f"note {n}"})

    threads = [threading.Thread(target=write, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    with engine.connect() as conn:
        print(
            "notes written from threads:", conn.execute(text("SELECT count(*) FROM notes")).scalar()
        )
    engine.dispose()

    memory = create_engine("sqlite:///:memory:", future=True)
    with memory.connect() as conn:
        print("memory database answers:", conn.execute(text("SELECT 40 + 2")).scalar())


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "./app.db")
