"""Column helpers shared by every model: ids, foreign keys and the legacy timestamp defaults."""

from datetime import datetime
from typing import Any

from sqlalchemy import DateTime, FetchedValue, ForeignKey, func
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import MappedColumn, mapped_column
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

from backend.db import Str255


class CurrentTimestampOnUpdate(FunctionElement[datetime]):
    """`updated_at` default: CURRENT_TIMESTAMP, which MySQL/MariaDB also refresh on UPDATE."""

    type = DateTime()
    name = "current_timestamp_on_update"
    inherit_cache = True


@compiles(CurrentTimestampOnUpdate)
def _compile_current_timestamp(element: Any, compiler: SQLCompiler, **kw: Any) -> str:
    return "CURRENT_TIMESTAMP"


@compiles(CurrentTimestampOnUpdate, "mysql")
@compiles(CurrentTimestampOnUpdate, "mariadb")
def _compile_on_update(element: Any, compiler: SQLCompiler, **kw: Any) -> str:
    return "CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP"


def id_column() -> MappedColumn[Any]:
    return mapped_column(Str255, primary_key=True)


def fk(target: str, name: str, *, cascade: bool = True) -> MappedColumn[Any]:
    ondelete = "CASCADE" if cascade else None
    return mapped_column(Str255, ForeignKey(target, name=name, ondelete=ondelete))


def created_column() -> MappedColumn[Any]:
    return mapped_column(DateTime, server_default=func.current_timestamp())


def updated_column() -> MappedColumn[Any]:
    return mapped_column(
        DateTime, server_default=CurrentTimestampOnUpdate(), server_onupdate=FetchedValue()
    )
