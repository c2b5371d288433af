"""What a mapped class's attributes are instrumented with: ``inspect(Class).class_manager``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from athanor.orm.base import MAPPER_KEY

if TYPE_CHECKING:
    from athanor.orm.mapper import Mapper


class ClassManager(dict[str, Any]):
    """The instrumented attributes of a mapped class by name (columns, relationships,
    synonyms, composites), with the class and its mapper."""

    is_mapped = True

    def __init__(self, mapper: Mapper) -> None:
        super().__init__((key, getattr(mapper.class_, key)) for key in mapper._ordered_props())
        self.class_ = mapper.class_
        self.mapper = mapper

    def __repr__(self) -> str:
        return f"<ClassManager of {self.class_.__name__}>"


def manager_of_class(cls: type) -> ClassManager:
    """The :class:`ClassManager` of mapped class ``cls``."""
    from athanor.orm import exc as orm_exc

    mapper = cls.__dict__.get(MAPPER_KEY) if isinstance(cls, type) else None
    if mapper is None:
        raise orm_exc.UnmappedClassError(cls)
    return ClassManager(mapper)


__all__ = ["ClassManager", "manager_of_class"]
