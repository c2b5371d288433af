"""MySQL/MariaDB handling of the generic types.

PyMySQL returns booleans as 0/1 and TIME values as :class:`datetime.timedelta`; DATETIME has
no time zone, so aware values are stored in UTC and read back as UTC-aware values (the same
instant); intervals are stored as a date-time offset from the epoch.
"""

from __future__ import annotations

import datetime as dt
import typing
from typing import Any, ClassVar, TypedDict, Unpack

from athanor import exc
from athanor.sql import types as sqltypes
from athanor.sql.types import Processor


def _aware_to_utc(value: Any) -> Any:
    if isinstance(value, dt.datetime) and value.tzinfo is not None:
        return value.astimezone(dt.UTC).replace(tzinfo=None)
    return value


class MySQLDateTime(sqltypes.DateTime):
    """``DATETIME(6)``; with ``timezone=True`` values are stored as UTC."""

    def bind_processor(self, dialect: Any) -> Processor | None:
        return _aware_to_utc if self.timezone else None

    def result_processor(self, dialect: Any, coltype: Any) -> Processor | None:
        if not self.timezone:
            return None
        return lambda v: v.replace(tzinfo=dt.UTC) if isinstance(v, dt.datetime) else v


def _timedelta_to_time(value: Any) -> Any:
    if isinstance(value, dt.timedelta):
        seconds = int(value.total_seconds())
        return dt.time(seconds // 3600 % 24, seconds // 60 % 60, seconds % 60, value.microseconds)
    return value


class MySQLTime(sqltypes.Time):
    """``TIME(6)``: the driver's timedelta values become :class:`datetime.time`."""

    def result_processor(self, dialect: Any, coltype: Any) -> Processor | None:
        return _timedelta_to_time


class MySQLInterval(sqltypes._EpochInterval):
    """An interval stored as the date-time ``1970-01-01 + interval``."""


colspecs: dict[type, type] = {
    sqltypes.DateTime: MySQLDateTime,
    sqltypes.Time: MySQLTime,
    sqltypes.Boolean: sqltypes._IntBoolean,
    sqltypes.Interval: MySQLInterval,
}
"""Generic type -> the MySQL variant with MySQL's conversions."""


class _NumericOptions:
    """MySQL's attributes of numeric columns: ``UNSIGNED`` and ``ZEROFILL`` (which the
    database makes unsigned too, so ``zerofill=True`` implies ``unsigned=True``)."""

    unsigned: bool = False
    zerofill: bool = False

    def _set_sign(self, unsigned: bool, zerofill: bool) -> None:
        _set_given(self, unsigned=unsigned or zerofill, zerofill=zerofill)


def _set_given(type_: Any, **options: Any) -> None:
    """Set the options that differ from their class defaults (a type's repr and cache key
    then name only what was asked for)."""
    for name, value in options.items():
        if value:
            setattr(type_, name, value)


class _IntegerOptions(_NumericOptions):
    """An integer column with an optional display width (``INTEGER(11) UNSIGNED``)."""

    display_width: int | None = None

    def __init__(
        self, display_width: int | None = None, *, unsigned: bool = False, zerofill: bool = False
    ) -> None:
        self.display_width = display_width
        self._set_sign(unsigned, zerofill)


class INTEGER(_IntegerOptions, sqltypes.INTEGER):
    """MySQL ``INTEGER`` with display width, ``unsigned`` and ``zerofill``."""


class BIGINT(_IntegerOptions, sqltypes.BIGINT):
    """MySQL ``BIGINT`` with display width, ``unsigned`` and ``zerofill``."""


class SMALLINT(_IntegerOptions, sqltypes.SMALLINT):
    """MySQL ``SMALLINT`` with display width, ``unsigned`` and ``zerofill``."""


class TINYINT(_IntegerOptions, sqltypes.SmallInteger):
    """MySQL ``TINYINT`` with display width, ``unsigned`` and ``zerofill``."""


class MEDIUMINT(_IntegerOptions, sqltypes.Integer):
    """MySQL ``MEDIUMINT`` with display width, ``unsigned`` and ``zerofill``."""


class YEAR(sqltypes.Integer):
    """MySQL ``YEAR``."""

    def __init__(self, display_width: int | None = None) -> None:
        self.display_width = display_width


class _NumberOptions(_NumericOptions):
    """A fixed or floating point column with ``unsigned`` and ``zerofill``; ``scale`` needs
    ``precision``, and where MySQL takes them only together (``DOUBLE(10, 2)``) both or
    neither are given."""

    asdecimal_default: ClassVar[bool] = True
    paired: ClassVar[bool] = False
    """Whether precision and scale come together or not at all."""

    def __init__(
        self,
        precision: int | None = None,
        scale: int | None = None,
        asdecimal: bool | None = None,
        *,
        unsigned: bool = False,
        zerofill: bool = False,
        decimal_return_scale: int | None = None,
    ) -> None:
        if (scale is not None and precision is None) or (
            self.paired and (precision is None) != (scale is None)
        ):
            name = type(self).__name__
            raise exc.ArgumentError(
                f"{name} takes precision and scale together or neither, e.g. {name}(10, 2); "
                f"got precision={precision!r}, scale={scale!r}"
            )
        sqltypes.Numeric.__init__(
            self,  # type: ignore[arg-type]
            precision,
            scale,
            decimal_return_scale=decimal_return_scale,
            asdecimal=self.asdecimal_default if asdecimal is None else asdecimal,
        )
        self._set_sign(unsigned, zerofill)


class DECIMAL(_NumberOptions, sqltypes.DECIMAL):
    """MySQL ``DECIMAL(precision, scale)`` with ``unsigned`` and ``zerofill``."""


class NUMERIC(_NumberOptions, sqltypes.NUMERIC):
    """MySQL ``NUMERIC(precision, scale)`` with ``unsigned`` and ``zerofill``."""


class FLOAT(_NumberOptions, sqltypes.FLOAT):
    """MySQL ``FLOAT``, ``FLOAT(precision)`` or ``FLOAT(precision, scale)``; floats by default."""

    asdecimal_default: ClassVar[bool] = False


class DOUBLE(_NumberOptions, sqltypes.DOUBLE):
    """MySQL ``DOUBLE`` or ``DOUBLE(precision, scale)``; Decimal values by default."""

    paired: ClassVar[bool] = True


class REAL(_NumberOptions, sqltypes.REAL):
    """MySQL ``REAL`` or ``REAL(precision, scale)``; Decimal values by default."""

    paired: ClassVar[bool] = True


class CharsetOptions(TypedDict, total=False):
    """The character set keyword arguments of MySQL's string types."""

    collation: str | None
    charset: str | None
    ascii: bool
    unicode: bool
    binary: bool
    national: bool


class _StringOptions:
    """MySQL's character set options of a string column.

    ``charset`` and ``collation`` name them; ``ascii`` (latin1) and ``unicode`` (ucs2) are
    shorthands for a character set, ``binary`` asks for the character set's binary collation
    and ``national`` for the server's national character set.  Options that contradict each
    other raise :class:`~athanor.exc.ArgumentError`.
    """

    charset: str | None = None
    ascii: bool = False
    unicode: bool = False
    binary: bool = False
    national: bool = False

    national_default: ClassVar[bool] = False

    def _set_charset(self, options: CharsetOptions) -> None:
        unknown = set(options) - set(CharsetOptions.__annotations__)
        if unknown:
            raise TypeError(
                f"{type(self).__name__} got unexpected keyword arguments {sorted(unknown)}"
            )
        charset, national = options.get("charset"), options.get("national", self.national_default)
        ascii, unicode = options.get("ascii", False), options.get("unicode", False)
        binary = options.get("binary", False)
        chosen = [
            name
            for name, given in (
                ("charset", charset is not None),
                ("ascii", ascii),
                ("unicode", unicode),
                ("national", national),
            )
            if given
        ]
        if len(chosen) > 1:
            raise exc.ArgumentError(
                f"{type(self).__name__} got {' and '.join(chosen)}, which each choose the "
                "character set; give one of them"
            )
        self.collation = options.get("collation")
        if binary and self.collation is not None:
            raise exc.ArgumentError(
                f"{type(self).__name__} got binary=True and collation=...; binary=True means "
                "the character set's binary collation, so give one of them"
            )
        _set_given(
            self, charset=charset, ascii=ascii, unicode=unicode, binary=binary, national=national
        )


class _CharacterType(_StringOptions):
    """A string column with MySQL's character set options (``VARCHAR(100) CHARACTER SET
    utf8mb4 COLLATE utf8mb4_bin``)."""

    def __init__(self, length: int | None = None, **options: Unpack[CharsetOptions]) -> None:
        sqltypes.String.__init__(self, length)  # type: ignore[arg-type]
        self._set_charset(options)


class VARCHAR(_CharacterType, sqltypes.VARCHAR):
    """MySQL ``VARCHAR(length)`` with character set options."""


class CHAR(_CharacterType, sqltypes.CHAR):
    """MySQL ``CHAR(length)`` with character set options."""


class NVARCHAR(_CharacterType, sqltypes.NVARCHAR):
    """MySQL ``NATIONAL VARCHAR(length)``."""

    national_default: ClassVar[bool] = True


class NCHAR(_CharacterType, sqltypes.NCHAR):
    """MySQL ``NATIONAL CHAR(length)``."""

    national_default: ClassVar[bool] = True


class TEXT(_CharacterType, sqltypes.TEXT):
    """MySQL ``TEXT`` (``TEXT(length)`` picks the smallest text type holding that many
    characters) with character set options."""


class _SizedText(_CharacterType):
    """A text type whose size is in its name; it takes no length."""

    def __init__(self, **options: Unpack[CharsetOptions]) -> None:
        super().__init__(None, **options)


class LONGTEXT(_SizedText, sqltypes.Text):
    """MySQL ``LONGTEXT`` with character set options."""


class MEDIUMTEXT(_SizedText, sqltypes.Text):
    """MySQL ``MEDIUMTEXT`` with character set options."""


class TINYTEXT(_SizedText, sqltypes.Text):
    """MySQL ``TINYTEXT`` with character set options."""


class LONGBLOB(sqltypes.LargeBinary):
    """MySQL ``LONGBLOB``."""


class MEDIUMBLOB(sqltypes.LargeBinary):
    """MySQL ``MEDIUMBLOB``."""


class TINYBLOB(sqltypes.LargeBinary):
    """MySQL ``TINYBLOB``."""


class SET(_StringOptions, sqltypes.String):
    """MySQL ``SET`` of string values, with character set options."""

    def __init__(self, *values: str, **options: Unpack[CharsetOptions]) -> None:
        longest = max((len(v) for v in values), default=0) * max(len(values), 1)
        sqltypes.String.__init__(self, length=longest)
        self.values = tuple(values)
        self._set_charset(options)


class ENUM(_StringOptions, sqltypes.Enum):
    """MySQL ``ENUM``: the arguments of :class:`~athanor.types.Enum` plus character set
    options."""

    def __init__(self, *enums: Any, **kw: Any) -> None:
        names = CharsetOptions.__annotations__
        options = {key: kw.pop(key) for key in list(kw) if key in names}
        sqltypes.Enum.__init__(self, *enums, **kw)
        self._set_charset(typing.cast(CharsetOptions, options))


class _FractionalSeconds:
    """A temporal type with ``fsp``, the digits of fractional seconds it keeps
    (``DATETIME(6)``); without it the type's usual precision applies."""

    fsp: int | None = None

    def __init__(self, timezone: bool = False, fsp: int | None = None) -> None:
        self.timezone = timezone
        self.fsp = fsp


class DATETIME(_FractionalSeconds, MySQLDateTime, sqltypes.DATETIME):
    """MySQL ``DATETIME``, ``DATETIME(fsp)`` with ``fsp`` digits of fractional seconds."""


class TIMESTAMP(_FractionalSeconds, MySQLDateTime, sqltypes.TIMESTAMP):
    """MySQL ``TIMESTAMP(fsp)``; ``TIMESTAMP(6)`` unless ``fsp`` says otherwise."""


class TIME(_FractionalSeconds, MySQLTime, sqltypes.TIME):
    """MySQL ``TIME(fsp)``; ``TIME(6)`` unless ``fsp`` says otherwise."""


class JSON(sqltypes.JSON):
    """MySQL ``JSON``."""


__all__ = [
    "BIGINT",
    "CHAR",
    "DATETIME",
    "DECIMAL",
    "DOUBLE",
    "ENUM",
    "FLOAT",
    "INTEGER",
    "JSON",
    "LONGBLOB",
    "LONGTEXT",
    "MEDIUMBLOB",
    "MEDIUMINT",
    "MEDIUMTEXT",
    "NCHAR",
    "NUMERIC",
    "NVARCHAR",
    "REAL",
    "SET",
    "SMALLINT",
    "TEXT",
    "TIME",
    "TIMESTAMP",
    "TINYBLOB",
    "TINYINT",
    "TINYTEXT",
    "VARCHAR",
    "YEAR",
    "MySQLDateTime",
    "MySQLInterval",
    "MySQLTime",
    "colspecs",
]


class BIT(sqltypes.TypeEngine[int]):
    """``BIT(length)``: a bit field, read and written as an int."""

    python_type_ = int

    def __init__(self, length: int | None = None) -> None:
        self.length = length

    def result_processor(self, dialect: Any, coltype: Any) -> Processor | None:
        return lambda value: (
            int.from_bytes(value, "big") if isinstance(value, bytes | bytearray) else value
        )


class INET4(sqltypes.String):
    """``INET4`` (MariaDB 10.10+): an IPv4 address, as a string."""

    def __init__(self) -> None:
        super().__init__()


class INET6(sqltypes.String):
    """``INET6`` (MariaDB 10.5+): an IPv6 (or IPv4-mapped) address, as a string."""

    def __init__(self) -> None:
        super().__init__()
