"""What every list act shares: the legacy cap of 100 rows, a page of a statement, the order."""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select

LIST_LIMIT = 100  # the legacy lists' `LIMIT 100`, and the largest page a client may ask for


@dataclass(frozen=True)
class Page:
    limit: int = LIST_LIMIT
    offset: int = 0

    def apply(self, query: Select[Any]) -> Select[Any]:
        return query.limit(self.limit).offset(self.offset)


def page_of(query: Mapping[str, Any]) -> Page:
    """The page a loaded query asks for: `limit` capped at LIST_LIMIT, `offset` from 0."""
    limit, offset = query["limit"], query["offset"]
    return Page(min(limit or LIST_LIMIT, LIST_LIMIT), offset or 0)


def newest_first(query: Select[Any], table: Any) -> Select[Any]:
    """The legacy list order (`created_at` DESC), made deterministic by the id."""
    return query.order_by(table.c.created_at.desc(), table.c.id.desc())
