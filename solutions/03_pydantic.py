# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3 (FastAPI course)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Lab 03 · Pydantic v2
#
# Four exercises, about 40 minutes. Each exercise cell is followed by a check cell: run
# both. A check never crashes the notebook; it prints ✓ or, for each failing case, what was
# expected, what came back and a hint. Replace each `# YOUR CODE HERE` and the line after it.
#
# | # | you write | it proves |
# |---|---|---|
# | 3.1 | `ReviewCreate`, the body of a product review | bounded, stripped, strict input with a true example |
# | 3.2 | `Coupon` + `export_coupons`, migrated from Pydantic v1 | the v1 → v2 renames, with the same behaviour and no deprecated API |
# | 3.3 | `Slice[T]`, a generic page with computed fields | `Generic[T]` on 3.11; derived values in the output, never from input |
# | 3.4 | `build_app(settings)` with `GET /api/profiles/{user_id}` | the real app shows a public profile: no internal field, `2**70` is a 422 |
#
# Lesson 03 (`notebooks/03_pydantic.ipynb`) shows every tool you need.

# %%
from dataclasses import dataclass
from typing import Annotated, Any, Generic, Optional, TypeVar

import pydantic.v1 as v1
from fastapi import FastAPI, Path
from pydantic import BaseModel, ConfigDict, Field, computed_field, field_validator

from course_app.config import Settings
from course_app.features.users.dependencies import UserServiceDep
from course_app.features.users.schemas import MAX_USER_ID
from course_app.main import create_app
from coursekit import check

# %% [markdown]
# ## Exercise 3.1 — the body of a product review
#
# The shop lets customers review products: `POST /api/products/{id}/reviews`. Write its
# input model `ReviewCreate`:
#
# | field | rule | default |
# |---|---|---|
# | `rating` | an integer from 1 to 5, both included | required |
# | `title` | text; surrounding whitespace stripped; 1 to 80 characters after stripping; no control characters (`\n`, `\t`, NUL … are refused; use the pattern `NO_CONTROL_CHARS` below) | required |
# | `body` | text; surrounding whitespace stripped; at most 2000 characters | `""` |
#
# - Any other key (`author_id`, `approved`, …) is **rejected**: the author is the caller
#   and approval is the moderators' job, never the client's (mass assignment).
# - Document the model with at least one example
#   (`model_config = ConfigDict(..., json_schema_extra={"examples": [...]})`) — and make
#   sure each example is itself a valid review: the checker validates them.
#
# Hints: `ConfigDict(extra=..., str_strip_whitespace=...)`, `Field(ge=..., le=...,
# min_length=..., max_length=..., pattern=...)`.

# %%
NO_CONTROL_CHARS = r"^[^\x00-\x1f\x7f]*$"

### BEGIN SOLUTION stub: ReviewCreate = None  # replace with: class ReviewCreate(BaseModel): ...
class ReviewCreate(BaseModel):
    """Body of ``POST /api/products/{id}/reviews``."""

    model_config = ConfigDict(
        extra="forbid",
        str_strip_whitespace=True,
        json_schema_extra={
            "examples": [{"rating": 5, "title": "Keeps tea hot", "body": "Sturdy enamel."}]
        },
    )

    rating: int = Field(ge=1, le=5)
    title: str = Field(min_length=1, max_length=80, pattern=NO_CONTROL_CHARS)
    body: str = Field(default="", max_length=2000)
### END SOLUTION

# %%
check("3.1", ReviewCreate)

# %% [markdown]
# ## Exercise 3.2 — migrate a Pydantic v1 model
#
# An old service of the shop still uses the v1 API. Here is its coupon model, running
# through the `pydantic.v1` shim, and the function that exports coupons from database
# rows (`CouponRow` stands in for the ORM class):

# %%
@dataclass
class CouponRow:
    code: str
    percent_off: int
    max_uses: int | None = None


class LegacyCoupon(v1.BaseModel):
    code: v1.constr(min_length=4, max_length=20)  # type: ignore[valid-type]
    percent_off: v1.conint(ge=1, le=90)  # type: ignore[valid-type]
    max_uses: Optional[v1.conint(ge=1)] = None  # type: ignore[valid-type]  # noqa: UP045

    class Config:
        orm_mode = True
        anystr_strip_whitespace = True

    # allow_reuse: outside Jupyter, v1 refuses to define the same validator twice
    @v1.validator("code", allow_reuse=True)
    def code_is_alphanumeric(cls, value: str) -> str:  # noqa: N805 (v1 style)
        if not value.isalnum():
            raise ValueError("letters and digits only")
        return value.upper()


def legacy_export(rows: list[Any]) -> list[dict[str, Any]]:
    return [LegacyCoupon.from_orm(row).dict() for row in rows]


print(legacy_export([CouponRow(" spring25 ", 25), CouponRow("vip10", 50, max_uses=10)]))

# %% [markdown]
# Write `Coupon` and `export_coupons(rows)` with the **Pydantic v2 API**, so that they
# behave exactly like `LegacyCoupon` and `legacy_export`: the same values accepted, the
# same normalisation (stripped, upper-case codes), the same values rejected (with a v2
# `pydantic.ValidationError`), and rows read through their attributes.
#
# Use none of the deprecated names — the checker looks: no `@validator`, no inner
# `class Config`, no `.from_orm()`, `.dict()`, `.parse_obj()`. The table in lesson 03,
# section 10, has every rename.

# %%
### BEGIN SOLUTION stub: Coupon = export_coupons = None  # replace with the class and the function
class Coupon(BaseModel):
    model_config = ConfigDict(from_attributes=True, str_strip_whitespace=True)

    code: Annotated[str, Field(min_length=4, max_length=20)]
    percent_off: Annotated[int, Field(ge=1, le=90)]
    max_uses: Annotated[int, Field(ge=1)] | None = None

    @field_validator("code")
    @classmethod
    def code_is_alphanumeric(cls, value: str) -> str:
        if not value.isalnum():
            raise ValueError("letters and digits only")
        return value.upper()


def export_coupons(rows: list[Any]) -> list[dict[str, Any]]:
    return [Coupon.model_validate(row).model_dump() for row in rows]
### END SOLUTION

# %%
check("3.2", Coupon, export_coupons)

# %% [markdown]
# ## Exercise 3.3 — a generic slice with computed fields
#
# The mobile app pages with `offset` and `limit` instead of page numbers. Write the
# generic response model `Slice`, in the form that runs on Python 3.11 (`Generic[T]`
# with the `T` below; not `class Slice[T]`), so that `Slice[ProductResponse]`,
# `Slice[int]` … are models whose items are validated as that type:
#
# | field | rule |
# |---|---|
# | `items` | a list of `T` |
# | `total` | how many items exist in all: an integer ≥ 0 |
# | `offset` | how many items were skipped: an integer ≥ 0 |
# | `limit` | the requested size: an integer from 1 to 100 |
# | `has_more` | **computed**: `True` when items exist after this slice (`offset + len(items) < total`) |
# | `next_offset` | **computed**: the offset of the next slice (`offset + len(items)`), or `None` when there is none |
#
# The two computed values must appear in `model_dump()`, in JSON responses and in the
# (serialization) JSON schema, and a client must not be able to set them.

# %%
T = TypeVar("T")

### BEGIN SOLUTION stub: Slice = None  # replace with: class Slice(BaseModel, Generic[T]): ...
class Slice(BaseModel, Generic[T]):
    """One offset/limit slice of ``T``."""

    items: list[T]
    total: int = Field(ge=0)
    offset: int = Field(ge=0)
    limit: int = Field(ge=1, le=100)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def has_more(self) -> bool:
        return self.offset + len(self.items) < self.total

    @computed_field  # type: ignore[prop-decorator]
    @property
    def next_offset(self) -> int | None:
        return self.offset + len(self.items) if self.has_more else None
### END SOLUTION

# %%
check("3.3", Slice)

# %% [markdown]
# ## Exercise 3.4 — a public profile on the real app
#
# Reviews will show who wrote them, so the shop needs a **public** profile page: anyone
# may read it, without a token. Write `build_app(settings)`:
#
# - build the real app with `create_app(settings)` (sign-up, the error envelope, the
#   database lifespan must keep working) and add `GET /api/profiles/{user_id}` to it;
# - it answers a `PublicProfile` (write that model too) with the user's `id` and
#   `full_name` — **nothing else**: the e-mail address, the role and the account status
#   are private (`UserResponse` has them, so it is the wrong model here);
# - `user_id` is validated at the boundary: an integer from 1 to `MAX_USER_ID` (the
#   largest id the database can hold), so `0`, `abc` or `2**70` are a 422, never a 500;
# - read the user with the users service (`service: UserServiceDep`, then
#   `await service.get_user(user_id)`); for an unknown id it raises the app's 404.
#
# Hint: the return type annotation of a handler is a response model — it filters.

# %%
### BEGIN SOLUTION stub: PublicProfile = build_app = None  # replace with the model and the function
class PublicProfile(BaseModel):
    """What anyone may see about a user."""

    model_config = ConfigDict(
        from_attributes=True,
        json_schema_extra={"examples": [{"id": 1, "full_name": "Ada Lovelace"}]},
    )

    id: int
    full_name: str


UserIdPath = Annotated[int, Path(ge=1, le=MAX_USER_ID, description="The user's id")]


def build_app(settings: Settings) -> FastAPI:
    """The course app plus ``GET /api/profiles/{user_id}``."""
    app = create_app(settings)

    @app.get("/api/profiles/{user_id}", tags=["users"], summary="A user's public profile")
    async def read_profile(user_id: UserIdPath, service: UserServiceDep) -> PublicProfile:
        return PublicProfile.model_validate(await service.get_user(user_id))

    return app
### END SOLUTION

# %%
check("3.4", build_app)

# %% [markdown]
# ## Done?
#
# Run `course check 3` in a terminal to see all four results at once. Next: lesson 04,
# error handling.
