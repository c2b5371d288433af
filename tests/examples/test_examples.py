"""Every runnable example in examples/ runs on the databases it is written for."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        f"athanor_example_{name}", EXAMPLES / f"{name}.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def test_engine_configuration(backend, capsys: pytest.CaptureFixture[str]) -> None:
    load("engine_configuration").main(backend.url)
    out = capsys.readouterr().out
    assert "connected: 1" in out
    assert "Pool size: 10" in out
    assert "serverless connection works: True" in out
    assert "in-memory rows seen by another connection: 1" in out


def test_sqlite_local(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    load("sqlite_local").main(str(tmp_path / "app.db"))
    out = capsys.readouterr().out
    assert "journal_mode: wal" in out
    assert "notes written from threads: 4" in out
    assert "memory database answers: 42" in out


@pytest.mark.backends("postgresql", "mysql")
def test_server_settings(backend, capsys: pytest.CaptureFixture[str]) -> None:
    load("server_settings").main(backend.url)
    out = capsys.readouterr().out
    if backend.name == "postgresql":
        assert "search_path: app, public" in out
    else:
        assert "sql_mode: STRICT_ALL_TABLES" in out
        assert "isolation: READ COMMITTED" in out
        assert "charset: utf8mb4" in out


def test_pool_events(backend, capsys: pytest.CaptureFixture[str]) -> None:
    counts = load("pool_events").main(backend.url)
    assert counts == {"connect": 1, "checkout": 3, "before_execute": 3}
    assert "Pool size: 10" in capsys.readouterr().out


@pytest.mark.backends("postgresql")
def test_mini_lab(backend, capsys: pytest.CaptureFixture[str]) -> None:
    sync_count, async_count = load("mini_lab").main(backend.url)
    assert (sync_count, async_count) == (1, 2)
    assert "PostgreSQL" in capsys.readouterr().out


def test_async_engine(backend, capsys: pytest.CaptureFixture[str]) -> None:
    import asyncio

    seen = asyncio.run(load("async_engine").main(backend.async_url()))
    expected: list[object] = ["/"]
    if backend.name == "postgresql":
        expected += ["", "myapp"]
    assert seen == expected


def test_async_orm(backend) -> None:
    import asyncio

    assert asyncio.run(load("async_orm").main(backend.async_url())) == ["async_user has 1 posts"]


def test_core_quickstart(backend, capsys: pytest.CaptureFixture[str]) -> None:
    found = load("core_quickstart").main(backend.url)
    assert found == [("john_doe", 30)]
    out = capsys.readouterr().out
    assert "Inserted user with id: 1" in out
    assert "User: john_doe, Age: 30" in out


def test_reflection(backend, capsys: pytest.CaptureFixture[str]) -> None:
    assert load("reflection").main(backend.url) == ["legacy", "reflected"]
    out = capsys.readouterr().out
    assert "columns: ['id', 'username']" in out
    assert "inspector sees: ['users']" in out


def test_orm_declarative_as_written_names_the_mistake_and_fix(backend) -> None:
    message = load("orm_declarative").as_written(backend.url)
    assert message.startswith("NoForeignKeysError")
    assert "User.posts" in message and "Post.author" in message
    assert "'users'" in message and "'posts'" in message
    assert "ForeignKey('users.id')" in message and "foreign_keys=" in message


def test_orm_declarative_crud(backend, capsys: pytest.CaptureFixture[str]) -> None:
    seen = load("orm_declarative").main(backend.url)
    assert seen == ["found jane_doe age 28", "age now 29", "post by jane_doe", "users left 0"]
    assert (
        "Found user: <User(username=jane_doe, email=jane@example.com)>" in capsys.readouterr().out
    )


# --- tutorial 002 §5, Variations and Pitfalls; tutorial 000 §15.7 (examples/orm_patterns.py)
def test_session_scope_with_pool_events(backend) -> None:
    seen = load("orm_patterns").session_scope(backend.url)
    assert seen["age"] == 29 and seen["users"] == 1 and seen["duplicate rolled back"] == 1
    assert seen["tags"] == [] and seen["created_at set"]
    assert seen["connect"] >= 1 and seen["checkout"] >= 4 and seen["checked out now"] == 0


def test_repository_pattern(backend) -> None:
    assert load("orm_patterns").repository(backend.url) == [
        "created id True",
        "email new@example.com",
        "after delete None",
    ]


def test_bulk_operations(backend) -> None:
    assert load("orm_patterns").bulk(backend.url) == (10000, [31, 32])


def test_read_replica_router(backend) -> None:
    assert load("orm_patterns").read_replica(backend.url, backend.url) == ["new_user"]


def test_pitfalls(backend) -> None:
    assert load("orm_patterns").pitfalls(backend.url) == {
        "without commit": 0,
        "with commit": 1,
        "identity map after close": 0,
        "duplicate": "IntegrityError",
        "users": 2,
    }


def test_session_per_request(backend) -> None:
    found = load("orm_patterns").per_request(backend.url)
    assert found == [{"id": found[0]["id"], "username": "ada"}, None, 0, 1]


def test_query_optimization_statement_counts(backend, capsys: pytest.CaptureFixture[str]) -> None:
    counts = load("query_optimization").main(backend.url)
    users = 4
    assert counts == {
        "lazy": 1 + users,
        "joinedload": 1,
        "selectinload": 2,
        "subqueryload": 2,
        "aggregate": 1,
        "pitfall_bad": 1 + users,
        "pitfall_good": 2,
    }
    out = capsys.readouterr().out
    assert "user3 has 7 posts" in out and "user0 has 0 posts" in out
    assert "user2: 6 posts\nuser3: 7 posts\n" in out


def test_query_optimization_n_plus_one_report(backend) -> None:
    report = load("query_optimization").n_plus_one_report(backend.url)
    assert report.startswith("N+1 queries: User.posts was lazy-loaded")
    assert "query_optimization.py:" in report
    assert "selectinload(User.posts)" in report


def test_orm_inheritance(backend, capsys: pytest.CaptureFixture[str]) -> None:
    results = load("orm_inheritance").main(backend.url)
    assert results["base_then_subclass_columns"] == (
        [
            ("Mr. Krabs", "Eugene H. Krabs"),
            ("SpongeBob", "Krabby Patty Master"),
            ("Squidward", "Senior Customer Engagement"),
        ],
        4,
    )
    assert results["managers"] == (["Eugene H. Krabs"], 1)
    assert results["with_polymorphic"] == (
        ["Manager('Mr. Krabs')", "Engineer('SpongeBob')", "Engineer('Squidward')"],
        1,
    )
    assert results["selectin_polymorphic"] == (
        ["Eugene H. Krabs", "Krabby Patty Master", "Senior Customer Engagement"],
        3,
    )
    assert results["of_type_join"] == (["Krusty Krab"], 1)
    assert results["company_with_employees"] == (
        ["Manager('Mr. Krabs')", "Engineer('SpongeBob')", "Engineer('Squidward')"],
        2,
    )
    assert results["manager_names"] == (["Mr. Krabs"], 1)
    assert results["company_with_employees_joined"] == (
        ["Manager('Mr. Krabs')", "Engineer('SpongeBob')", "Engineer('Squidward')"],
        1,
    )
    assert results["vehicles"] == (
        ["Car('Boatmobile')", "Boat('Flying Dutchman')", "Vehicle('Patty Wagon')"],
        1,
    )
    assert "with_polymorphic: [" in capsys.readouterr().out


def test_association_proxy(backend) -> None:
    assert load("association_proxy").main(backend.url) == {
        "bread": {"flour": "500 g", "salt": "10 g", "water": "350 ml"},
        "pancakes": {"milk": "300 ml", "salt": "1 pinch"},
        "with salt": ["bread", "pancakes"],
        "uses milk": ["pancakes"],
    }


def test_orm_composites(backend) -> None:
    example = load("orm_composites")
    point = example.Point
    assert example.main(backend.url) == {
        "first": (point(0, 0), point(1, 1)),
        "starts at (3, 4)": [2],
        "ends": [point(1, 1), point(9, 9)],
    }


def test_orm_mutable(backend) -> None:
    assert load("orm_mutable").main(backend.url) == {
        "settings": {"theme": "dark", "language": "en"},
        "history": ["logged in"],
        "notes": {"a": 1},
    }


def test_orm_ordering_list(backend) -> None:
    assert load("orm_ordering_list").main(backend.url) == ["1. fix", "2. ship", "3. celebrate"]


def test_automap(backend) -> None:
    assert load("automap").main(backend.url) == {
        "classes": ["Author", "ex_book"],
        "book's author": "Ursula",
        "author's books": ["The Dispossessed"],
    }
