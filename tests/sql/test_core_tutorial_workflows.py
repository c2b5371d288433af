"""The Core tutorial's "working with data" workflows (INSERT with bound and subquery values,
SELECT with joins, aliases, subqueries, CTEs, set operations, window and aggregate functions,
casts, text(), UPDATE and DELETE with correlated and multi-table criteria) on every
database, asserting on the rows they give or the clear error a database without the
feature gets."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from athanor import (
    ARRAY,
    Boolean,
    Column,
    DateTime,
    Enum,
    Float,
    ForeignKey,
    Integer,
    MetaData,
    Numeric,
    String,
    Table,
    Uuid,
    and_,
    bindparam,
    case,
    cast,
    create_engine,
    delete,
    desc,
    exc,
    exists,
    func,
    insert,
    lateral,
    literal,
    literal_column,
    select,
    text,
    tuple_,
    type_coerce,
    union,
    union_all,
    update,
)
from athanor.types import JSON
from backends import Backend

metadata = MetaData()
sites = Table(
    "ct_sites",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(30), nullable=False),
    Column("region", String(10)),
)
samples = Table(
    "ct_samples",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("site_id", ForeignKey("ct_sites.id"), nullable=False),
    Column("day", Integer, nullable=False),
    Column("level", Integer, nullable=False),
    Column("tag", String(20)),
)


@pytest.fixture
def conn(backend: Backend) -> Iterator[Any]:
    """A connection (in a transaction) to tables holding: sites alder (north), birch
    (north), cedar (south), dune (no region, no samples); samples per site by day."""
    engine = create_engine(backend.url)
    metadata.create_all(engine)
    with engine.connect() as connection:
        connection.execute(
            insert(sites),
            [
                {"name": "alder", "region": "north"},
                {"name": "birch", "region": "north"},
                {"name": "cedar", "region": "south"},
                {"name": "dune", "region": None},
            ],
        )
        site_of = select(sites.c.id).where(sites.c.name == bindparam("site")).scalar_subquery()
        # the tutorial's INSERT whose value is a scalar subquery over a bound name
        connection.execute(
            insert(samples).values(site_id=site_of),
            [
                {"site": "alder", "day": 1, "level": 10, "tag": "a"},
                {"site": "alder", "day": 2, "level": 14, "tag": None},
                {"site": "alder", "day": 3, "level": 12, "tag": "b"},
                {"site": "birch", "day": 1, "level": 7, "tag": "a"},
                {"site": "birch", "day": 2, "level": 9, "tag": None},
                {"site": "cedar", "day": 1, "level": 20, "tag": "c"},
            ],
        )
        yield connection
    engine.dispose()


def test_insert_with_subquery_values_wrote_each_row(conn: Any) -> None:
    rows = conn.execute(
        select(sites.c.name, samples.c.day, samples.c.level)
        .join_from(samples, sites)
        .order_by(samples.c.id)
    ).all()
    assert rows[:3] == [("alder", 1, 10), ("alder", 2, 14), ("alder", 3, 12)]
    assert rows[-1] == ("cedar", 1, 20)


def test_insert_returning_and_primary_keys(conn: Any, backend: Backend) -> None:
    result = conn.execute(insert(sites).values(name="elm", region="east"))
    assert result.inserted_primary_key == (5,)
    # a Row named by the primary key columns, as the tutorial shows it
    key = result.inserted_primary_key
    assert repr(key) == "(5,)" and key.id == 5 and key._mapping[sites.c.id] == 5
    rows = conn.execute(
        insert(sites).returning(sites.c.id, sites.c.name),
        [{"name": "fir", "region": None}, {"name": "gum", "region": "west"}],
    ).all()
    assert rows == [(6, "fir"), (7, "gum")]
    result = conn.execute(
        insert(samples).from_select(
            ["site_id", "day", "level"],
            select(sites.c.id, literal(9), literal(1)).where(sites.c.region == "west"),
        )
    )
    assert conn.execute(select(samples.c.level).where(samples.c.day == 9)).scalars().all() == [1]


def test_select_group_by_having_and_label_ordering(conn: Any) -> None:
    n = func.count(samples.c.id).label("n")
    stmt = (
        select(sites.c.name, n)
        .join_from(sites, samples)
        .group_by(sites.c.name)
        .having(func.count(samples.c.id) > 1)
        .order_by(desc("n"), "name")
    )
    assert conn.execute(stmt).all() == [("alder", 3), ("birch", 2)]
    stmt = (
        select(sites.c.region, func.max(samples.c.level).label("top"))
        .join(samples)
        .group_by(sites.c.region)
        .order_by("top")
    )
    assert conn.execute(stmt).all() == [("north", 14), ("south", 20)]


def test_table_aliases_self_join(conn: Any) -> None:
    a = samples.alias("a")
    b = samples.alias("b")
    stmt = (
        select(a.c.day, a.c.level, b.c.level)
        .join(b, and_(a.c.site_id == b.c.site_id, b.c.day == a.c.day + 1))
        .where(a.c.site_id == 1)
        .order_by(a.c.day)
    )
    assert conn.execute(stmt).all() == [(1, 10, 14), (2, 14, 12)]


def test_subquery_and_cte_joined(conn: Any) -> None:
    per_site = (
        select(samples.c.site_id, func.avg(samples.c.level).label("mean"))
        .group_by(samples.c.site_id)
        .subquery()
    )
    stmt = select(sites.c.name, per_site.c.mean).join_from(sites, per_site).order_by(sites.c.id)
    assert [(n, float(m)) for n, m in conn.execute(stmt)] == [
        ("alder", 12.0),
        ("birch", 8.0),
        ("cedar", 20.0),
    ]
    cte = select(samples.c.site_id, samples.c.level).where(samples.c.tag.is_(None)).cte("untagged")
    stmt = (
        select(sites.c.name, cte.c.level)
        .join(cte, cte.c.site_id == sites.c.id)
        .order_by(cte.c.level)
    )
    assert conn.execute(stmt).all() == [("birch", 9), ("alder", 14)]


def test_recursive_cte(conn: Any) -> None:
    steps = select(literal(1).label("n")).cte("steps", recursive=True)
    steps = steps.union_all(select(steps.c.n + 1).where(steps.c.n < 4))
    assert conn.execute(select(func.sum(steps.c.n))).scalar() == 10


def test_scalar_subquery_correlation(conn: Any) -> None:
    count = (
        select(func.count(samples.c.id))
        .where(samples.c.site_id == sites.c.id)
        .scalar_subquery()
        .label("count")
    )
    rows = conn.execute(select(sites.c.name, count).order_by(sites.c.id)).all()
    assert rows == [("alder", 3), ("birch", 2), ("cedar", 1), ("dune", 0)]
    # explicit correlate() of the enclosing table
    latest = (
        select(func.max(samples.c.day))
        .where(samples.c.site_id == sites.c.id)
        .correlate(sites)
        .scalar_subquery()
    )
    stmt = select(sites.c.name).where(latest >= 3)
    assert conn.execute(stmt).scalars().all() == ["alder"]


def test_lateral_join(conn: Any, backend: Backend) -> None:
    best = (
        select(samples.c.level)
        .where(samples.c.site_id == sites.c.id)
        .order_by(samples.c.level.desc())
        .limit(2)
        .lateral("best")
    )
    stmt = (
        select(sites.c.name, best.c.level)
        .join(best, literal(True))
        .order_by(sites.c.id, best.c.level.desc())
    )
    if backend.name != "postgresql":
        with pytest.raises(exc.CompileError, match="LATERAL"):
            conn.execute(stmt)
        return
    assert conn.execute(stmt).all() == [
        ("alder", 14),
        ("alder", 12),
        ("birch", 9),
        ("birch", 7),
        ("cedar", 20),
    ]
    b2 = lateral(best.element, "b2")
    stmt2 = select(sites.c.name, b2.c.level).join(b2, literal(True))
    assert len(conn.execute(stmt2).all()) == 5


def test_set_operations(conn: Any) -> None:
    north = select(sites.c.name).where(sites.c.region == "north")
    big = select(sites.c.name).join(samples).where(samples.c.level > 13)
    assert sorted(conn.execute(union(north, big)).scalars()) == ["alder", "birch", "cedar"]
    assert sorted(conn.execute(union_all(north, big)).scalars()) == [
        "alder",
        "alder",
        "birch",
        "cedar",
    ]
    u = union_all(north, big).subquery()
    stmt = select(u.c.name, func.count()).group_by(u.c.name).order_by(u.c.name)
    assert conn.execute(stmt).all() == [("alder", 2), ("birch", 1), ("cedar", 1)]


def test_exists_in_where_and_columns(conn: Any) -> None:
    has_samples = exists().where(samples.c.site_id == sites.c.id)
    assert conn.execute(select(sites.c.name).where(~has_samples)).scalars().all() == ["dune"]
    flag = (
        select(samples.c.id)
        .where(samples.c.site_id == sites.c.id, samples.c.level > 15)
        .exists()
        .label("hot")
    )
    rows = conn.execute(select(sites.c.name, flag).order_by(sites.c.id)).all()
    assert [bool(h) for _, h in rows] == [False, False, True, False]


def test_window_functions(conn: Any) -> None:
    rank = func.row_number().over(partition_by=samples.c.site_id, order_by=samples.c.level.desc())
    stmt = select(samples.c.site_id, samples.c.level, rank.label("rn")).order_by(
        samples.c.site_id, "rn"
    )
    assert [tuple(r) for r in conn.execute(stmt)] == [
        (1, 14, 1),
        (1, 12, 2),
        (1, 10, 3),
        (2, 9, 1),
        (2, 7, 2),
        (3, 20, 1),
    ]
    running = func.sum(samples.c.level).over(
        partition_by=samples.c.site_id, order_by=samples.c.day, rows=(None, 0)
    )
    stmt = select(samples.c.day, running).where(samples.c.site_id == 1).order_by(samples.c.day)
    assert [(d, int(s)) for d, s in conn.execute(stmt)] == [(1, 10), (2, 24), (3, 36)]
    share = func.count().over(partition_by=samples.c.site_id)
    stmt = select(samples.c.id, share).where(samples.c.day == 1).order_by(samples.c.id)
    # the window runs after WHERE: each site has one sample on day 1
    assert [c for _, c in conn.execute(stmt)] == [1, 1, 1]
    # a window function of no arguments takes its FROM from the window
    numbered = select(func.row_number().over(order_by=samples.c.level.desc()))
    assert conn.execute(numbered).scalars().all() == [1, 2, 3, 4, 5, 6]
    prev = func.lag(samples.c.level).over(order_by=samples.c.day)
    stmt = select(samples.c.day, prev).where(samples.c.site_id == 1).order_by(samples.c.day)
    assert conn.execute(stmt).all() == [(1, None), (2, 10), (3, 14)]


def test_aggregate_filter(conn: Any, backend: Backend) -> None:
    stmt = select(
        func.count(samples.c.id).filter(samples.c.tag.is_not(None)),
        func.sum(samples.c.level).filter(samples.c.day == 1),
        func.count().filter(samples.c.level > 10),
    )
    assert tuple(conn.execute(stmt).one()) == (4, 37, 3)
    # grouped, with the filter the only place the column appears
    stmt = (
        select(samples.c.site_id, func.max(samples.c.level).filter(samples.c.tag.is_(None)))
        .group_by(samples.c.site_id)
        .order_by(samples.c.site_id)
    )
    assert conn.execute(stmt).all() == [(1, 14), (2, 9), (3, None)]
    distinct = select(func.count(samples.c.tag.distinct()).filter(samples.c.day > 1))
    if backend.name == "mysql":
        # MySQL has no FILTER; one plain argument is rewritten to CASE, DISTINCT is not
        with pytest.raises(exc.CompileError, match="FILTER"):
            conn.execute(distinct)
    else:
        assert conn.execute(distinct).scalar() == 1


def test_within_group(conn: Any, backend: Backend) -> None:
    if backend.name != "postgresql":
        pytest.skip("ordered-set aggregates (WITHIN GROUP) are PostgreSQL's")
    stmt = select(func.percentile_cont(0.5).within_group(samples.c.level))
    assert float(conn.execute(stmt).scalar()) == 11.0
    stmt = (
        select(samples.c.site_id, func.mode().within_group(samples.c.day))
        .group_by(samples.c.site_id)
        .order_by(samples.c.site_id)
    )
    assert conn.execute(stmt).all() == [(1, 1), (2, 1), (3, 1)]


def test_cast_type_coerce_and_literal_column(conn: Any) -> None:
    stmt = select(cast(samples.c.level, String(10)) + "!").where(samples.c.id == 1)
    assert conn.execute(stmt).scalar() == "10!"
    stmt = select((cast("7", Integer) + samples.c.level).label("x")).where(samples.c.id == 1)
    assert conn.execute(stmt).scalar() == 17
    # type_coerce: no CAST in SQL, but the value is processed as JSON on the way in and out
    coerced = select(type_coerce(bindparam("doc", {"k": 3}), JSON).label("doc"))
    assert "CAST" not in str(coerced.compile(conn)).upper()
    assert conn.execute(coerced).scalar() == {"k": 3}
    # a string goes in as a JSON string, and comes back as that string
    coerced = select(type_coerce(bindparam("doc", '{"k": 3}'), JSON))
    assert conn.execute(coerced).scalar() == '{"k": 3}'
    stmt = select(literal_column("'x'").label("mark"), sites.c.name).where(sites.c.id == 2)
    row = conn.execute(stmt).one()
    assert row.mark == "x" and row.name == "birch"


def test_text_with_columns_and_bindparams(conn: Any) -> None:
    t = text("SELECT name, region FROM ct_sites WHERE region = :r ORDER BY id").bindparams(
        r="north"
    )
    assert conn.execute(t).all() == [("alder", "north"), ("birch", "north")]
    typed = text("SELECT id, name FROM ct_sites").columns(sites.c.id, sites.c.name)
    sub = typed.subquery("s")
    stmt = select(sub.c.name).where(sub.c.id > 2).order_by(sub.c.id)
    assert conn.execute(stmt).scalars().all() == ["cedar", "dune"]
    ct = typed.cte("named")
    assert conn.execute(select(func.count()).select_from(ct)).scalar() == 4
    stmt = select(sites.c.name).where(text("ct_sites.id < :n")).order_by(sites.c.id)
    assert conn.execute(stmt, {"n": 3}).scalars().all() == ["alder", "birch"]
    stmt = select(text("name"), literal_column("id")).select_from(sites).order_by(text("id"))
    assert conn.execute(stmt).first() == ("alder", 1)


def test_expanding_in_and_tuple_in(conn: Any) -> None:
    stmt = select(sites.c.name).where(sites.c.id.in_(bindparam("ids", expanding=True)))
    assert sorted(conn.execute(stmt, {"ids": [1, 3]}).scalars()) == ["alder", "cedar"]
    assert conn.execute(stmt, {"ids": []}).scalars().all() == []
    stmt = select(samples.c.level).where(
        tuple_(samples.c.site_id, samples.c.day).in_([(1, 2), (2, 1)])
    )
    assert sorted(conn.execute(stmt).scalars()) == [7, 14]


def test_case_in_select_and_order(conn: Any) -> None:
    grade = case(
        (samples.c.level >= 14, "high"), (samples.c.level >= 10, "mid"), else_="low"
    ).label("grade")
    stmt = select(samples.c.id, grade).where(samples.c.site_id == 1).order_by(samples.c.id)
    assert conn.execute(stmt).all() == [(1, "mid"), (2, "high"), (3, "mid")]
    by_name = case({"alder": 2, "birch": 1}, value=sites.c.name, else_=3)
    assert conn.execute(select(sites.c.name).order_by(by_name, sites.c.id)).scalars().all() == [
        "birch",
        "alder",
        "cedar",
        "dune",
    ]


def test_update_with_correlated_subquery_value(conn: Any) -> None:
    top = select(func.max(samples.c.level)).where(samples.c.site_id == sites.c.id).scalar_subquery()
    result = conn.execute(
        update(sites).values(region=cast(top, String(10))).where(sites.c.region == "north")
    )
    assert result.rowcount == 2
    assert conn.execute(select(sites.c.region).order_by(sites.c.id)).scalars().all() == [
        "14",
        "9",
        "south",
        None,
    ]


def test_update_with_bindparam_executemany(conn: Any) -> None:
    stmt = (
        update(samples).where(samples.c.id == bindparam("sid")).values(level=bindparam("new_level"))
    )
    result = conn.execute(stmt, [{"sid": 1, "new_level": 100}, {"sid": 6, "new_level": 600}])
    assert result.rowcount == 2
    assert conn.execute(
        select(samples.c.level).where(samples.c.id.in_([1, 6])).order_by(samples.c.id)
    ).scalars().all() == [100, 600]


def test_update_from_another_table(conn: Any) -> None:
    stmt = (
        update(samples)
        .where(samples.c.site_id == sites.c.id, sites.c.name == "birch")
        .values(tag="BB")
    )
    result = conn.execute(stmt)
    assert result.rowcount == 2
    assert conn.execute(
        select(samples.c.id).where(samples.c.tag == "BB").order_by(samples.c.id)
    ).scalars().all() == [4, 5]


def test_delete_with_other_table_criteria(conn: Any, backend: Backend) -> None:
    stmt = delete(samples).where(samples.c.site_id == sites.c.id, sites.c.region == "north")
    if backend.name == "sqlite":
        # SQLite's DELETE names one table; the subquery form works everywhere
        stmt = delete(samples).where(
            samples.c.site_id.in_(select(sites.c.id).where(sites.c.region == "north"))
        )
    result = conn.execute(stmt)
    assert result.rowcount == 5
    assert conn.execute(select(samples.c.level)).scalars().all() == [20]


def test_update_and_delete_returning(conn: Any, backend: Backend) -> None:
    stmt = update(samples).where(samples.c.day == 1).values(level=samples.c.level + 1)
    if backend.name == "mysql":
        with pytest.raises(exc.CompileError, match="RETURNING"):
            conn.execute(stmt.returning(samples.c.id))
    else:
        rows = conn.execute(stmt.returning(samples.c.id, samples.c.level)).all()
        assert sorted(rows) == [(1, 11), (4, 8), (6, 21)]
    rows = conn.execute(
        delete(samples).where(samples.c.site_id == 2).returning(samples.c.day)
    ).all()
    assert sorted(rows) == [(1,), (2,)]


def test_func_generic_and_named_types(conn: Any) -> None:
    assert conn.execute(select(func.lower("ABC"))).scalar() == "abc"
    assert conn.execute(select(func.coalesce(None, 3))).scalar() == 3
    stmt = select(func.count(sites.c.region.distinct()))
    assert conn.execute(stmt).scalar() == 2
    stmt = select(func.max(sites.c.name).label("last"), func.min(sites.c.name).label("first"))
    row = conn.execute(stmt).one()
    assert (row.first, row.last) == ("alder", "dune")


def test_nested_set_operations(conn: Any) -> None:
    inner = union(select(sites.c.id), select(samples.c.site_id))
    assert sorted(conn.execute(union(inner, select(literal(9)))).scalars()) == [1, 2, 3, 4, 9]
    both = union_all(inner, select(sites.c.id).where(sites.c.id == 1))
    assert sorted(conn.execute(both).scalars()) == [1, 1, 2, 3, 4]
    # a member with its own ORDER BY / LIMIT
    top = select(samples.c.level).order_by(samples.c.level.desc()).limit(1)
    low = select(samples.c.level).order_by(samples.c.level).limit(1)
    assert sorted(conn.execute(union_all(top, low)).scalars()) == [7, 20]


def test_ctes_in_insert_update_and_delete(conn: Any, backend: Backend) -> None:
    north = select(sites.c.id).where(sites.c.region == "north").cte("north")
    conn.execute(
        insert(samples).from_select(
            ["site_id", "day", "level"], select(north.c.id, literal(7), literal(0))
        )
    )
    assert conn.execute(
        select(samples.c.site_id).where(samples.c.day == 7).order_by(samples.c.site_id)
    ).scalars().all() == [1, 2]
    update_stmt = update(samples).where(samples.c.site_id.in_(select(north.c.id))).values(tag="n")
    delete_stmt = delete(samples).where(samples.c.site_id.in_(select(north.c.id)))
    if backend.name == "mysql":
        # MariaDB takes WITH before SELECT and INSERT's SELECT only
        for stmt in (update_stmt, delete_stmt):
            with pytest.raises(exc.CompileError, match="WITH"):
                conn.execute(stmt)
        return
    conn.execute(update_stmt)
    assert conn.execute(select(func.count()).where(samples.c.tag == "n")).scalar() == 7
    conn.execute(delete_stmt)
    assert conn.execute(select(samples.c.level)).scalars().all() == [20]


def test_select_of_a_column_subset_by_names(conn: Any) -> None:
    """``table.c["a", "b"]`` is a column collection; select() takes it for its columns,
    alone or among other entities, and so do add_columns() and with_only_columns()."""
    assert conn.execute(select(sites.c["name", "region"]).order_by(sites.c.id)).all()[:2] == [
        ("alder", "north"),
        ("birch", "north"),
    ]
    stmt = (
        select(samples.c.level, sites.c["name", "region"])
        .join_from(samples, sites)
        .where(samples.c.tag == "c")
    )
    row = conn.execute(stmt).one()
    assert row == (20, "cedar", "south") and row._fields == ("level", "name", "region")
    widened = select(sites.c.id).add_columns(sites.c["name", "region"]).where(sites.c.id == 4)
    assert conn.execute(widened).one() == (4, "dune", None)
    narrowed = widened.with_only_columns(sites.c["region", "name"])
    assert conn.execute(narrowed).one() == (None, "dune")


def test_table_column_and_type_reprs(conn: Any) -> None:
    """The reprs the tutorial prints for tables and columns: MetaData(), then each column
    with its type (arguments at their defaults left out), foreign keys, table, and the
    options that differ from a plain column."""
    assert (
        repr(sites.c.name) == "Column('name', String(length=30), table=<ct_sites>, nullable=False)"
    )
    assert repr(samples.c.site_id) == (
        "Column('site_id', Integer(), ForeignKey('ct_sites.id'), table=<ct_samples>, "
        "nullable=False)"
    )
    assert repr(sites) == (
        "Table('ct_sites', MetaData(), "
        "Column('id', Integer(), table=<ct_sites>, primary_key=True, nullable=False), "
        "Column('name', String(length=30), table=<ct_sites>, nullable=False), "
        "Column('region', String(length=10), table=<ct_sites>), schema=None)"
    )
    keyed = Column("lvl", Integer, key="level", comment="daily", server_default="0", default=3)
    assert repr(keyed) == (
        "Column('lvl', Integer(), table=None, key='level', default=ColumnDefault(3), "
        "server_default=DefaultClause('0'), comment='daily')"
    )
    assert [repr(t) for t in (Numeric(10, 2), Float(), DateTime(), Boolean(), Uuid())] == [
        "Numeric(precision=10, scale=2)",
        "Float()",
        "DateTime()",
        "Boolean()",
        "Uuid()",
    ]
    assert repr(DateTime(timezone=True)) == "DateTime(timezone=True)"
    assert repr(Enum("low", "high", name="grade")) == "Enum('low', 'high', name='grade')"
    assert repr(ARRAY(String(3), dimensions=2)) == "ARRAY(String(length=3), dimensions=2)"
    # what the columns hold is what they were declared with, on every database
    assert conn.execute(select(sites.c["name", "region"]).where(sites.c.id == 3)).one() == (
        "cedar",
        "south",
    )


def test_reflected_table_repr(conn: Any) -> None:
    """A reflected table shows the database's own type names (upper case), as the
    tutorial's reflection section prints them."""
    conn.execute(text("CREATE TABLE ct_plain (x INTEGER, y VARCHAR(20) NOT NULL)"))
    reflected = Table("ct_plain", MetaData(), autoload_with=conn)
    width = "display_width=11" if conn.dialect.name == "mysql" else ""  # as MariaDB shows it
    assert repr(reflected) == (
        f"Table('ct_plain', MetaData(), Column('x', INTEGER({width}), table=<ct_plain>), "
        "Column('y', VARCHAR(length=20), table=<ct_plain>, nullable=False), schema=None)"
    )
    conn.execute(insert(reflected), [{"x": 1, "y": "one"}])
    assert conn.execute(select(reflected)).all() == [(1, "one")]
