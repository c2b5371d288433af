"""The names by which ``dialect=`` arguments, type variants and ``@compiles`` rules pick out a
dialect."""

from __future__ import annotations

from typing import Any


def dialect_names(dialect: Any) -> tuple[str, ...]:
    """``dialect``'s names, most specific first.

    A MariaDB dialect (``mariadb://``, named ``"mariadb"``) answers to ``"mysql"`` as well,
    after its own name; a ``mysql://`` one connected to a MariaDB server answers to
    ``"mariadb"`` after ``"mysql"``.
    """
    name: str = dialect.name
    if name == "mariadb":
        return ("mariadb", "mysql")
    if getattr(dialect, "is_mariadb", False):
        return (name, "mariadb")
    return (name,)
