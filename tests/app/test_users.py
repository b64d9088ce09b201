"""Registration, the caller's own account, and the admin user management endpoints."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from course_app.config import Settings
from course_app.core.database import build_engine
from course_app.core.security import create_token
from course_app.features.auth.models import RefreshToken
from course_app.features.users.models import Role, User
from course_app.features.users.repository import UserRepository
from tests.app.factories import DEFAULT_PASSWORD, auth_headers, create_user
from tests.app.test_errors import envelope

pytestmark = pytest.mark.anyio

NEW_PASSWORD = "a brand new passphrase"


def signup(email: str = "ada@example.com", **changes: object) -> dict[str, object]:
    return {"email": email, "password": DEFAULT_PASSWORD, "full_name": "Ada Lovelace", **changes}


async def stored_user(database_url: str, user_id: int) -> User | None:
    engine = build_engine(database_url)
    try:
        async with AsyncSession(engine) as session:
            return await session.get(User, user_id)
    finally:
        await engine.dispose()


async def refresh_rows(database_url: str, user_id: int) -> list[RefreshToken]:
    engine = build_engine(database_url)
    try:
        async with AsyncSession(engine) as session:
            query = select(RefreshToken).where(RefreshToken.user_id == user_id)
            return list((await session.scalars(query)).all())
    finally:
        await engine.dispose()


def validation_errors(response: httpx.Response) -> list[dict[str, Any]]:
    assert response.status_code == 422, response.text
    error = envelope(response)
    assert error["code"] == "VALIDATION_ERROR"
    errors: list[dict[str, Any]] = error["details"]["errors"]  # type: ignore[index]
    return errors


# --- registration ----------------------------------------------------------------------
async def test_register_returns_the_public_fields_only(
    client: httpx.AsyncClient, database_url: str
) -> None:
    response = await client.post("/api/users", json=signup(email="  Ada@Example.COM "))
    assert response.status_code == 201
    body = response.json()
    assert set(body) == {"id", "email", "full_name", "role", "is_active", "created_at"}
    assert body["email"] == "ada@example.com"
    assert body["role"] == "user"
    assert body["is_active"] is True
    assert datetime.fromisoformat(body["created_at"]).tzinfo is not None
    assert DEFAULT_PASSWORD not in response.text
    assert "argon2" not in response.text
    stored = await stored_user(database_url, body["id"])
    assert stored is not None
    assert stored.hashed_password.startswith("$argon2id$")


async def test_registered_user_can_log_in(client: httpx.AsyncClient) -> None:
    await client.post("/api/users", json=signup())
    response = await client.post(
        "/api/auth/login", json={"email": "ADA@example.com", "password": DEFAULT_PASSWORD}
    )
    assert response.status_code == 200


async def test_password_whitespace_is_kept(client: httpx.AsyncClient) -> None:
    """Stripping would silently change the secret (and weaken it)."""
    spaced = "  spaced out  "
    assert (await client.post("/api/users", json=signup(password=spaced))).status_code == 201
    good = {"email": "ada@example.com", "password": spaced}
    stripped = {"email": "ada@example.com", "password": spaced.strip()}
    assert (await client.post("/api/auth/login", json=good)).status_code == 200
    assert (await client.post("/api/auth/login", json=stripped)).status_code == 401


async def test_duplicate_email_is_409_whatever_the_case(
    client: httpx.AsyncClient, database_url: str
) -> None:
    await create_user(database_url, email="taken@example.com")
    response = await client.post("/api/users", json=signup(email="Taken@Example.com"))
    assert response.status_code == 409
    error = envelope(response)
    assert error["code"] == "CONFLICT"
    assert error["details"] == {"field": "email"}


async def test_duplicate_email_race_is_409_not_500(
    client: httpx.AsyncClient, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two sign-ups that both pass the look-up: the unique index decides."""
    await create_user(database_url, email="race@example.com")

    async def not_found(self: UserRepository, email: str) -> None:
        return None

    monkeypatch.setattr(UserRepository, "get_by_email", not_found)
    response = await client.post("/api/users", json=signup(email="race@example.com"))
    assert response.status_code == 409
    assert envelope(response)["code"] == "CONFLICT"


INVALID_EMAILS = [
    "plainaddress",
    "@example.com",
    "ada@",
    "ada@example",
    "ada@@example.com",
    "ada@exa mple.com",
    "ada lovelace@example.com",
    ".ada@example.com",
    "ada.@example.com",
    "a..da@example.com",
    "ada@-example.com",
    "ada@example-.com",
    "ada@example..com",
    "ada@exa_mple.com",
    "ada@example.123",
    "ada@" + "a" * 64 + ".com",
    "a" * 65 + "@example.com",
    "ada@" + ("a" * 62 + ".") * 4 + "com",  # 259 characters
    "ada\x00@example.com",
    "adä@example.com",
    '"ada"@example.com',
    "ab",
    "",
]


async def test_invalid_emails_are_422(client: httpx.AsyncClient) -> None:
    """Only the email is wrong in each body, so each 422 is the email's."""
    statuses = {
        email: (await client.post("/api/users", json=signup(email=email))).status_code
        for email in INVALID_EMAILS
    }
    assert statuses == dict.fromkeys(INVALID_EMAILS, 422)
    errors = validation_errors(await client.post("/api/users", json=signup(email="ada@")))
    assert errors[0]["loc"] == ["body", "email"]


async def test_valid_emails_are_stored_lower_case(client: httpx.AsyncClient) -> None:
    cases = {
        "o'neil+shop@mail.example.co.uk": "o'neil+shop@mail.example.co.uk",
        "A.B-C_D@Sub-Domain.Example.ORG": "a.b-c_d@sub-domain.example.org",
        "x@a1.io": "x@a1.io",
        "user@xn--bcher-kva.example": "user@xn--bcher-kva.example",
    }
    stored = {}
    for email in cases:
        response = await client.post("/api/users", json=signup(email=email))
        stored[email] = response.json().get("email", response.status_code)
    assert stored == cases


INVALID_SIGNUP_FIELDS: list[tuple[dict[str, object], str]] = [
    ({"password": "short12"}, "password"),
    ({"password": "x" * 129}, "password"),
    ({"full_name": ""}, "full_name"),
    ({"full_name": "   "}, "full_name"),
    ({"full_name": "x" * 101}, "full_name"),
    ({"full_name": "Ada\x00"}, "full_name"),
    ({"full_name": "Ada\nINFO forged log line"}, "full_name"),
    ({"full_name": None}, "full_name"),
    ({"email": 42}, "email"),
]


async def test_invalid_signup_fields_are_422(client: httpx.AsyncClient) -> None:
    for changes, field in INVALID_SIGNUP_FIELDS:
        errors = validation_errors(await client.post("/api/users", json=signup(**changes)))
        assert errors[0]["loc"] == ["body", field], changes


async def test_password_boundaries(client: httpx.AsyncClient) -> None:
    shortest = await client.post("/api/users", json=signup(email="a@example.com", password="8" * 8))
    longest = await client.post(
        "/api/users", json=signup(email="b@example.com", password="x" * 128)
    )
    assert (shortest.status_code, longest.status_code) == (201, 201)


async def test_register_is_not_json_is_422(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/users", content=b"email=a@b.com")
    assert response.status_code == 422


# --- /me -------------------------------------------------------------------------------
async def test_read_me(client: httpx.AsyncClient, database_url: str, settings: Settings) -> None:
    user = await create_user(database_url, full_name="Grace Hopper")
    response = await client.get("/api/users/me", headers=auth_headers(settings, user))
    assert response.status_code == 200
    assert response.json()["email"] == user.email
    assert response.json()["full_name"] == "Grace Hopper"


async def test_update_my_name(
    client: httpx.AsyncClient, database_url: str, settings: Settings
) -> None:
    user = await create_user(database_url)
    headers = auth_headers(settings, user)
    response = await client.patch(
        "/api/users/me", json={"full_name": "  New Name "}, headers=headers
    )
    assert response.status_code == 200
    assert response.json()["full_name"] == "New Name"
    assert (await client.get("/api/users/me", headers=headers)).json()["full_name"] == "New Name"


async def test_empty_patch_changes_nothing(
    client: httpx.AsyncClient, database_url: str, settings: Settings
) -> None:
    user = await create_user(database_url, full_name="Same")
    response = await client.patch("/api/users/me", json={}, headers=auth_headers(settings, user))
    assert response.status_code == 200
    assert response.json()["full_name"] == "Same"


async def test_change_password_ends_other_sessions(
    client: httpx.AsyncClient, database_url: str, settings: Settings
) -> None:
    user = await create_user(database_url)
    old_login = {"email": user.email, "password": DEFAULT_PASSWORD}
    session = (await client.post("/api/auth/login", json=old_login)).json()
    response = await client.patch(
        "/api/users/me",
        json={"password": NEW_PASSWORD, "current_password": DEFAULT_PASSWORD},
        headers=auth_headers(settings, user),
    )
    assert response.status_code == 200
    new_login = {"email": user.email, "password": NEW_PASSWORD}
    assert (await client.post("/api/auth/login", json=new_login)).status_code == 200
    assert (await client.post("/api/auth/login", json=old_login)).status_code == 401
    refreshed = await client.post(
        "/api/auth/refresh", json={"refresh_token": session["refresh_token"]}
    )
    assert refreshed.status_code == 401


async def test_wrong_current_password_is_422_on_that_field(
    client: httpx.AsyncClient, database_url: str, settings: Settings
) -> None:
    user = await create_user(database_url)
    response = await client.patch(
        "/api/users/me",
        json={"password": NEW_PASSWORD, "current_password": "not my password"},
        headers=auth_headers(settings, user),
    )
    errors = validation_errors(response)
    assert errors == [
        {
            "loc": ["body", "current_password"],
            "msg": "Current password is incorrect",
            "type": "invalid_current_password",
        }
    ]
    assert "WWW-Authenticate" not in response.headers
    stored = await stored_user(database_url, user.id)
    assert stored is not None
    assert stored.hashed_password == user.hashed_password


async def test_current_password_guessing_is_rate_limited(
    client: httpx.AsyncClient, database_url: str, settings: Settings
) -> None:
    """A stolen access token must not turn PATCH /me into a password oracle."""
    user = await create_user(database_url)
    body = {"password": NEW_PASSWORD, "current_password": "guess"}
    headers = auth_headers(settings, user)
    for _ in range(settings.login_rate_limit):
        assert (await client.patch("/api/users/me", json=body, headers=headers)).status_code == 422
    limited = await client.patch("/api/users/me", json=body, headers=headers)
    assert limited.status_code == 429
    assert "Retry-After" in limited.headers
    assert envelope(limited)["code"] == "RATE_LIMITED"


async def test_invalid_update_me_is_422(
    client: httpx.AsyncClient, database_url: str, settings: Settings
) -> None:
    user = await create_user(database_url)
    headers = auth_headers(settings, user)
    bodies: list[dict[str, object]] = [
        {"password": NEW_PASSWORD},  # no current_password
        {"current_password": DEFAULT_PASSWORD},  # nothing to confirm
        {"password": "short", "current_password": DEFAULT_PASSWORD},
        {"full_name": None},
        {"password": None, "current_password": None},
        {"full_name": "x" * 101},
        {"current_password": "x" * 129, "password": NEW_PASSWORD},
    ]
    for body in bodies:
        validation_errors(await client.patch("/api/users/me", json=body, headers=headers))
    stored = await stored_user(database_url, user.id)
    assert stored is not None
    assert (stored.full_name, stored.hashed_password) == (user.full_name, user.hashed_password)


async def test_update_me_needs_a_token(client: httpx.AsyncClient) -> None:
    response = await client.patch("/api/users/me", json={"full_name": "X"})
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"


# --- admin -----------------------------------------------------------------------------
@pytest.fixture
async def admin_headers(client: httpx.AsyncClient, database_url: str, settings: Settings) -> Any:
    admin = await create_user(database_url, email="admin@example.com", role=Role.ADMIN)
    return auth_headers(settings, admin)


async def test_list_users_page(
    client: httpx.AsyncClient, database_url: str, admin_headers: dict[str, str]
) -> None:
    for _ in range(4):
        await create_user(database_url)
    response = await client.get("/api/users?page=2&page_size=2", headers=admin_headers)
    assert response.status_code == 200
    body = response.json()
    assert body["total"] == 5
    assert (body["page"], body["page_size"], body["pages"], body["has_next"]) == (2, 2, 3, True)
    assert len(body["items"]) == 2
    assert set(body["items"][0]) == {"id", "email", "full_name", "role", "is_active", "created_at"}


async def test_list_users_default_order_is_newest_first(
    client: httpx.AsyncClient, database_url: str, admin_headers: dict[str, str]
) -> None:
    created = [await create_user(database_url) for _ in range(3)]
    body = (await client.get("/api/users", headers=admin_headers)).json()
    ids = [item["id"] for item in body["items"]]
    assert ids[:3] == [user.id for user in reversed(created)]
    oldest_first = (await client.get("/api/users?sort=created_at", headers=admin_headers)).json()
    assert [item["id"] for item in oldest_first["items"]] == list(reversed(ids))


async def test_list_users_sorted_by_email(
    client: httpx.AsyncClient, database_url: str, admin_headers: dict[str, str]
) -> None:
    for email in ("carol@example.com", "bob@example.com", "dave@example.com"):
        await create_user(database_url, email=email)
    for sort, reverse in (("email", False), ("-email", True)):
        body = (await client.get(f"/api/users?sort={sort}", headers=admin_headers)).json()
        emails = [item["email"] for item in body["items"]]
        assert emails == sorted(emails, reverse=reverse), sort


async def test_list_users_filters(
    client: httpx.AsyncClient, database_url: str, admin_headers: dict[str, str]
) -> None:
    await create_user(database_url, email="a_b@shop.example")
    await create_user(database_url, email="axb@shop.example", is_active=False)
    await create_user(database_url, email="boss@other.example", role=Role.ADMIN)

    async def emails(query: str) -> set[str]:
        response = await client.get(f"/api/users?{query}", headers=admin_headers)
        assert response.status_code == 200, response.text
        return {item["email"] for item in response.json()["items"]}

    assert await emails("role=admin") == {"admin@example.com", "boss@other.example"}
    assert await emails("is_active=false") == {"axb@shop.example"}
    assert await emails("email_contains=SHOP.example") == {"a_b@shop.example", "axb@shop.example"}
    # LIKE wildcards are literal characters: "_" is an underscore, "%" matches nothing
    assert await emails("email_contains=a_b") == {"a_b@shop.example"}
    assert await emails("email_contains=%25") == set()
    assert await emails("role=user&is_active=true") == {"a_b@shop.example"}


async def test_list_users_rejects_unknown_filters_and_sorts(
    client: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    queries = [
        "sort=hashed_password",
        "sort=created_at;drop table users",
        "role=superuser",
        "is_active=maybe",
        "email_contains=",
        "email_contains=" + "x" * 255,
        "email_contains=%00",
    ]
    for query in queries:
        validation_errors(await client.get(f"/api/users?{query}", headers=admin_headers))


async def test_admin_gets_a_user(
    client: httpx.AsyncClient, database_url: str, admin_headers: dict[str, str]
) -> None:
    user = await create_user(database_url)
    response = await client.get(f"/api/users/{user.id}", headers=admin_headers)
    assert response.status_code == 200
    assert response.json()["email"] == user.email


async def test_admin_gets_404_for_an_unknown_user(
    client: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    for response in (
        await client.get("/api/users/424242", headers=admin_headers),
        await client.patch("/api/users/424242", json={"role": "admin"}, headers=admin_headers),
    ):
        assert response.status_code == 404
        error = envelope(response)
        assert error["code"] == "NOT_FOUND"
        assert error["details"] == {"resource": "User", "identifier": "424242"}


async def test_admin_promotes_a_user(
    client: httpx.AsyncClient, database_url: str, settings: Settings, admin_headers: dict[str, str]
) -> None:
    user = await create_user(database_url)
    response = await client.patch(
        f"/api/users/{user.id}",
        json={"role": "admin", "full_name": "Promoted"},
        headers=admin_headers,
    )
    assert response.status_code == 200
    assert (response.json()["role"], response.json()["full_name"]) == ("admin", "Promoted")
    # the role is read on every request: the old token is an admin token now
    listing = await client.get("/api/users", headers=auth_headers(settings, user))
    assert listing.status_code == 200


async def test_admin_deactivation_takes_effect_at_once(
    client: httpx.AsyncClient, database_url: str, settings: Settings, admin_headers: dict[str, str]
) -> None:
    user = await create_user(database_url)
    login = {"email": user.email, "password": DEFAULT_PASSWORD}
    session = (await client.post("/api/auth/login", json=login)).json()
    response = await client.patch(
        f"/api/users/{user.id}", json={"is_active": False}, headers=admin_headers
    )
    assert response.status_code == 200
    assert response.json()["is_active"] is False
    me = await client.get("/api/users/me", headers=auth_headers(settings, user))
    assert me.status_code == 401
    assert all(row.revoked_at is not None for row in await refresh_rows(database_url, user.id))
    # reactivating does not resurrect the revoked sessions
    await client.patch(f"/api/users/{user.id}", json={"is_active": True}, headers=admin_headers)
    refreshed = await client.post(
        "/api/auth/refresh", json={"refresh_token": session["refresh_token"]}
    )
    assert refreshed.status_code == 401
    assert (await client.get("/api/users/me", headers=auth_headers(settings, user))).is_success


async def test_admin_cannot_lock_themselves_out(
    client: httpx.AsyncClient, database_url: str, settings: Settings
) -> None:
    admin = await create_user(database_url, role=Role.ADMIN)
    headers = auth_headers(settings, admin)
    for body in ({"role": "user"}, {"is_active": False}):
        response = await client.patch(f"/api/users/{admin.id}", json=body, headers=headers)
        assert response.status_code == 409, body
        assert envelope(response)["details"] == {"reason": "self_lockout"}
    me = (await client.get("/api/users/me", headers=headers)).json()
    assert (me["role"], me["is_active"]) == ("admin", True)


async def test_admin_may_rename_themselves(
    client: httpx.AsyncClient, database_url: str, settings: Settings
) -> None:
    admin = await create_user(database_url, role=Role.ADMIN)
    response = await client.patch(
        f"/api/users/{admin.id}",
        json={"full_name": "Root", "role": "admin", "is_active": True},
        headers=auth_headers(settings, admin),
    )
    assert response.status_code == 200
    assert response.json()["full_name"] == "Root"


async def test_invalid_admin_update_is_422(
    client: httpx.AsyncClient, database_url: str, admin_headers: dict[str, str]
) -> None:
    user = await create_user(database_url)
    bodies: list[dict[str, object]] = [
        {"role": None},
        {"is_active": None},
        {"full_name": None},
        {"role": "owner"},
        {"is_active": "sometimes"},
        {"password": NEW_PASSWORD},
        {"email": "new@example.com"},
    ]
    for body in bodies:
        response = await client.patch(f"/api/users/{user.id}", json=body, headers=admin_headers)
        validation_errors(response)


async def test_models_never_show_the_hash() -> None:
    user = User(id=7, email="ada@example.com", hashed_password="$argon2id$secret", role=Role.USER)
    assert "argon2" not in repr(user)
    assert "ada@example.com" in repr(user)


async def test_refresh_token_is_refused_on_user_routes(
    client: httpx.AsyncClient, database_url: str, settings: Settings
) -> None:
    admin = await create_user(database_url, role=Role.ADMIN)
    refresh = create_token(settings, str(admin.id), "refresh")
    response = await client.get("/api/users", headers={"Authorization": f"Bearer {refresh}"})
    assert response.status_code == 401


# --- sign-up rate limit -------------------------------------------------------------


async def test_sign_ups_from_one_address_are_rate_limited(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    for index in range(settings.register_rate_limit):
        created = await client.post("/api/users", json=signup(email=f"u{index}@example.com"))
        assert created.status_code == 201
    limited = await client.post("/api/users", json=signup(email="one-more@example.com"))
    assert limited.status_code == 429
    assert int(limited.headers["Retry-After"]) > 0
    assert envelope(limited)["code"] == "RATE_LIMITED"


async def test_taken_emails_count_against_the_sign_up_limit(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    """Probing which emails exist (409) is what the limit slows down."""
    await client.post("/api/users", json=signup())
    statuses = {
        (await client.post("/api/users", json=signup())).status_code
        for _ in range(settings.register_rate_limit)
    }
    assert statuses == {409, 429}
