"""The ORM workflows a SQLAlchemy 2.x user follows (declare models, create_all, add and
commit, select and join, load related objects, change, delete, roll back, ORM-enabled
INSERT/UPDATE/DELETE, text(), Result methods), run on every database: the results, the
identity semantics and the rows another connection sees afterwards."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Annotated, Any

import pytest

from athanor import (
    BigInteger,
    ForeignKey,
    String,
    bindparam,
    create_engine,
    delete,
    exc,
    func,
    insert,
    inspect,
    select,
    text,
    union_all,
    update,
)
from athanor.orm import (
    MANYTOONE,
    ONETOMANY,
    DeclarativeBase,
    Mapped,
    MappedAsDataclass,
    RelationshipDirection,
    Session,
    aliased,
    contains_eager,
    immediateload,
    joinedload,
    mapped_column,
    raiseload,
    relationship,
    selectinload,
    sessionmaker,
    subqueryload,
    with_parent,
)
from athanor.orm import exc as orm_exc
from athanor.util import IdentitySet
from orm.library_models import Author, Book, LibraryBase, Loan, library, table_rows
from orm.orm_models import StatementLog


@pytest.fixture
def engine(backend: Any) -> Iterator[Any]:
    """An engine whose database holds the library's tables, empty."""
    eng = create_engine(backend.url)
    LibraryBase.metadata.create_all(eng)
    yield eng
    eng.dispose()


@pytest.fixture
def session(engine: Any) -> Iterator[Session]:
    """A session on a database holding :func:`library`'s rows (committed)."""
    with Session(engine) as s:
        s.add_all(library())
        s.commit()
        yield s


@pytest.fixture
def session_without_loans(session: Session) -> Session:
    """The library without its loans, so that books can be deleted."""
    session.execute(delete(Loan))
    session.commit()
    return session


def test_add_flush_commit_and_what_another_connection_sees(engine: Any) -> None:
    authors = library()
    le_guin = authors[0]
    with Session(engine) as session:
        session.add_all(authors)
        # Related objects came along through the save-update cascade, still without keys.
        assert len(session.new) == 9
        assert le_guin.id is None and le_guin.books[0].author is le_guin
        session.flush()
        assert [a.id for a in authors] == [1, 2, 3]
        assert [b.author_id for b in le_guin.books] == [1, 1]
        assert not session.new
        assert table_rows(engine, "SELECT COUNT(*) FROM lib_books") == [(0,)]  # not committed
        session.commit()
        assert "name" not in le_guin.__dict__  # commit expired it
        assert le_guin.name == "Le Guin"
    assert table_rows(engine, "SELECT id, name, country FROM lib_authors ORDER BY id") == [
        (1, "Le Guin", "US"),
        (2, "Pratchett", "UK"),
        (3, "Banks", None),
    ]
    assert table_rows(
        engine,
        "SELECT l.borrower, b.title FROM lib_loans l JOIN lib_books b ON b.id = l.book_id "
        "ORDER BY l.id",
    ) == [("ann", "Earthsea"), ("bob", "Earthsea"), ("cy", "Mort")]


def test_select_get_change_and_delete(session_without_loans: Session, engine: Any) -> None:
    session = session_without_loans
    pratchett = session.scalars(select(Author).where(Author.name == "Pratchett")).one()
    assert session.get(Author, 2) is pratchett
    assert session.get(Author, {"id": 2}) is pratchett
    assert session.get(Author, 99) is None
    with pytest.raises(exc.NoResultFound):
        session.get_one(Author, 99)
    assert session.scalars(select(Author).filter_by(country="UK")).first() is pratchett

    pratchett.country = "GB"
    assert pratchett in session.dirty and session.is_modified(pratchett)
    # autoflush: the query sees the pending change and returns the same object
    assert session.scalars(select(Author).where(Author.country == "GB")).one() is pratchett
    assert pratchett not in session.dirty
    mort = pratchett.books[0]
    session.delete(mort)
    assert mort in session.deleted
    session.commit()
    assert inspect(mort).detached and inspect(mort).was_deleted
    assert table_rows(engine, "SELECT country FROM lib_authors WHERE id = 2") == [("GB",)]
    assert table_rows(engine, "SELECT title FROM lib_books ORDER BY id") == [
        ("Earthsea",),
        ("Dispossessed",),
    ]


def test_rollback_restores_changed_pending_and_deleted_objects(
    session_without_loans: Session, engine: Any
) -> None:
    session = session_without_loans
    le_guin = session.get(Author, 1)
    assert le_guin is not None
    earthsea = le_guin.books[0]
    le_guin.name = "Ursula"
    newcomer = Author(name="Atwood", country="CA")
    session.add(newcomer)
    session.delete(earthsea)
    session.flush()
    assert newcomer.id is not None and inspect(earthsea).deleted
    session.rollback()
    assert le_guin.name == "Le Guin"  # expired, reloaded from the database
    assert inspect(newcomer).transient and newcomer not in session
    assert inspect(earthsea).persistent and earthsea in session
    assert earthsea in le_guin.books
    assert table_rows(engine, "SELECT COUNT(*) FROM lib_authors") == [(3,)]


def test_related_objects_back_populates_cascades_and_orphans(
    session_without_loans: Session, engine: Any
) -> None:
    session = session_without_loans
    le_guin, pratchett = session.get_one(Author, 1), session.get_one(Author, 2)
    tehanu = Book(title="Tehanu", year=1990)
    le_guin.books.append(tehanu)
    assert tehanu.author is le_guin  # back_populates, in memory
    assert tehanu in session.new  # save-update cascade along the collection
    dispossessed = le_guin.books[1]
    dispossessed.author = pratchett  # many-to-one moves it between the collections
    assert dispossessed not in le_guin.books and dispossessed in pratchett.books
    session.commit()
    assert table_rows(engine, "SELECT title, author_id FROM lib_books ORDER BY id") == [
        ("Earthsea", 1),
        ("Dispossessed", 2),
        ("Mort", 2),
        ("Tehanu", 1),
    ]
    earthsea = le_guin.books[0]
    le_guin.books.remove(earthsea)  # delete-orphan: the row goes
    session.commit()
    assert inspect(earthsea).was_deleted
    assert table_rows(engine, "SELECT title FROM lib_books WHERE author_id = 1") == [("Tehanu",)]
    session.delete(pratchett)  # cascade="all": its books go with it
    session.commit()
    assert table_rows(engine, "SELECT title FROM lib_books") == [("Tehanu",)]


def test_result_methods(session: Session) -> None:
    by_id = select(Author.id, Author.name).order_by(Author.id)
    assert session.execute(by_id).all() == [(1, "Le Guin"), (2, "Pratchett"), (3, "Banks")]
    assert session.execute(by_id).first() == (1, "Le Guin")
    assert [dict(m) for m in session.execute(by_id).mappings()] == [
        {"id": 1, "name": "Le Guin"},
        {"id": 2, "name": "Pratchett"},
        {"id": 3, "name": "Banks"},
    ]
    assert [[tuple(r) for r in part] for part in session.execute(by_id).partitions(2)] == [
        [(1, "Le Guin"), (2, "Pratchett")],
        [(3, "Banks")],
    ]
    assert list(session.scalars(select(Book.id).order_by(Book.id)).partitions(2)) == [
        [1, 2],
        [3],
    ]
    result = session.execute(by_id)
    assert list(result.keys()) == ["id", "name"]
    assert result.fetchmany(2) == [(1, "Le Guin"), (2, "Pratchett")]
    assert result.fetchone() == (3, "Banks")
    assert result.fetchone() is None
    assert session.execute(by_id).columns("name").all() == [
        ("Le Guin",),
        ("Pratchett",),
        ("Banks",),
    ]
    none = select(Book).where(Book.year > 3000)
    with pytest.raises(exc.NoResultFound):
        session.scalars(none).one()
    with pytest.raises(exc.MultipleResultsFound):
        session.scalars(select(Book)).one()
    with pytest.raises(exc.MultipleResultsFound):
        session.scalars(select(Book)).one_or_none()
    assert session.scalars(none).one_or_none() is None
    assert session.scalars(none).first() is None
    assert session.execute(select(Book.title).where(Book.id == 3)).scalar_one() == "Mort"
    assert session.execute(select(Book.title).where(Book.id == 9)).scalar_one_or_none() is None
    assert session.scalar(select(func.count()).select_from(Book)) == 3
    assert session.scalars(select(Book.author_id).order_by(Book.author_id)).unique().all() == [
        1,
        2,
    ]
    assert dict(session.execute(select(Author.name).where(Author.id == 3)).mappings().one()) == {
        "name": "Banks"
    }


def test_row_attribute_names(session: Session) -> None:
    le_guin = session.get_one(Author, 1)
    row = session.execute(select(Author).where(Author.id == 1)).one()
    assert row._fields == ("Author",) and row.Author is le_guin and row[0] is le_guin
    assert list(session.execute(select(Author).where(Author.id == 1)).mappings().one()) == [
        "Author"
    ]
    row = session.execute(select(Book.title, Author).join(Book.author).where(Book.id == 3)).one()
    assert row._fields == ("title", "Author") and row.title == "Mort"
    assert row.Author.name == "Pratchett"
    row = session.execute(
        select(Author.name.label("writer"), func.count(Book.id))
        .join(Author.books)
        .group_by(Author.name)
        .order_by(Author.name)
    ).first()
    assert row is not None
    assert row._fields == ("writer", "count") and row._asdict() == {"writer": "Le Guin", "count": 2}
    assert row._mapping["writer"] == "Le Guin"
    first = aliased(Author, name="first")
    assert session.execute(select(first).where(first.id == 2)).one().first.name == "Pratchett"


def test_string_concatenation_with_the_plain_string_first(session: Session) -> None:
    """``"text" + Model.string_column`` concatenates (it used to become an arithmetic
    ``+``: 0 on SQLite, an error or NULL elsewhere)."""
    rows = session.execute(
        select(("by " + Author.name).label("byline"), (Author.name + "!").label("shout"))
        .where(Author.id < 3)
        .order_by(Author.id)
    ).all()
    assert rows == [("by Le Guin", "Le Guin!"), ("by Pratchett", "Pratchett!")]
    assert rows[0].byline == "by Le Guin"
    titled = session.scalars(select(Book.title).where(("«" + Book.title + "»") == "«Mort»")).all()
    assert titled == ["Mort"]


def test_functions_of_plain_values(session: Session) -> None:
    """``func.count("*")`` (the tutorial's row count) passes ``"*"`` as a parameter whose type
    the server cannot tell from ``count()`` alone; the statement types it (psycopg sent it
    untyped: "could not determine data type of parameter")."""
    assert session.scalar(select(func.count("*")).select_from(Author)) == 3
    assert session.scalar(select(func.count("*")).select_from(Book).where(Book.year > 1970)) == 2
    assert session.execute(
        select(Author.name, func.count("*"))
        .join(Author.books)
        .group_by(Author.name)
        .order_by(Author.name)
    ).all() == [("Le Guin", 2), ("Pratchett", 1)]


def test_joins_outer_joins_and_relationship_criteria(session: Session) -> None:
    assert session.scalars(
        select(Author.name).join(Author.books).where(Book.year < 1970)
    ).all() == ["Le Guin"]
    assert session.scalars(
        select(Book.title).join(Author, Book.author_id == Author.id).where(Author.country == "UK")
    ).all() == ["Mort"]
    assert session.execute(
        select(Author.name, func.count(Book.id))
        .outerjoin(Author.books)
        .group_by(Author.name)
        .order_by(Author.name)
    ).all() == [("Banks", 0), ("Le Guin", 2), ("Pratchett", 1)]
    assert session.execute(
        select(Author.name, func.count(Book.id).label("n"))
        .join(Author.books)
        .group_by(Author.name)
        .having(func.count(Book.id) > 1)
    ).all() == [("Le Guin", 2)]
    assert session.scalars(
        select(Loan.borrower)
        .join_from(Author, Book)
        .join(Loan)
        .where(Author.id == 1)
        .order_by(Loan.borrower)
    ).all() == ["ann", "bob"]
    earlier, later = aliased(Book), aliased(Book)
    assert session.execute(
        select(earlier.title, later.title)
        .join(later, earlier.author_id == later.author_id)
        .where(earlier.year < later.year)
    ).all() == [("Earthsea", "Dispossessed")]
    recent = aliased(Book)
    assert session.execute(
        select(Author.name, recent.title)
        .join(Author.books.of_type(recent))
        .where(recent.year > 1970)
        .order_by(recent.id)
    ).all() == [("Le Guin", "Dispossessed"), ("Pratchett", "Mort")]
    assert session.scalars(select(Author.name).join(Author.books.and_(Book.year > 1980))).all() == [
        "Pratchett"
    ]
    assert session.scalars(select(Author.name).where(Author.books.any(Book.year > 1980))).all() == [
        "Pratchett"
    ]
    assert session.scalars(
        select(Book.title).where(Book.author.has(Author.country == "US")).order_by(Book.id)
    ).all() == ["Earthsea", "Dispossessed"]
    assert session.scalars(
        select(Author.name).where(~select(Book.id).where(Book.author_id == Author.id).exists())
    ).all() == ["Banks"]
    le_guin = session.get_one(Author, 1)
    assert session.scalars(
        select(Book.title).where(with_parent(le_guin, Author.books)).order_by(Book.id)
    ).all() == ["Earthsea", "Dispossessed"]
    assert session.scalars(
        select(Book.title).where(Book.author == le_guin).order_by(Book.id)
    ).all() == [
        "Earthsea",
        "Dispossessed",
    ]
    assert session.scalars(select(Author.name).order_by(Author.id).limit(2).offset(1)).all() == [
        "Pratchett",
        "Banks",
    ]


def test_subqueries_ctes_and_unions_of_entities(session: Session) -> None:
    later = select(Book).where(Book.year > 1970).subquery()
    later_book = aliased(Book, later)
    rows = session.execute(
        select(Author.name, later_book).join(later_book, Author.books).order_by(later_book.id)
    ).all()
    assert [(name, book.title) for name, book in rows] == [
        ("Le Guin", "Dispossessed"),
        ("Pratchett", "Mort"),
    ]
    assert rows[1][1] is session.get(Book, 3)  # the identity map's object, not a copy
    counts = select(Book.author_id, func.count(Book.id).label("n")).group_by(Book.author_id).cte()
    assert session.execute(
        select(Author.name, counts.c.n)
        .join_from(Author, counts, Author.id == counts.c.author_id)
        .order_by(counts.c.n)
    ).all() == [("Pratchett", 1), ("Le Guin", 2)]
    early = aliased(Book, select(Book).where(Book.year < 1980).cte())
    assert [b.title for b in session.scalars(select(early).order_by(early.id))] == [
        "Earthsea",
        "Dispossessed",
    ]
    count = select(func.count(Book.id)).where(Book.author_id == Author.id).scalar_subquery()
    assert session.execute(select(Author.name, count).order_by(Author.id)).all() == [
        ("Le Guin", 2),
        ("Pratchett", 1),
        ("Banks", 0),
    ]
    both = union_all(select(Author).where(Author.id == 1), select(Author).where(Author.id == 3))
    either = aliased(Author, both.subquery())
    assert [a.name for a in session.scalars(select(either).order_by(either.id))] == [
        "Le Guin",
        "Banks",
    ]
    assert [a.name for a in session.scalars(select(Author).from_statement(both))] == [
        "Le Guin",
        "Banks",
    ]


def test_loader_options(session: Session, engine: Any) -> None:
    log = StatementLog(engine)
    session.expunge_all()
    authors = session.scalars(
        select(Author)
        .options(selectinload(Author.books).selectinload(Book.loans))
        .order_by(Author.id)
    ).all()
    assert [[(b.title, [x.borrower for x in b.loans]) for b in a.books] for a in authors] == [
        [("Earthsea", ["ann", "bob"]), ("Dispossessed", [])],
        [("Mort", ["cy"])],
        [],
    ]
    assert len(log.selects) == 3
    session.expunge_all()
    with pytest.raises(exc.InvalidRequestError, match="unique"):
        session.scalars(select(Author).options(joinedload(Author.books))).all()
    joined = (
        session.scalars(select(Author).options(joinedload(Author.books)).order_by(Author.id))
        .unique()
        .all()
    )
    assert [len(a.books) for a in joined] == [2, 1, 0]
    session.expunge_all()
    log.clear()
    books = session.scalars(
        select(Book)
        .join(Book.author)
        .where(Author.name == "Le Guin")
        .options(contains_eager(Book.author))
        .order_by(Book.id)
    ).all()
    assert [b.author.name for b in books] == ["Le Guin", "Le Guin"] and len(log.selects) == 1
    # contains_eager with a filtered join: the collection holds what the query returned
    session.expunge_all()
    le_guin = (
        session.scalars(
            select(Author)
            .join(Author.books)
            .where(Book.year > 1970, Author.id == 1)
            .options(contains_eager(Author.books))
        )
        .unique()
        .one()
    )
    assert [b.title for b in le_guin.books] == ["Dispossessed"]
    session.expunge_all()
    strict = session.scalars(select(Author).where(Author.id == 1).options(raiseload("*"))).one()
    with pytest.raises(exc.InvalidRequestError, match="books"):
        _ = strict.books


@pytest.mark.parametrize("first", [selectinload, subqueryload, immediateload])
@pytest.mark.parametrize("second", [selectinload, subqueryload, joinedload])
def test_chained_loader_reaches_a_collection_loaded_before(
    session: Session, engine: Any, first: Any, second: Any
) -> None:
    """``first(Author.books).second(Book.loans)`` loads the loans of books that were already
    in ``le_guin.books`` before the query (they used to stay unloaded, so async code got
    MissingGreenlet from ``book.loans`` after asking for them to be loaded)."""
    le_guin = session.get_one(Author, 1)
    assert [b.title for b in le_guin.books] == ["Earthsea", "Dispossessed"]
    pratchett = session.scalars(
        select(Author)
        .where(Author.id < 3)
        .options(first(Author.books).options(second(Book.loans)))
        .order_by(Author.id)
    ).all()[1]
    log = StatementLog(engine)
    assert [[x.borrower for x in b.loans] for b in le_guin.books] == [["ann", "bob"], []]
    assert [[x.borrower for x in b.loans] for b in pratchett.books] == [["cy"]]
    assert log.selects == []


def test_subqueryload_runs_the_statement_again_with_its_parameters(session: Session) -> None:
    """The subquery load embeds the parent statement, so it needs the values the parent
    ran with (it used to fail: "A value is required for bind parameter")."""
    session.expunge_all()
    (le_guin,) = session.scalars(
        select(Author).where(Author.name == bindparam("who")).options(subqueryload(Author.books)),
        {"who": "Le Guin"},
    ).all()
    assert [b.title for b in le_guin.__dict__["books"]] == ["Earthsea", "Dispossessed"]


def test_orm_update_and_delete_keep_the_session_in_step(session: Session, engine: Any) -> None:
    le_guin, pratchett = session.get_one(Author, 1), session.get_one(Author, 2)
    session.execute(update(Author).where(Author.name == "Le Guin").values(name="Ursula"))
    assert le_guin.name == "Ursula"  # default "auto" synchronization
    result = session.execute(
        update(Author).where(Author.country.in_(["US", "UK"])).values(country="XX"),
        execution_options={"synchronize_session": "evaluate"},
    )
    assert result.rowcount == 2 and (le_guin.country, pratchett.country) == ("XX", "XX")
    session.execute(
        update(Author)
        .where(Author.id == 2)
        .values(name=Author.name + " T.")
        .execution_options(synchronize_session="fetch")
    )
    assert pratchett.name == "Pratchett T."
    session.execute(
        update(Author).where(Author.id == 2).values(country="GB"),
        execution_options={"synchronize_session": False},
    )
    assert pratchett.country == "XX"  # not synchronized, as asked
    session.refresh(pratchett)
    assert pratchett.country == "GB"
    if engine.dialect.update_returning:
        (returned,) = session.scalars(
            update(Author).where(Author.id == 1).values(country="US").returning(Author)
        ).all()
        assert returned is le_guin and le_guin.country == "US"
    banks = session.get_one(Author, 3)
    result = session.execute(delete(Author).where(Author.name == "Banks"))
    assert result.rowcount == 1
    assert banks not in session and inspect(banks).was_deleted
    assert session.get(Author, 3) is None
    session.commit()
    assert table_rows(engine, "SELECT name, country FROM lib_authors ORDER BY id") == [
        ("Ursula", "US" if engine.dialect.update_returning else "XX"),
        ("Pratchett T.", "GB"),
    ]


def test_orm_insert_returning_gives_persistent_objects(session: Session, engine: Any) -> None:
    made = session.scalars(
        insert(Author).returning(Author, sort_by_parameter_order=True),
        [{"name": "Atwood", "country": "CA"}, {"name": "Ishiguro"}, {"name": "Jemisin"}],
    ).all()
    assert [(a.name, a.country) for a in made] == [
        ("Atwood", "CA"),
        ("Ishiguro", None),
        ("Jemisin", None),
    ]
    assert all(inspect(a).persistent for a in made)
    assert session.get(Author, made[0].id) is made[0]
    rows = session.execute(
        insert(Author).returning(Author.id, Author.name),
        [{"name": "Le Carre"}, {"name": "Mieville"}],
    ).all()
    assert sorted(r.name for r in rows) == ["Le Carre", "Mieville"] and rows[0]._fields == (
        "id",
        "name",
    )
    session.execute(
        insert(Book),
        [
            {"title": "Oryx", "year": 2003, "author_id": made[0].id},
            {"title": "Remains", "year": 1989, "author_id": made[1].id},
        ],
    )
    one = session.execute(insert(Author).values(name="Gaiman").returning(Author)).scalar_one()
    assert one.name == "Gaiman" and one.country is None and one.id is not None
    session.commit()
    assert table_rows(engine, "SELECT COUNT(*) FROM lib_authors") == [(9,)]
    assert table_rows(
        engine,
        "SELECT a.name FROM lib_books b JOIN lib_authors a ON a.id = b.author_id "
        "WHERE b.title = 'Remains'",
    ) == [("Ishiguro",)]


def test_bulk_update_by_primary_key(session: Session, engine: Any) -> None:
    le_guin = session.get_one(Author, 1)
    session.execute(update(Author), [{"id": 1, "country": "CA"}, {"id": 3, "country": "UK"}])
    assert le_guin.country == "CA"
    session.commit()
    assert table_rows(engine, "SELECT country FROM lib_authors ORDER BY id") == [
        ("CA",),
        ("UK",),
        ("UK",),
    ]


@pytest.mark.parametrize("how", ["execute", "bulk_update_mappings"])
def test_bulk_update_naming_a_missing_row_raises_stale_data(
    session: Session, engine: Any, how: str
) -> None:
    """A primary key that matches no row is an error, as in a flush (it used to pass
    silently, leaving the caller to believe every row was written)."""
    rows = [{"id": 2, "country": "IE"}, {"id": 99, "country": "IE"}]
    with pytest.raises(orm_exc.StaleDataError, match="expected to update 2 row"):
        if how == "execute":
            session.execute(update(Author), rows)
        else:
            session.bulk_update_mappings(Author, rows)
    session.rollback()
    assert table_rows(engine, "SELECT country FROM lib_authors WHERE id = 2") == [("UK",)]


def test_text_with_the_orm(session: Session) -> None:
    rows = session.execute(
        text("SELECT id, name FROM lib_authors WHERE id <= :n ORDER BY id"), {"n": 2}
    ).all()
    assert rows == [(1, "Le Guin"), (2, "Pratchett")] and rows[1].name == "Pratchett"
    pratchett = session.get_one(Author, 2)
    found = session.scalars(
        select(Author).from_statement(text("SELECT * FROM lib_authors WHERE id = :i")), {"i": 2}
    ).all()
    assert found == [pratchett] and found[0] is pratchett
    typed = text("SELECT id, name FROM lib_authors ORDER BY id").columns(Author.id, Author.name)
    assert [a.name for a in session.scalars(select(Author).from_statement(typed))] == [
        "Le Guin",
        "Pratchett",
        "Banks",
    ]
    assert session.scalars(text("SELECT title FROM lib_books ORDER BY id")).all() == [
        "Earthsea",
        "Dispossessed",
        "Mort",
    ]
    assert session.scalars(
        select(Book.title).where(Book.id.in_(bindparam("ids", expanding=True))).order_by(Book.id),
        {"ids": [1, 3]},
    ).all() == ["Earthsea", "Mort"]


def test_reprs(session: Session) -> None:
    authors = session.scalars(select(Author).order_by(Author.id)).all()
    assert repr(authors[:2]) == "[Author(id=1, name='Le Guin'), Author(id=2, name='Pratchett')]"
    assert repr(session.get(Book, 3)) == "Book('Mort', 1987)"
    assert re.fullmatch(r"<orm\.library_models\.Loan object at 0x[0-9a-f]+>", repr(Loan()))
    assert repr(session.execute(select(Author.id, Author.name).where(Author.id == 3)).one()) == (
        "(3, 'Banks')"
    )


class _EqualToEverything:
    def __eq__(self, other: object) -> bool:
        return True

    __hash__ = object.__hash__


def test_new_dirty_and_deleted_are_identity_sets(session_without_loans: Session) -> None:
    """``session.new``/``dirty``/``deleted`` are IdentitySets: printed as the tutorial shows
    them, ordered as the objects arrived, compared by identity (an object equal to a member
    by ``__eq__`` is not in it) and usable with set operators."""
    session = session_without_loans
    le_guin, pratchett = session.scalars(select(Author).order_by(Author.id).limit(2)).all()
    le_guin.country = "XX"
    pratchett.country = "YY"
    dirty = session.dirty
    assert isinstance(dirty, IdentitySet) and len(dirty) == 2
    assert repr(dirty) == (
        "IdentitySet([Author(id=1, name='Le Guin'), Author(id=2, name='Pratchett')])"
    )
    assert dirty == IdentitySet([pratchett, le_guin]) and dirty != [le_guin, pratchett]
    assert (dirty - IdentitySet([le_guin])) == IdentitySet([pratchett])
    assert list(dirty & IdentitySet([pratchett])) == [pratchett]
    session.add(Author(name="Wolfe"))
    assert repr(session.new) == "IdentitySet([Author(id=None, name='Wolfe')])"
    mort = session.get(Book, 3)
    session.delete(mort)
    assert mort in session.deleted and _EqualToEverything() not in session.deleted
    session.flush()
    assert not session.new and not session.dirty and not session.deleted
    assert repr(session.new) == "IdentitySet([])"


def test_relationship_direction(session: Session) -> None:
    """``direction`` names which side holds the foreign key, as RelationshipDirection
    members (also importable as ONETOMANY / MANYTOONE)."""
    books = inspect(Author).relationships.books
    author = inspect(Book).relationships.author
    assert books.direction is RelationshipDirection.ONETOMANY is ONETOMANY
    assert author.direction is RelationshipDirection.MANYTOONE is MANYTOONE
    assert (books.direction.name, author.direction.name) == ("ONETOMANY", "MANYTOONE")
    assert session.get(Book, 1).author is session.get(Author, 1)


def test_sessionmaker_begin_and_expire_on_commit(engine: Any) -> None:
    factory = sessionmaker(engine)
    with factory.begin() as session:
        session.add_all(library())
    with factory() as session:
        atwood = Author(name="Atwood")
        session.add(atwood)
        session.commit()
    with pytest.raises(orm_exc.DetachedInstanceError, match="name"):
        _ = atwood.name  # expired by the commit, then detached by the close
    with Session(engine, expire_on_commit=False) as session:
        kept = session.get_one(Author, 1)
        session.commit()
    assert kept.name == "Le Guin"
    assert table_rows(engine, "SELECT COUNT(*) FROM lib_authors") == [(4,)]


def test_refresh_loads_the_relationships_it_names(session: Session, engine: Any) -> None:
    """``refresh(obj, ["books"])`` loads the collection at once (the way to load it in async
    code) rather than leaving it to load on the next access."""
    le_guin = session.get_one(Author, 1)
    assert len(le_guin.books) == 2
    session.commit()
    with engine.begin() as conn:
        conn.execute(insert(Book.__table__).values(title="Tehanu", year=1990, author_id=1))
    log = StatementLog(engine)
    session.refresh(le_guin, ["books", "name"])
    assert "books" in le_guin.__dict__ and "name" in le_guin.__dict__
    assert [b.title for b in le_guin.__dict__["books"]] == ["Earthsea", "Dispossessed", "Tehanu"]
    assert len(log.selects) == 2


def test_refresh_with_for_update_locks_the_row(session: Session, engine: Any) -> None:
    le_guin = session.get_one(Author, 1)
    log = StatementLog(engine)
    session.refresh(le_guin, with_for_update=True)
    session.refresh(le_guin, ["country"], with_for_update={"read": True})
    assert le_guin.name == "Le Guin" and le_guin.country == "US"
    if engine.dialect.name == "sqlite":
        assert not any("FOR " in sql.upper() for sql in log.selects)
    else:
        assert "FOR UPDATE" in log.selects[0].upper()
        shared = "FOR SHARE" if engine.dialect.name == "postgresql" else "LOCK IN SHARE MODE"
        assert shared in log.selects[1].upper()


class BranchBase(DeclarativeBase):
    pass


class Branch(BranchBase):
    __tablename__ = "lib_branches"

    id: Mapped[int] = mapped_column(primary_key=True)
    rooms: Mapped[list[Room]] = relationship(order_by="Room.id")


class Room(BranchBase):
    """Its desks load with ``joined`` by default, also when its rooms are lazy loaded."""

    __tablename__ = "lib_rooms"

    id: Mapped[int] = mapped_column(primary_key=True)
    branch_id: Mapped[int] = mapped_column(ForeignKey("lib_branches.id"))
    desks: Mapped[list[Desk]] = relationship(lazy="joined", order_by="Desk.id")


class Desk(BranchBase):
    __tablename__ = "lib_desks"

    id: Mapped[int] = mapped_column(primary_key=True)
    room_id: Mapped[int] = mapped_column(ForeignKey("lib_rooms.id"))


def test_lazy_load_of_objects_with_a_joined_collection(backend: Any) -> None:
    """Lazy loading ``branch.rooms`` joins each room's desks (``lazy="joined"``); the load
    makes its rows unique itself (it used to raise "The unique() method must be invoked")."""
    eng = create_engine(backend.url)
    try:
        BranchBase.metadata.create_all(eng)
        with Session(eng) as session:
            session.add(Branch(rooms=[Room(desks=[Desk(), Desk()]), Room()]))
            session.commit()
        with Session(eng) as session:
            log = StatementLog(eng)
            branch = session.get_one(Branch, 1)
            assert [len(room.desks) for room in branch.rooms] == [2, 0]
            assert all("desks" in room.__dict__ for room in branch.rooms)
            assert len(log.selects) == 2
    finally:
        eng.dispose()


def test_many_new_objects_with_only_generated_values(backend: Any) -> None:
    """Enough objects holding nothing but their autoincrement key to take the batched
    INSERT path are written one ``INSERT ... DEFAULT VALUES`` each (the batch used to fail
    with "did not report the keys of its rows"), each with its own key."""
    eng = create_engine(backend.url)
    try:
        BranchBase.metadata.create_all(eng)
        with Session(eng) as session:
            branches = [Branch(rooms=[Room()]) for _ in range(40)]
            session.add_all(branches)
            session.commit()
            ids = [b.id for b in branches]
            assert len(set(ids)) == 40
            assert [b.rooms[0].branch_id for b in branches] == ids
        assert table_rows(eng, "SELECT COUNT(*), COUNT(DISTINCT branch_id) FROM lib_rooms") == [
            (40, 40)
        ]
    finally:
        eng.dispose()


intpk = Annotated[int, mapped_column(primary_key=True)]
name30 = Annotated[str, mapped_column(String(30), nullable=False)]


def test_column_declarations_carried_by_annotated_types(backend: Any) -> None:
    """``Annotated[type, mapped_column(...)]`` types a column and gives its options; a
    mapped_column() on the attribute adds to or overrides them, also with a
    type_annotation_map for the inner type and with dataclass mappings."""

    class Base(MappedAsDataclass, DeclarativeBase):
        type_annotation_map = {int: BigInteger}

    class Shelf(Base):
        __tablename__ = "tw_shelves"

        id: Mapped[intpk] = mapped_column(init=False)
        label: Mapped[name30]
        note: Mapped[name30 | None] = mapped_column(String(50), nullable=True, default=None)

    table = Shelf.__table__  # type: ignore[attr-defined]
    assert repr(table.c.id) == (
        "Column('id', BigInteger(), table=<tw_shelves>, primary_key=True, nullable=False)"
    )
    assert (
        repr(table.c.label)
        == "Column('label', String(length=30), table=<tw_shelves>, nullable=False)"
    )
    assert repr(table.c.note) == "Column('note', String(length=50), table=<tw_shelves>)"
    engine = create_engine(backend.url)
    Base.metadata.create_all(engine)
    try:
        with Session(engine) as session:
            session.add_all([Shelf(label="top"), Shelf(label="low", note="dusty")])
            session.commit()
            rows = session.execute(select(Shelf.id, Shelf.label, Shelf.note).order_by(Shelf.id))
            assert [tuple(r)[1:] for r in rows] == [("top", None), ("low", "dusty")]
    finally:
        Base.metadata.drop_all(engine)
        engine.dispose()
