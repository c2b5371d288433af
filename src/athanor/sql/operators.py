"""SQL operators: their SQL spelling, precedence and negation.

Each operator is a small :class:`Operator` object shared by every expression that uses it; the
compiler renders ``left <sql> right`` from it, and expressions use the precedence to decide
where parentheses are needed.
"""

from __future__ import annotations

from typing import Any


class Operator:
    """One SQL operator: how it is written and how tightly it binds."""

    __slots__ = ("comparison", "name", "negate_name", "precedence", "return_type", "sql")

    def __init__(
        self,
        name: str,
        sql: str,
        precedence: int,
        *,
        comparison: bool = False,
        negate: str | None = None,
    ) -> None:
        self.name = name
        self.sql = sql
        self.precedence = precedence
        self.comparison = comparison
        self.negate_name = negate
        self.return_type: object = None

    def __call__(self, left: Any, *other: Any, **kwargs: Any) -> Any:
        """Apply the operator to SQL operands, as Python's ``operator.eq(a, b)`` does: what a
        custom comparator's ``operate(op, other)`` calls as ``op(expression, other)``."""
        operate = getattr(left, "operate", None)
        if operate is not None:
            return operate(self, *other, **kwargs)
        if len(other) == 1 and hasattr(other[0], "reverse_operate"):
            return other[0].reverse_operate(self, left, **kwargs)
        raise TypeError(f"{self.name} needs a SQL expression operand, got {left!r}")

    @property
    def negate(self) -> Operator | None:
        """The operator meaning NOT (this), when SQL has one (``=`` -> ``!=``)."""
        return BY_NAME[self.negate_name] if self.negate_name else None

    def __repr__(self) -> str:
        return f"<Operator {self.name}>"


# Precedence: higher binds tighter.
_P_OR, _P_AND, _P_NOT, _P_CMP, _P_BIT, _P_ADD, _P_MUL, _P_UNARY, _P_COLLATE = (
    2,
    3,
    4,
    5,
    6,
    7,
    8,
    9,
    10,
)
_P_ATOM = 100

eq = Operator("eq", "=", _P_CMP, comparison=True, negate="ne")
ne = Operator("ne", "!=", _P_CMP, comparison=True, negate="eq")
lt = Operator("lt", "<", _P_CMP, comparison=True, negate="ge")
le = Operator("le", "<=", _P_CMP, comparison=True, negate="gt")
gt = Operator("gt", ">", _P_CMP, comparison=True, negate="le")
ge = Operator("ge", ">=", _P_CMP, comparison=True, negate="lt")
is_ = Operator("is_", "IS", _P_CMP, comparison=True, negate="is_not")
is_not = Operator("is_not", "IS NOT", _P_CMP, comparison=True, negate="is_")
is_distinct_from = Operator(
    "is_distinct_from", "IS DISTINCT FROM", _P_CMP, comparison=True, negate="is_not_distinct_from"
)
is_not_distinct_from = Operator(
    "is_not_distinct_from",
    "IS NOT DISTINCT FROM",
    _P_CMP,
    comparison=True,
    negate="is_distinct_from",
)
in_op = Operator("in_op", "IN", _P_CMP, comparison=True, negate="not_in_op")
not_in_op = Operator("not_in_op", "NOT IN", _P_CMP, comparison=True, negate="in_op")
like_op = Operator("like_op", "LIKE", _P_CMP, comparison=True, negate="not_like_op")
not_like_op = Operator("not_like_op", "NOT LIKE", _P_CMP, comparison=True, negate="like_op")
ilike_op = Operator("ilike_op", "ILIKE", _P_CMP, comparison=True, negate="not_ilike_op")
not_ilike_op = Operator("not_ilike_op", "NOT ILIKE", _P_CMP, comparison=True, negate="ilike_op")
between_op = Operator("between_op", "BETWEEN", _P_CMP, comparison=True, negate="not_between_op")
not_between_op = Operator(
    "not_between_op", "NOT BETWEEN", _P_CMP, comparison=True, negate="between_op"
)
add = Operator("add", "+", _P_ADD)
sub = Operator("sub", "-", _P_ADD)
mul = Operator("mul", "*", _P_MUL)
truediv = Operator("truediv", "/", _P_MUL)
floordiv = Operator("floordiv", "/", _P_MUL)
mod = Operator("mod", "%", _P_MUL)
concat_op = Operator("concat_op", "||", _P_ADD)
bitwise_and_op = Operator("bitwise_and_op", "&", _P_BIT)
bitwise_or_op = Operator("bitwise_or_op", "|", _P_BIT)
bitwise_xor_op = Operator("bitwise_xor_op", "^", _P_BIT)
bitwise_lshift_op = Operator("bitwise_lshift_op", "<<", _P_BIT)
bitwise_rshift_op = Operator("bitwise_rshift_op", ">>", _P_BIT)
regexp_match_op = Operator(
    "regexp_match_op", "REGEXP", _P_CMP, comparison=True, negate="not_regexp_match_op"
)
not_regexp_match_op = Operator(
    "not_regexp_match_op", "NOT REGEXP", _P_CMP, comparison=True, negate="regexp_match_op"
)
regexp_replace_op = Operator("regexp_replace_op", "REGEXP_REPLACE", _P_ATOM)
match_op = Operator("match_op", "MATCH", _P_CMP, comparison=True, negate="not_match_op")
not_match_op = Operator("not_match_op", "NOT MATCH", _P_CMP, comparison=True, negate="match_op")
and_ = Operator("and_", "AND", _P_AND)
or_ = Operator("or_", "OR", _P_OR)
comma_op = Operator("comma_op", ", ", 0)
collate = Operator("collate", "COLLATE", _P_COLLATE)
json_getitem_op = Operator("json_getitem_op", "->", _P_COLLATE)
getitem = Operator("getitem", "[]", _P_COLLATE)
slice_op = Operator("slice_op", ":", 0)
"""Between the bounds of an array slice, ``array[2 : 3]``."""

# Containment and position of ranges and arrays (PostgreSQL); the left side's type says
# whether it has them (``TypeEngine._containment``).
contains_op = Operator("contains_op", "@>", _P_CMP, comparison=True)
contained_by_op = Operator("contained_by_op", "<@", _P_CMP, comparison=True)
overlap_op = Operator("overlap_op", "&&", _P_CMP, comparison=True)
strictly_left_of_op = Operator("strictly_left_of_op", "<<", _P_CMP, comparison=True)
strictly_right_of_op = Operator("strictly_right_of_op", ">>", _P_CMP, comparison=True)
not_extend_right_of_op = Operator("not_extend_right_of_op", "&<", _P_CMP, comparison=True)
not_extend_left_of_op = Operator("not_extend_left_of_op", "&>", _P_CMP, comparison=True)
adjacent_to_op = Operator("adjacent_to_op", "-|-", _P_CMP, comparison=True)
RANGE_ONLY = frozenset(
    {
        strictly_left_of_op,
        strictly_right_of_op,
        not_extend_right_of_op,
        not_extend_left_of_op,
        adjacent_to_op,
    }
)

# Unary operators (prefix or postfix modifiers).
inv = Operator("inv", "NOT", _P_NOT)
neg = Operator("neg", "-", _P_UNARY)
distinct_op = Operator("distinct_op", "DISTINCT", _P_UNARY)
bitwise_not_op = Operator("bitwise_not_op", "~", _P_UNARY)
any_op = Operator("any_op", "ANY", _P_UNARY)
all_op = Operator("all_op", "ALL", _P_UNARY)
exists = Operator("exists", "EXISTS", _P_UNARY)
asc_op = Operator("asc_op", "ASC", 0)
desc_op = Operator("desc_op", "DESC", 0)
nulls_first_op = Operator("nulls_first_op", "NULLS FIRST", 0)
nulls_last_op = Operator("nulls_last_op", "NULLS LAST", 0)

ORDERINGS = frozenset({asc_op, desc_op, nulls_first_op, nulls_last_op})
"""The postfix modifiers that order rows (ORDER BY, index columns), never values."""

BY_NAME: dict[str, Operator] = {
    value.name: value for value in list(globals().values()) if isinstance(value, Operator)
}


MIRRORED: dict[Operator, Operator] = {eq: eq, ne: ne, lt: gt, gt: lt, le: ge, ge: le}
"""``a <op> b`` is ``b <mirror> a``: comparisons turned around (``5 = ANY (x)``)."""


class custom_op(Operator):  # noqa: N801 - SQLAlchemy's name
    """An operator written as ``opstring``: ``column.operate(custom_op("@>"), other)``, as
    ``column.op("@>")(other)`` builds; ``return_type`` is the result's type (Boolean for a
    comparison, else the left side's)."""

    __slots__ = ()

    def __init__(
        self,
        opstring: str,
        precedence: int = _P_CMP,
        is_comparison: bool = False,
        return_type: object = None,
        **kw: object,
    ) -> None:
        super().__init__("custom:" + opstring, opstring, precedence, comparison=is_comparison)
        self.return_type = return_type


PRECEDENCE_ATOM = _P_ATOM
"""Precedence of things that never need parentheses (columns, literals, function calls)."""
