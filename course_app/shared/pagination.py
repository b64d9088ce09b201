"""Pagination: offset pages for admin screens, cursor pages for feeds, one cap for both.

``Page[T]`` is a ``Generic[T]`` Pydantic model, the form that runs on Python 3.11.
(On 3.12+ you may write ``class Page[T](BaseModel)``, PEP 695; the seeds do, and it is
a syntax error on 3.11.)
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Depends, Query
from pydantic import BaseModel, ConfigDict, Field, computed_field

from course_app.core.errors import AppError

T = TypeVar("T")
MAX_PAGE_SIZE = 100
DEFAULT_PAGE_SIZE = 20


class Page(BaseModel, Generic[T]):
    """One offset page of ``T``."""

    model_config = ConfigDict(from_attributes=True)

    items: list[T]
    total: int = Field(ge=0)
    page: int = Field(ge=1)
    page_size: int = Field(ge=1, le=MAX_PAGE_SIZE)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def has_next(self) -> bool:
        return self.page * self.page_size < self.total

    @computed_field  # type: ignore[prop-decorator]
    @property
    def pages(self) -> int:
        return (self.total + self.page_size - 1) // self.page_size


class CursorPage(BaseModel, Generic[T]):
    """One keyset page: ``next_cursor`` is opaque; pass it back to continue."""

    items: list[T]
    next_cursor: str | None = None


@dataclass(frozen=True)
class PageParams:
    """Validated ``?page=&page_size=``: build it with the :data:`PageDep` dependency."""

    page: int = 1
    page_size: int = DEFAULT_PAGE_SIZE

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.page_size

    @property
    def limit(self) -> int:
        return self.page_size


async def page_params(
    page: Annotated[int, Query(ge=1, le=1_000_000, description="1-based page number")] = 1,
    page_size: Annotated[
        int, Query(ge=1, le=MAX_PAGE_SIZE, description="Items per page (max 100)")
    ] = DEFAULT_PAGE_SIZE,
) -> PageParams:
    """``?page=&page_size=`` with bounds: a page size over 100 is a 422, never a huge
    query. (An ``async def`` function, not a class: FastAPI would call a class, like any
    plain callable, in the thread pool.)"""
    return PageParams(page, page_size)


PageDep = Annotated[PageParams, Depends(page_params)]


class InvalidCursorError(AppError):
    status_code = 422
    code = "INVALID_CURSOR"


def encode_cursor(values: dict[str, Any]) -> str:
    raw = json.dumps(values, separators=(",", ":"), sort_keys=True).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> dict[str, Any]:
    """Decode a cursor made by :func:`encode_cursor`; anything else is a 422."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        value = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (binascii.Error, ValueError, UnicodeDecodeError) as exc:
        raise InvalidCursorError("Malformed cursor") from exc
    if not isinstance(value, dict):
        raise InvalidCursorError("Malformed cursor")
    return value
