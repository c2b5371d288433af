"""athanor's ORM: declarative mapping, the Session, the unit of work and relationships.

``from athanor.orm import DeclarativeBase, Mapped, mapped_column, relationship, Session`` gives
the same names as ``sqlalchemy.orm``.
"""

from athanor.orm import exc
from athanor.orm.attributes import (
    InstrumentedAttribute,
    QueryableAttribute,
    attribute_history,
    del_attribute,
    flag_dirty,
    flag_modified,
    get_attribute,
    get_history,
    init_collection,
    set_attribute,
    set_committed_value,
)
from athanor.orm.base import (
    DynamicMapped,
    Mapped,
    WriteOnlyMapped,
    class_mapper,
    instance_state,
    object_mapper,
)
from athanor.orm.collections import (
    InstrumentedList,
    InstrumentedSet,
    KeyFuncDict,
    attribute_keyed_dict,
    attribute_mapped_collection,
    column_keyed_dict,
    column_mapped_collection,
    keyfunc_mapping,
    mapped_collection,
)
from athanor.orm.decl_api import (
    DeclarativeBase,
    DeclarativeBaseNoMeta,
    DeclarativeMeta,
    MappedAsDataclass,
    declarative_base,
    declared_attr,
    registry,
)
from athanor.orm.events import AttributeEvents, InstanceEvents, MapperEvents, SessionEvents
from athanor.orm.interfaces import MapperProperty
from athanor.orm.mapper import Mapper, clear_mappers, configure_mappers, validates
from athanor.orm.properties import (
    ColumnProperty,
    MappedColumn,
    SynonymProperty,
    column_property,
    deferred,
    mapped_column,
    query_expression,
    synonym,
)
from athanor.orm.query import Query
from athanor.orm.relationships import RelationshipProperty, backref, dynamic_loader, relationship
from athanor.orm.scoping import scoped_session
from athanor.orm.session import (
    Session,
    SessionTransaction,
    close_all_sessions,
    make_transient,
    make_transient_to_detached,
    object_session,
    sessionmaker,
)
from athanor.orm.state import AttributeState, History, IdentityMap, InstanceState

__all__ = [
    "AttributeEvents",
    "AttributeState",
    "ColumnProperty",
    "DeclarativeBase",
    "DeclarativeBaseNoMeta",
    "DeclarativeMeta",
    "DynamicMapped",
    "History",
    "IdentityMap",
    "InstanceEvents",
    "InstanceState",
    "InstrumentedAttribute",
    "InstrumentedList",
    "InstrumentedSet",
    "KeyFuncDict",
    "Mapped",
    "MappedAsDataclass",
    "MappedColumn",
    "Mapper",
    "MapperEvents",
    "MapperProperty",
    "Query",
    "QueryableAttribute",
    "RelationshipProperty",
    "Session",
    "SessionEvents",
    "SessionTransaction",
    "SynonymProperty",
    "WriteOnlyMapped",
    "attribute_history",
    "attribute_keyed_dict",
    "attribute_mapped_collection",
    "backref",
    "class_mapper",
    "clear_mappers",
    "close_all_sessions",
    "column_keyed_dict",
    "column_mapped_collection",
    "column_property",
    "configure_mappers",
    "declarative_base",
    "declared_attr",
    "deferred",
    "del_attribute",
    "dynamic_loader",
    "exc",
    "flag_dirty",
    "flag_modified",
    "get_attribute",
    "get_history",
    "init_collection",
    "instance_state",
    "keyfunc_mapping",
    "make_transient",
    "make_transient_to_detached",
    "mapped_collection",
    "mapped_column",
    "object_mapper",
    "object_session",
    "query_expression",
    "registry",
    "relationship",
    "scoped_session",
    "sessionmaker",
    "set_attribute",
    "set_committed_value",
    "synonym",
    "validates",
]
