"""Instance events (expire, refresh, refresh_flush), ``propagate=True`` on mapper and instance
events, and the ``refresh-expire`` cascade, on every database."""

from __future__ import annotations

import pickle

import pytest

from athanor import ForeignKey, String, create_engine, event, inspect, select, text
from athanor.orm import (
    DeclarativeBase,
    Mapped,
    QueryContext,
    Session,
    mapped_column,
    relationship,
)


class Base(DeclarativeBase):
    pass


class Stamped:
    """An unmapped mixin: listeners on it with propagate=True reach every mapped subclass."""


class Folder(Base, Stamped):
    __tablename__ = "ev_folders"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(30))
    kind: Mapped[str] = mapped_column(String(10), default="plain")
    code: Mapped[str] = mapped_column(String(10), server_default=text("'srv'"))
    edits: Mapped[int] = mapped_column(default=0, onupdate=lambda: 99)
    files: Mapped[list[File]] = relationship(back_populates="folder", cascade="all")
    links: Mapped[list[Link]] = relationship()


class File(Base):
    __tablename__ = "ev_files"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(30))
    folder_id: Mapped[int | None] = mapped_column(ForeignKey("ev_folders.id"))
    folder: Mapped[Folder | None] = relationship(back_populates="files")


class Link(Base):
    __tablename__ = "ev_links"

    id: Mapped[int] = mapped_column(primary_key=True)
    url: Mapped[str] = mapped_column(String(30))
    folder_id: Mapped[int | None] = mapped_column(ForeignKey("ev_folders.id"))


@pytest.fixture
def engine(backend):
    eng = create_engine(backend.url)
    Base.metadata.create_all(eng)
    yield eng
    eng.dispose()


@pytest.fixture
def calls():
    seen: list[tuple] = []
    listeners = {
        "expire": lambda target, attrs: seen.append(("expire", target, attrs)),
        "refresh": lambda target, context, attrs: seen.append(("refresh", target, attrs)),
        "refresh_flush": lambda target, flush_context, attrs: seen.append(
            ("refresh_flush", target, sorted(attrs))
        ),
    }
    for name, fn in listeners.items():
        event.listen(Folder, name, fn)
    yield seen
    for name, fn in listeners.items():
        event.remove(Folder, name, fn)


def test_expire_and_refresh_events(engine, calls) -> None:
    with Session(engine) as session:
        folder = Folder(name="f")
        session.add(folder)
        session.flush()
        calls.clear()
        session.expire(folder, ["name"])
        assert calls == [("expire", folder, {"name"})]
        assert folder.name == "f"  # loading the expired attribute is a refresh
        assert calls[1] == ("refresh", folder, {"name"})
        calls.clear()
        session.refresh(folder)
        assert calls[0] == ("expire", folder, None)
        assert calls[1] == ("refresh", folder, None)  # the whole object: no names
        calls.clear()
        session.refresh(folder, ["kind"])
        assert calls[1] == ("refresh", folder, {"kind"})
        calls.clear()
        session.execute(select(Folder).execution_options(populate_existing=True)).scalars().all()
        assert calls == [("refresh", folder, None)]
        calls.clear()
        session.commit()  # expire_on_commit expires everything
        assert calls == [("expire", folder, None)]


def test_refresh_flush_reports_defaults_written_by_the_flush(engine, calls) -> None:
    with Session(engine) as session:
        folder = Folder(name="f", kind="given")
        session.add(folder)
        session.flush()
        inserted = [c for c in calls if c[0] == "refresh_flush"]
        assert inserted[0][:2] == ("refresh_flush", folder)
        assert "edits" in inserted[0][2] and "kind" not in inserted[0][2]
        assert "id" not in inserted[0][2]
        calls.clear()
        folder.name = "g"
        session.flush()
        assert calls == [("refresh_flush", folder, ["edits"])]
        assert folder.edits == 99


def test_load_and_refresh_listeners_get_the_query_context(engine) -> None:
    seen: list[tuple[str, QueryContext]] = []

    def on_load(target, context) -> None:
        seen.append(("load", context))

    def on_refresh(target, context, attrs) -> None:
        seen.append(("refresh", context))

    with Session(engine) as session:
        session.add_all([Folder(name="a", files=[File(name="x")]), Folder(name="b")])
        session.commit()
    event.listen(Folder, "load", on_load)
    event.listen(Folder, "refresh", on_refresh)
    event.listen(File, "load", on_load)
    try:
        with Session(engine) as session:
            stmt = select(Folder).order_by(Folder.id).execution_options(marker="m")
            assert len(session.scalars(stmt).all()) == 2
            (_, first), (_, second) = seen
            assert first is second, "one context per execution"
            assert isinstance(first, QueryContext)
            assert first.session is session and first.query is stmt
            assert first.execution_options["marker"] == "m"
            assert first.refresh_state is None and first.populate_existing is False
            first.attributes["shared"] = 1
            seen.clear()
            # a joined load: the related objects get the same context as the parents
            session.expunge_all()
            [(folder, _)] = session.execute(
                select(Folder, File).join(Folder.files).where(File.name == "x")
            ).all()
            assert [kind for kind, _ in seen] == ["load", "load"]
            assert seen[0][1] is seen[1][1] and seen[0][1].attributes == {}
            seen.clear()
            session.refresh(folder)
            [(kind, context)] = seen
            assert kind == "refresh" and context.refresh_state is inspect(folder)
            assert context.session is session
    finally:
        event.remove(Folder, "load", on_load)
        event.remove(Folder, "refresh", on_refresh)
        event.remove(File, "load", on_load)


def test_propagate_reaches_subclasses_mapped_later_and_remove_undoes_it(engine) -> None:
    inserted: list[object] = []
    loaded: list[object] = []

    def on_insert(mapper, connection, target) -> None:
        inserted.append(target)

    def on_load(target, context) -> None:
        loaded.append(target)

    event.listen(Stamped, "before_insert", on_insert, propagate=True)
    event.listen(Stamped, "load", on_load, propagate=True)
    try:

        class Local(DeclarativeBase):
            pass

        class Note(Local, Stamped):  # mapped after the listeners were registered
            __tablename__ = "ev_notes"
            id: Mapped[int] = mapped_column(primary_key=True)

        Local.metadata.create_all(engine)
        with Session(engine) as session:
            folder, note = Folder(name="f"), Note()
            session.add_all([folder, note, File(name="x")])
            session.commit()
            assert {id(o) for o in inserted} == {id(folder), id(note)}  # no File: not Stamped
            session.expunge_all()
            session.scalars(select(Note)).all()
            assert [type(o) for o in loaded] == [Note]
    finally:
        event.remove(Stamped, "before_insert", on_insert)
        event.remove(Stamped, "load", on_load)
    with Session(engine) as session:
        session.add(Folder(name="after"))
        session.commit()
    assert len(inserted) == 2
    # Without propagate the listener waits for the mixin itself to be mapped: taken (as
    # SQLAlchemy takes it), it never fires for the classes using the mixin.
    event.listen(Stamped, "before_insert", on_insert)
    try:
        with Session(engine) as session:
            session.add(Folder(name="unheard"))
            session.commit()
        assert len(inserted) == 2
    finally:
        event.remove(Stamped, "before_insert", on_insert)


def test_refresh_expire_cascade(engine) -> None:
    with Session(engine) as session:
        folder = Folder(name="f", files=[File(name="a")], links=[Link(url="u")])
        session.add(folder)
        session.commit()
        file, link = folder.files[0], folder.links[0]
        assert file.name == "a" and link.url == "u"
        session.expire(folder)
        assert inspect(file).expired and "name" not in file.__dict__  # cascade="all"
        assert not inspect(link).expired and link.__dict__["url"] == "u"  # default cascade
        assert folder.files == [file] and file.name == "a"
        pending = File(name="new")
        folder.files.append(pending)
        assert pending in session
        session.refresh(folder)
        assert "name" not in file.__dict__
        assert pending not in session  # pending objects leave the session
        assert [f.name for f in folder.files] == ["a"]
        with engine.connect() as conn:
            assert conn.execute(text("SELECT COUNT(*) FROM ev_files")).scalar() == 1


def test_bulk_replace_sees_the_incoming_list_and_may_change_it(engine) -> None:
    seen: list[tuple[str, object]] = []

    def on_bulk_replace(target, values, initiator) -> None:
        seen.append(("bulk_replace", [f.name for f in values]))
        values.append(File(name="added by listener"))

    def on_append(target, value, initiator) -> None:
        seen.append(("append", value.name))

    event.listen(Folder.files, "bulk_replace", on_bulk_replace)
    event.listen(Folder.files, "append", on_append)
    try:
        with Session(engine) as session:
            kept = File(name="kept")
            folder = Folder(name="f", files=[kept])
            seen.clear()
            folder.files = [kept, File(name="new")]
            # the listener runs first; appends fire for what was not there before
            assert seen == [
                ("bulk_replace", ["kept", "new"]),
                ("append", "new"),
                ("append", "added by listener"),
            ]
            session.add(folder)
            session.commit()
            names = session.scalars(select(File.name).order_by(File.name)).all()
            assert names == ["added by listener", "kept", "new"]
            seen.clear()
            folder.files.append(File(name="one"))  # not a bulk replace
            assert seen == [("append", "one")]
    finally:
        event.remove(Folder.files, "bulk_replace", on_bulk_replace)
        event.remove(Folder.files, "append", on_append)


def test_pickle_and_unpickle_events(engine) -> None:
    seen: list[tuple[str, object, dict]] = []

    def on_pickle(target, state_dict) -> None:
        seen.append(("pickle", target, state_dict))

    def on_unpickle(target, state_dict) -> None:
        seen.append(("unpickle", target, state_dict))

    event.listen(Folder, "pickle", on_pickle)
    event.listen(Folder, "unpickle", on_unpickle)
    try:
        with Session(engine) as session:
            folder = Folder(name="f")
            session.add(folder)
            session.commit()
            folder.name  # noqa: B018 - loaded again before pickling
            data = pickle.dumps(folder)
            assert [kind for kind, _, _ in seen] == ["pickle"] and seen[0][1] is folder
            copy = pickle.loads(data)
            assert [kind for kind, _, _ in seen] == ["pickle", "unpickle"]
            assert seen[1][1] is copy and isinstance(seen[1][2], dict)
            assert copy.name == "f" and inspect(copy).detached
            assert session.merge(copy) is folder
    finally:
        event.remove(Folder, "pickle", on_pickle)
        event.remove(Folder, "unpickle", on_unpickle)
