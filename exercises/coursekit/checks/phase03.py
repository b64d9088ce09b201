"""Checkers of lab 03, Pydantic v2.

3.1-3.3 validate the learner's models with many inputs (each boundary on both sides);
3.4 builds the real app with the learner's ``build_app``, signs users up over HTTP and
reads their public profiles, on an in-memory SQLite database.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from coursekit.checking import Checker, exercise
from coursekit.settings import course_settings


def _is_v2_model(value: Any) -> bool:
    from pydantic import BaseModel

    return isinstance(value, type) and issubclass(value, BaseModel)


def _v2_model_case(c: Checker, name: str, value: Any) -> bool:
    import pydantic.v1

    def hint() -> str:
        if isinstance(value, type) and issubclass(value, pydantic.v1.BaseModel):
            return (
                "This is a pydantic.v1 model: import BaseModel from `pydantic`, not `pydantic.v1`."
            )
        return f"Write `class {name}(BaseModel):` with BaseModel from pydantic."

    return c.that(
        f"{name} is a Pydantic v2 model class",
        lambda: value,
        _is_v2_model,
        expected="a subclass of pydantic.BaseModel",
        hint=hint(),
        show=lambda v: v.__name__ if isinstance(v, type) else repr(v),
    )


def _errors(exc: Exception) -> str:
    try:
        return "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())  # type: ignore[attr-defined]
    except Exception:
        return str(exc)


def _dump(model: Any, data: Any) -> Any:
    """``model.model_validate(data).model_dump()``, with a readable failure."""
    from pydantic import ValidationError

    try:
        return model.model_validate(data).model_dump()
    except ValidationError as exc:
        raise AssertionError(f"rejected: {_errors(exc)}") from None


# --- 3.1 ---------------------------------------------------------------------------------
_REVIEW = {"rating": 5, "title": "Keeps tea hot"}


@exercise("3.1", "ReviewCreate: a bounded, strict input model")
def _check_3_1(c: Checker, review_create: Any) -> None:
    from pydantic import ValidationError

    if review_create is None:
        raise NotImplementedError("ReviewCreate is still None: write the class in the cell above")
    if not _v2_model_case(c, "ReviewCreate", review_create):
        return

    c.equal(
        "a minimal review (rating and title) is accepted; body defaults to ''",
        lambda: _dump(review_create, _REVIEW),
        {**_REVIEW, "body": ""},
        hint='Declare exactly rating, title and body; give body the default "".',
    )
    c.equal(
        "surrounding whitespace is stripped from title and body",
        lambda: _dump(review_create, {"rating": 4, "title": "  Solid  ", "body": "\n Nice. \t"}),
        {"rating": 4, "title": "Solid", "body": "Nice."},
        hint="Set str_strip_whitespace=True in model_config.",
    )
    c.equal(
        "ratings 1 and 5 (the bounds) are accepted",
        lambda: [_dump(review_create, {**_REVIEW, "rating": r})["rating"] for r in (1, 5)],
        [1, 5],
        hint="Both bounds are included: Field(ge=1, le=5), not gt/lt.",
    )
    rejected: list[tuple[str, dict[str, Any], str]] = [
        ("rating 0", {**_REVIEW, "rating": 0}, "Bound the rating: Field(ge=1, le=5)."),
        ("rating 6", {**_REVIEW, "rating": 6}, "Bound the rating: Field(ge=1, le=5)."),
        ("rating 4.5", {**_REVIEW, "rating": 4.5}, "Type rating as int."),
        (
            "a title of only spaces",
            {**_REVIEW, "title": "    "},
            "Strip first (str_strip_whitespace=True), then min_length=1 refuses the empty rest.",
        ),
        ("a title of 81 characters", {**_REVIEW, "title": "x" * 81}, "Use max_length=80."),
        (
            "a newline inside the title",
            {**_REVIEW, "title": "Great\nmug"},
            "Add pattern=NO_CONTROL_CHARS to the title: a newline forges log lines and "
            "breaks page layouts.",
        ),
        (
            "a NUL byte inside the title",
            {**_REVIEW, "title": "Great\x00mug"},
            "Add pattern=NO_CONTROL_CHARS: PostgreSQL refuses NUL bytes with a 500.",
        ),
        ("a body of 2001 characters", {**_REVIEW, "body": "x" * 2001}, "Use max_length=2000."),
        ("a missing title", {"rating": 5}, "title has no default: it is required."),
        (
            "an extra key 'approved': true",
            {**_REVIEW, "approved": True},
            "Set extra='forbid': otherwise the key is silently dropped today and "
            "mass-assigned the day someone builds the row from the raw body.",
        ),
        (
            "an extra key 'author_id'",
            {**_REVIEW, "author_id": 1},
            "Set extra='forbid' in model_config.",
        ),
    ]
    for label, data, hint in rejected:
        c.raises(
            f"{label} is rejected with a ValidationError",
            lambda data=data: review_create.model_validate(data),
            ValidationError,
            hint=hint,
        )
    c.equal(
        "a title of 80 characters and a body of 2000 are accepted",
        lambda: [
            len(v)
            for v in _dump(
                review_create, {**_REVIEW, "title": "t" * 80, "body": "b" * 2000}
            ).values()
            if isinstance(v, str)
        ],
        [80, 2000],
        hint="The limits are inclusive: max_length=80 and max_length=2000.",
    )
    c.equal(
        "the limits are documented in the JSON schema (rating min/max, title maxLength)",
        lambda: _documented_limits(review_create.model_json_schema()),
        (1, 5, 80, 2000),
        hint="Put the limits into Field(...) (or Annotated), not only into a validator: "
        "then OpenAPI shows them to every client.",
    )
    ok, examples = c.run(
        "the model has at least one example (json_schema_extra)",
        lambda: (review_create.model_config.get("json_schema_extra") or {}).get("examples"),
        accept=lambda value: isinstance(value, list) and len(value) > 0,
        expected="a non-empty list of example bodies",
        hint='model_config = ConfigDict(..., json_schema_extra={"examples": [{...}]})',
    )
    if ok:
        for index, example in enumerate(examples):
            c.run(
                f"example {index + 1} is itself a valid review",
                lambda example=example: _dump(review_create, example),
                hint="An example that fails validation teaches every reader a 422: fix it.",
                show=lambda _: "valid",
            )


def _documented_limits(schema: dict[str, Any]) -> tuple[Any, ...]:
    properties = schema.get("properties", {})
    return (
        properties.get("rating", {}).get("minimum"),
        properties.get("rating", {}).get("maximum"),
        properties.get("title", {}).get("maxLength"),
        properties.get("body", {}).get("maxLength"),
    )


# --- 3.2 ---------------------------------------------------------------------------------
@dataclass
class _Row:
    """An ORM-like row: attributes, no mapping interface."""

    code: str
    percent_off: int
    max_uses: int | None = None


@contextmanager
def _deprecations_recorded() -> Iterator[list[warnings.WarningMessage]]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        yield caught


def _deprecations(caught: list[warnings.WarningMessage]) -> list[str]:
    return sorted(
        {str(w.message).split(".")[0] for w in caught if issubclass(w.category, DeprecationWarning)}
    )


@exercise("3.2", "Coupon: the v1 model migrated to the v2 API", arity=2)
def _check_3_2(c: Checker, coupon: Any, export_coupons: Any) -> None:
    from pydantic import ValidationError

    if coupon is None or export_coupons is None:
        raise NotImplementedError(
            "Coupon / export_coupons are still None: write them in the cell above"
        )
    if not _v2_model_case(c, "Coupon", coupon):
        return
    c.equal(
        "a valid coupon is accepted; max_uses defaults to None",
        lambda: _dump(coupon, {"code": "SAVE10", "percent_off": 10}),
        {"code": "SAVE10", "percent_off": 10, "max_uses": None},
        hint="Three fields: code, percent_off, max_uses (optional, default None).",
    )
    c.equal(
        "the code is stripped and upper-cased: ' save10 ' -> 'SAVE10'",
        lambda: _dump(coupon, {"code": " save10 ", "percent_off": 10})["code"],
        "SAVE10",
        hint="str_strip_whitespace=True in model_config (v1's anystr_strip_whitespace), and "
        "the validator returns value.upper().",
    )
    c.equal(
        "bounds that v1 accepted are accepted: percent_off 1 and 90, max_uses 1, code of 4 and 20",
        lambda: [
            _dump(coupon, {"code": code, "percent_off": p, "max_uses": m})["percent_off"]
            for code, p, m in [("ABCD", 1, 1), ("A" * 20, 90, None)]
        ],
        [1, 90],
        hint="conint(ge=1, le=90) becomes Annotated[int, Field(ge=1, le=90)]: ge/le are inclusive.",
    )
    for label, data in [
        ("a code with a dash 'SAVE-10'", {"code": "SAVE-10", "percent_off": 10}),
        ("a code of 3 characters", {"code": "ab1", "percent_off": 10}),
        ("a code of 21 characters", {"code": "A" * 21, "percent_off": 10}),
        ("percent_off 0", {"code": "SAVE10", "percent_off": 0}),
        ("percent_off 91", {"code": "SAVE10", "percent_off": 91}),
        ("max_uses 0", {"code": "SAVE10", "percent_off": 10, "max_uses": 0}),
    ]:
        c.raises(
            f"{label} is rejected with pydantic.ValidationError, as in v1",
            lambda data=data: coupon.model_validate(data),
            ValidationError,
            hint="Keep every rule of LegacyCoupon: constr -> Field(min_length, max_length), "
            "conint -> Field(ge, le), the validator -> @field_validator + @classmethod.",
        )
    c.equal(
        "a row object is read through its attributes (v1's orm_mode)",
        lambda: _dump(coupon, _Row("spring25", 25, 100)),
        {"code": "SPRING25", "percent_off": 25, "max_uses": 100},
        hint="orm_mode = True becomes model_config = ConfigDict(from_attributes=True).",
    )
    rows = [_Row(" spring25 ", 25), _Row("vip10", 50, 10)]
    c.equal(
        "export_coupons(rows) returns what legacy_export(rows) returned",
        lambda: export_coupons(rows),
        [
            {"code": "SPRING25", "percent_off": 25, "max_uses": None},
            {"code": "VIP10", "percent_off": 50, "max_uses": 10},
        ],
        hint="[Coupon.model_validate(row).model_dump() for row in rows]",
    )
    _check_no_deprecated_api(c, coupon, export_coupons, rows)


def _check_no_deprecated_api(c: Checker, coupon: Any, export_coupons: Any, rows: Any) -> None:
    decorators = coupon.__pydantic_decorators__
    c.that(
        "the code rule is a v2 @field_validator (not the deprecated @validator)",
        lambda: (sorted(decorators.validators), sorted(decorators.field_validators)),
        lambda got: not got[0] and bool(got[1]),
        expected="no v1-style validators, at least one field_validator",
        hint="@validator('code') becomes @field_validator('code') followed by @classmethod.",
        show=lambda got: f"validators={got[0]}, field_validators={got[1]}",
    )
    c.equal(
        "no inner `class Config` (v1 style) on the model",
        lambda: "Config" in vars(coupon),
        False,
        hint="Replace `class Config:` with model_config = ConfigDict(...): the v1 keys are "
        "renamed, not translated (orm_mode does nothing in v2).",
    )

    def run_quietly() -> list[str]:
        with _deprecations_recorded() as caught:
            export_coupons(rows)
            coupon.model_validate({"code": "SAVE10", "percent_off": 10})
        return _deprecations(caught)

    c.equal(
        "export_coupons(rows) uses no deprecated method (no DeprecationWarning)",
        run_quietly,
        [],
        hint="from_orm(row) -> model_validate(row); .dict() -> .model_dump(); "
        ".json() -> .model_dump_json(); parse_obj -> model_validate.",
    )


# --- 3.3 ---------------------------------------------------------------------------------
def _slice_dump(cls: Any, **values: Any) -> Any:
    return _dump(cls, values)


@exercise("3.3", "Slice[T]: a generic page with computed fields")
def _check_3_3(c: Checker, slice_cls: Any) -> None:
    from pydantic import BaseModel, ValidationError

    if slice_cls is None:
        raise NotImplementedError("Slice is still None: write the class in the cell above")
    if not _v2_model_case(c, "Slice", slice_cls):
        return
    ok, int_slice = c.run(
        "Slice[int] builds a parametrised model",
        lambda: slice_cls[int],
        accept=_is_v2_model,
        expected="a model class Slice[int]",
        hint="Subclass both: class Slice(BaseModel, Generic[T]), with items: list[T].",
        show=lambda v: getattr(v, "__name__", repr(v)),
    )
    if not ok:
        return
    cases = [
        ("the first slice of 5", {"items": [1, 2], "total": 5, "offset": 0, "limit": 2}, True, 2),
        ("a middle slice", {"items": [3, 4], "total": 5, "offset": 2, "limit": 2}, True, 4),
        ("a last, short slice", {"items": [5], "total": 5, "offset": 4, "limit": 2}, False, None),
        (
            "a slice ending exactly at total",
            {"items": [4, 5], "total": 5, "offset": 3, "limit": 2},
            False,
            None,
        ),
        ("an empty result", {"items": [], "total": 0, "offset": 0, "limit": 20}, False, None),
        (
            "a slice shorter than the limit",
            {"items": [1], "total": 3, "offset": 0, "limit": 2},
            True,
            1,
        ),
    ]
    for label, values, has_more, next_offset in cases:
        c.equal(
            f"{label}: model_dump() has has_more={has_more}, next_offset={next_offset}",
            lambda values=values: _slice_dump(int_slice, **values),
            {**values, "has_more": has_more, "next_offset": next_offset},
            hint="has_more is offset + len(items) < total (strictly less); next_offset is "
            "offset + len(items) when has_more, else None. Both must be @computed_field "
            "properties: a plain @property is not in model_dump().",
        )
    c.equal(
        "a client cannot set the computed values (has_more: true on the last slice)",
        lambda: _dump(
            int_slice,
            {"items": [5], "total": 5, "offset": 4, "limit": 2, "has_more": True, "next_offset": 6},
        ),
        {"items": [5], "total": 5, "offset": 4, "limit": 2, "has_more": False, "next_offset": None},
        hint="Derived values are @computed_field properties, never ordinary fields.",
    )
    base = {"total": 1, "offset": 0, "limit": 10}
    c.raises(
        "Slice[int] rejects items ['x']",
        lambda: int_slice.model_validate({**base, "items": ["x"]}),
        ValidationError,
        hint="Type items as list[T]: the parameter decides the item type.",
    )
    c.equal(
        "Slice[str] accepts items ['x']",
        lambda: _slice_dump(slice_cls[str], items=["x"], **base)["items"],
        ["x"],
        hint="Type items as list[T], not list[int] or list[Any].",
    )

    class Item(BaseModel):
        id: int
        name: str

    c.equal(
        "Slice[Item] validates each item into an Item",
        lambda: (
            type(
                slice_cls[Item]
                .model_validate({**base, "items": [{"id": "1", "name": "mug"}]})
                .items[0]
            ).__name__
        ),
        "Item",
        hint="items: list[T] — Pydantic validates dicts into the model T.",
    )
    for label, values in [
        ("limit 0", {"limit": 0}),
        ("limit 101", {"limit": 101}),
        ("total -1", {"total": -1}),
        ("offset -1", {"offset": -1}),
    ]:
        c.raises(
            f"{label} is rejected with a ValidationError",
            lambda values=values: int_slice.model_validate({**base, "items": [], **values}),
            ValidationError,
            hint="total >= 0, offset >= 0, 1 <= limit <= 100: Field(ge=..., le=...).",
        )
    _check_slice_schema(c, int_slice)


def _check_slice_schema(c: Checker, int_slice: Any) -> None:
    from fastapi import FastAPI

    def read_only() -> dict[str, Any]:
        properties = int_slice.model_json_schema(mode="serialization")["properties"]
        return {name: properties.get(name, {}).get("readOnly") for name in _COMPUTED}

    c.equal(
        "the serialization schema lists has_more and next_offset as read-only",
        read_only,
        dict.fromkeys(_COMPUTED, True),
        hint="@computed_field puts a property into the output schema, marked readOnly.",
    )
    c.equal(
        "the validation (input) schema does not ask for them",
        lambda: sorted(set(_COMPUTED) & set(int_slice.model_json_schema()["properties"])),
        [],
        hint="Do not declare has_more / next_offset as fields.",
    )

    def served() -> Any:
        from starlette.testclient import TestClient

        def numbers() -> Any:
            return int_slice(items=[1, 2], total=3, offset=0, limit=2)

        app = FastAPI()
        app.add_api_route("/numbers", numbers, response_model=int_slice)

        with TestClient(app) as client:
            body = client.get("/numbers").json()
        return {name: body.get(name) for name in _COMPUTED}

    c.equal(
        "a FastAPI endpoint returning Slice[int] sends has_more and next_offset",
        served,
        {"has_more": True, "next_offset": 2},
        hint="Only @computed_field properties are serialized into responses.",
    )


_COMPUTED = ("has_more", "next_offset")

# --- 3.4 ---------------------------------------------------------------------------------
MEMORY_DB = "sqlite+aiosqlite:///:memory:"
PEOPLE = [
    {"email": "ada@example.com", "password": "correct horse battery", "full_name": "Ada Lovelace"},
    {"email": "alan@example.com", "password": "correct horse battery", "full_name": "Alan Turing"},
]
MAX_ID = 2**31 - 1
PROFILE = "/api/profiles/{user_id}"


def _settings() -> Any:
    """``course_app`` settings from these values only: no environment, no ``.env``."""
    return course_settings(environment="test", database_url=MEMORY_DB, log_level="CRITICAL")


def _status_code(response: Any) -> tuple[int, Any]:
    body = response.json() if response.headers.get("content-type") == "application/json" else None
    code = body.get("error", {}).get("code") if isinstance(body, dict) else None
    return response.status_code, code


@exercise("3.4", "A public profile on the real app", time_limit=40.0)
def _check_3_4(c: Checker, build_app: Any) -> None:
    from fastapi import FastAPI

    if build_app is None:
        raise NotImplementedError("build_app is still None: write it in the cell above")
    built, app = c.run(
        "build_app(settings) returns a FastAPI app",
        lambda: build_app(_settings()),
        accept=lambda value: isinstance(value, FastAPI),
        expected="a FastAPI instance",
        hint="Start with app = create_app(settings), add the route, return app.",
        show=lambda value: type(value).__name__,
    )
    if not built:
        return
    client = c.client(app)
    ok, ids = c.run(
        "sign-up (POST /api/users) still works on your app",
        lambda: [client.post("/api/users", json=person).json()["id"] for person in PEOPLE],
        accept=lambda got: all(isinstance(i, int) for i in got),
        expected="201 with an id for each of two users",
        hint="Build the app with create_app(settings): it brings the users feature, the "
        "database lifespan and the error envelope.",
    )
    if not ok:
        return
    path = PROFILE.format(user_id=ids[1])
    c.equal(
        f"GET {path} without a token answers 200 with exactly id and full_name",
        lambda: (client.get(path).status_code, client.get(path).json()),
        (200, {"id": ids[1], "full_name": "Alan Turing"}),
        hint="Declare the handler's return type as PublicProfile (id, full_name only) and "
        "read the user with await service.get_user(user_id). No auth dependency: the "
        "profile is public.",
    )
    c.that(
        "the profile reveals no e-mail, role, account status or hash",
        lambda: client.get(path).text,
        lambda text: not any(s in text for s in ("@example.com", "role", "is_active", "argon")),
        expected="no private field in the body",
        hint="UserResponse is the owner's view: answer PublicProfile instead, so the return "
        "type filters everything else out.",
        show=lambda text: text[:150],
    )
    bounds_hint = (
        "Type the path parameter Annotated[int, Path(ge=1, le=MAX_USER_ID)]: a bare int "
        "lets 2**70 reach the database driver, which fails with a 500."
    )
    for raw in [str(2**70), str(MAX_ID + 1), "0", "-5", "abc", "1.5"]:
        c.equal(
            f"GET /api/profiles/{raw} is a 422 VALIDATION_ERROR (never a 500)",
            lambda raw=raw: _status_code(client.get(PROFILE.format(user_id=raw))),
            (422, "VALIDATION_ERROR"),
            hint=bounds_hint,
        )
    c.equal(
        f"GET /api/profiles/{MAX_ID} (the largest valid id, no such user) is a 404 NOT_FOUND",
        lambda: _status_code(client.get(PROFILE.format(user_id=MAX_ID))),
        (404, "NOT_FOUND"),
        hint="The upper bound is MAX_USER_ID itself (le=, not lt=); an unknown id is the "
        "service's 404, already in the app's envelope.",
    )
    _check_profile_openapi(c, app)


def _check_profile_openapi(c: Checker, app: Any) -> None:
    def documented() -> tuple[Any, Any, Any]:
        spec = app.openapi()
        operation = spec["paths"][PROFILE]["get"]
        schema = operation["responses"]["200"]["content"]["application/json"]["schema"]
        name = schema.get("$ref", "").rsplit("/", 1)[-1]
        fields = sorted(spec["components"]["schemas"].get(name, {}).get("properties", {}))
        param = next(p for p in operation["parameters"] if p["name"] == "user_id")["schema"]
        return fields, param.get("minimum"), param.get("maximum")

    c.equal(
        "OpenAPI documents the response (id, full_name) and the id's bounds (1 .. 2**31-1)",
        documented,
        (["full_name", "id"], 1, MAX_ID),
        hint="The return type annotation becomes the documented response model, and "
        "Path(ge=..., le=...) the documented bounds.",
    )
