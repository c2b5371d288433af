"""``select(...).column_descriptions`` and ``Query.column_descriptions``: one entry per
selected entity or column, naming what was selected (compile-free, no database)."""

from __future__ import annotations

from athanor import ForeignKey, Integer, String, column, delete, func, insert, select, table, update
from athanor.orm import Bundle, DeclarativeBase, Mapped, Session, aliased, mapped_column


class DescBase(DeclarativeBase):
    pass


class Author(DescBase):
    __tablename__ = "desc_authors"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column("author_name", String(30))


class Book(DescBase):
    __tablename__ = "desc_books"

    id: Mapped[int] = mapped_column(primary_key=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("desc_authors.id"))


def test_entity_and_mapped_attribute() -> None:
    name, entity = select(Author.name, Author).column_descriptions
    assert name == {
        "name": "name",
        "type": name["type"],
        "aliased": False,
        "expr": Author.name,
        "entity": Author,
    }
    assert isinstance(name["type"], String)
    assert entity == {
        "name": "Author",
        "type": Author,
        "aliased": False,
        "expr": Author,
        "entity": Author,
    }


def test_aliased_entity() -> None:
    named = aliased(Author, name="a2")
    anonymous = aliased(Author)
    first, second = select(named, anonymous).column_descriptions
    assert first == {"name": "a2", "type": Author, "aliased": True, "expr": named, "entity": named}
    assert second["expr"] is anonymous and second["entity"] is anonymous
    assert second["aliased"] is True and second["type"] is Author
    assert second["name"] is None  # as SQLAlchemy reports an unnamed alias


def test_expressions_and_plain_columns() -> None:
    t = table("t", column("x"))
    counted, labelled, plain = select(
        func.count(Book.id), func.count(Book.id).label("n"), t.c.x
    ).column_descriptions
    assert counted["name"] == "count" and isinstance(counted["type"], Integer)
    assert labelled["name"] == "n" and labelled["aliased"] is False
    assert plain["name"] == "x" and plain["expr"] is t.c.x and plain["entity"] is None


def test_expressions_over_mapped_attributes_belong_to_their_class() -> None:
    counted, lowered, summed, labelled, anything = select(
        func.count(Book.id),
        func.lower(Author.name),
        Book.id + 1,
        (Author.id * 2).label("twice"),
        func.count(),
    ).column_descriptions
    assert (counted["name"], counted["entity"], counted["aliased"]) == ("count", Book, False)
    assert (lowered["name"], lowered["entity"]) == ("lower", Author)
    assert summed["entity"] is Book
    assert (labelled["name"], labelled["entity"]) == ("twice", Author)
    assert anything["entity"] is None
    # of a single-table hierarchy: the class whose attribute it is
    base, sub = select(func.count(Staff.id), Chef.id + 1).column_descriptions
    assert (base["entity"], sub["entity"]) == (Staff, Chef)


def test_added_and_replaced_columns_keep_their_attributes() -> None:
    stmt = select(Book).add_columns(Author.id)
    assert [d["expr"] for d in stmt.column_descriptions] == [Book, Author.id]
    assert [d["expr"] for d in stmt.with_only_columns(Book.id).column_descriptions] == [Book.id]


def test_bundle_is_one_entry() -> None:
    bundle = Bundle("b", Author.id, Author.name)
    (entry,) = select(bundle).column_descriptions
    assert entry["name"] == "b" and entry["expr"] is bundle
    # Its entity is that of its first column, a nested bundle's included.
    assert entry["entity"] is Author
    nested = Bundle("n", Bundle("inner", Book.id), Author.id)
    (entry,) = select(nested).column_descriptions
    assert entry["entity"] is Book and entry["type"] is Bundle


def test_query_column_descriptions() -> None:
    named = aliased(Author, name="a2")
    query = Session().query(Author.id, named)
    assert query.column_descriptions == [
        {
            "name": "id",
            "type": query.column_descriptions[0]["type"],
            "aliased": False,
            "expr": Author.id,
            "entity": Author,
        },
        {"name": "a2", "type": Author, "aliased": True, "expr": named, "entity": named},
    ]


class Staff(DescBase):
    __tablename__ = "desc_staff"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(10))
    __mapper_args__ = {"polymorphic_on": "kind", "polymorphic_identity": "staff"}


class Chef(Staff):
    """Single-table subclass."""

    dish: Mapped[str | None] = mapped_column(String(20))
    __mapper_args__ = {"polymorphic_identity": "chef"}


class Waiter(Staff):
    """Joined-table subclass."""

    __tablename__ = "desc_waiters"

    id: Mapped[int] = mapped_column(ForeignKey("desc_staff.id"), primary_key=True)
    tables: Mapped[int | None]
    __mapper_args__ = {"polymorphic_identity": "waiter"}


def test_attributes_of_an_alias_belong_to_the_alias() -> None:
    named = aliased(Author, name="a2")
    column, labelled, counted = select(
        named.name, named.id.label("n"), func.count(named.id)
    ).column_descriptions
    assert column["name"] == "name" and isinstance(column["type"], String)
    assert (column["aliased"], column["entity"]) == (True, named)
    assert column["expr"] is named.name
    assert (labelled["name"], labelled["entity"], labelled["aliased"]) == ("n", named, True)
    assert (counted["name"], counted["entity"]) == ("count", named)
    assert isinstance(counted["type"], Integer)


def test_inherited_attributes_belong_to_the_subclass() -> None:
    for cls in (Chef, Waiter):
        plain, labelled, counted = select(
            cls.id, cls.id.label("i"), func.count(cls.id)
        ).column_descriptions
        assert (plain["expr"], plain["entity"], plain["aliased"]) == (cls.id, cls, False)
        assert (labelled["name"], labelled["entity"], labelled["aliased"]) == ("i", cls, False)
        assert (counted["name"], counted["entity"]) == ("count", cls)
        assert isinstance(counted["type"], Integer)
    chef = aliased(Chef, name="c")
    (entry,) = select(chef.dish).column_descriptions
    assert (entry["name"], entry["aliased"], entry["entity"]) == ("dish", True, chef)
    waiter = aliased(Waiter, name="w")
    tables, whole = select(waiter.tables, waiter).column_descriptions
    assert (tables["name"], tables["aliased"], tables["entity"]) == ("tables", True, waiter)
    assert whole == {"name": "w", "type": Waiter, "aliased": True, "expr": waiter, "entity": waiter}


def test_core_columns_of_a_mapped_table_have_no_entity() -> None:
    books = Book.__table__
    core, mapped = select(books.c.author_id, Book.author_id).column_descriptions
    assert core == {
        "name": "author_id",
        "type": core["type"],
        "aliased": False,
        "expr": books.c.author_id,
        "entity": None,
    }
    assert mapped["entity"] is Book and mapped["expr"] is Book.author_id
    assert Session().query(books.c.id).column_descriptions[0]["entity"] is None


class Reviewer(Author):
    __tablename__ = "desc_reviewers"

    id: Mapped[int] = mapped_column(ForeignKey("desc_authors.id"), primary_key=True)
    rating: Mapped[int]


def test_orm_dml_entity_description() -> None:
    for stmt in (insert(Author), update(Author), delete(Author)):
        assert stmt.entity_description == {
            "name": "Author",
            "type": Author,
            "expr": Author,
            "entity": Author,
            "table": Author.__table__,
        }
    # A joined-table subclass: its own table.
    assert update(Reviewer).entity_description["table"] is Reviewer.__table__
    assert insert(Author.__table__).entity_description == {
        "name": "desc_authors",
        "table": Author.__table__,
    }


def test_orm_dml_returning_column_descriptions() -> None:
    assert insert(Author).returning_column_descriptions == []
    stmt = update(Reviewer).returning(Reviewer.rating, func.lower(Reviewer.name), Reviewer)
    rating, lowered, whole = stmt.returning_column_descriptions
    assert rating == {
        "name": "rating",
        "type": rating["type"],
        "aliased": False,
        "expr": Reviewer.rating,
        "entity": Reviewer,
    }
    assert isinstance(rating["type"], Integer)
    assert lowered["entity"] is Reviewer and lowered["name"] == "lower"
    assert whole == {
        "name": "Reviewer",
        "type": Reviewer,
        "aliased": False,
        "expr": Reviewer,
        "entity": Reviewer,
    }
    author_id = Author.__table__.c.id
    (core,) = delete(Author.__table__).returning(author_id).returning_column_descriptions
    assert core == {"name": "id", "type": core["type"], "expr": author_id}
