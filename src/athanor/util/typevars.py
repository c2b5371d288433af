"""Type variables of athanor's generic classes (``Row[tuple[int, str]]``, ``Column[int]``).

Each has ``Any`` as its default for type checkers (PEP 696), so an unparametrised
``Column`` or ``Result`` still means "any" and code written before the classes became
generic type-checks unchanged.  At run time they are plain type variables.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from decimal import Decimal

    from typing_extensions import TypeVar

    T = TypeVar("T", default=Any)
    """The Python type of a SQL type's values or of an expression's values."""
    T_co = TypeVar("T_co", covariant=True, default=Any)
    TP = TypeVar("TP", bound=tuple[Any, ...], default=Any)
    """The tuple type of a row: ``tuple[int, str]`` for ``select(id_col, name_col)``."""
    N = TypeVar("N", bound=int | float | Decimal, default=Decimal)
    """The Python type of a ``Numeric``'s values (``float`` for ``Float``)."""
else:
    from typing import TypeVar

    T = TypeVar("T")
    T_co = TypeVar("T_co", covariant=True)
    TP = TypeVar("TP", bound=tuple)
    N = TypeVar("N")
