"""Login (form and JSON), refresh-token rotation with reuse detection, logout."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import httpx
import jwt
import pytest
from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from course_app.config import Settings, load_settings
from course_app.core import security
from course_app.core.database import build_engine, utcnow
from course_app.core.security import create_token, decode_token
from course_app.features.auth import service as auth_service
from course_app.features.auth.models import RefreshToken
from course_app.features.auth.repository import RefreshTokenRepository
from course_app.features.users.models import User
from tests.app.conftest import STRONG_SECRET
from tests.app.factories import DEFAULT_PASSWORD, create_user, insert
from tests.app.test_errors import envelope

pytestmark = pytest.mark.anyio

LOGIN_LIMIT = 3  # a small budget keeps the rate-limit tests (Argon2 per attempt) fast


@pytest.fixture
def settings(database_url: str) -> Settings:
    return load_settings(
        _env_file=None,
        environment="test",
        database_url=database_url,
        jwt_secret=STRONG_SECRET,
        login_rate_limit=LOGIN_LIMIT,
    )


async def rows(database_url: str, model: type[Any], *where: Any) -> list[Any]:
    """Read rows straight from the database, bypassing the app."""
    engine = build_engine(database_url)
    try:
        async with AsyncSession(engine) as session:
            return list((await session.scalars(select(model).where(*where))).all())
    finally:
        await engine.dispose()


async def login(client: httpx.AsyncClient, email: str, password: str) -> httpx.Response:
    return await client.post("/api/auth/login", json={"email": email, "password": password})


async def tokens_for(client: httpx.AsyncClient, user: User) -> dict[str, Any]:
    response = await login(client, user.email, DEFAULT_PASSWORD)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def assert_401(response: httpx.Response, message: str | None = None) -> None:
    assert response.status_code == 401, response.text
    assert response.headers["WWW-Authenticate"] == "Bearer"
    error = envelope(response)
    assert error["code"] == "UNAUTHORIZED"
    if message is not None:
        assert error["message"] == message


# --- login ---------------------------------------------------------------------------
async def test_token_endpoint_accepts_what_swagger_ui_sends(
    client: httpx.AsyncClient, database_url: str, settings: Settings
) -> None:
    """The docs' "Authorize" dialog posts this exact form (unknown fields are ignored,
    as RFC 6749 requires)."""
    user = await create_user(database_url)
    form = {
        "grant_type": "password",
        "username": user.email,
        "password": DEFAULT_PASSWORD,
        "scope": "",
        "client_id": "swagger",
    }
    response = await client.post("/api/auth/token", data=form)
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"access_token", "refresh_token", "token_type", "expires_in"}
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == settings.access_token_expire_minutes * 60
    assert response.headers["Cache-Control"] == "no-store"
    me = await client.get("/api/users/me", headers=bearer(body["access_token"]))
    assert me.json()["email"] == user.email


async def test_token_endpoint_without_grant_type(
    client: httpx.AsyncClient, database_url: str
) -> None:
    user = await create_user(database_url)
    form = {"username": user.email, "password": DEFAULT_PASSWORD}
    assert (await client.post("/api/auth/token", data=form)).status_code == 200


async def test_token_endpoint_rejects_bad_forms(client: httpx.AsyncClient) -> None:
    forms: list[dict[str, str]] = [
        {"grant_type": "client_credentials", "username": "a@example.com", "password": "x"},
        {"username": "a@example.com"},
        {"password": "x"},
        {"username": "a@example.com", "password": "x" * 129},
        {"username": "a\x00@example.com", "password": "x"},
    ]
    for form in forms:
        response = await client.post("/api/auth/token", data=form)
        assert response.status_code == 422, form
        assert envelope(response)["code"] == "VALIDATION_ERROR"


async def test_openapi_describes_the_password_flow(client: httpx.AsyncClient) -> None:
    """What the "Authorize" button reads: a password flow whose tokenUrl is our form."""
    spec = (await client.get("/openapi.json")).json()
    scheme = spec["components"]["securitySchemes"]["OAuth2PasswordBearer"]
    assert scheme["flows"]["password"]["tokenUrl"] == "/api/auth/token"
    body = spec["paths"]["/api/auth/token"]["post"]["requestBody"]["content"]
    form_ref = body["application/x-www-form-urlencoded"]["schema"]["$ref"].rsplit("/", 1)[-1]
    assert {"username", "password"} <= set(spec["components"]["schemas"][form_ref]["properties"])
    assert {"OAuth2PasswordBearer": []} in spec["paths"]["/api/users/me"]["get"]["security"]
    documented = spec["paths"]["/api/auth/login"]["post"]["responses"]
    assert {"200", "401", "422", "429"} <= set(documented)
    assert documented["422"]["content"]["application/json"]["schema"]["$ref"].endswith(
        "/ErrorResponse"
    )


async def test_json_login_normalises_the_email(
    client: httpx.AsyncClient, database_url: str
) -> None:
    user = await create_user(database_url, email="grace@example.com")
    response = await login(client, "  Grace@EXAMPLE.com ", DEFAULT_PASSWORD)
    assert response.status_code == 200
    claims = response.json()
    assert claims["token_type"] == "bearer"
    me = await client.get("/api/users/me", headers=bearer(claims["access_token"]))
    assert me.json()["id"] == user.id


async def test_login_stores_the_refresh_token(
    client: httpx.AsyncClient, database_url: str, settings: Settings
) -> None:
    user = await create_user(database_url)
    pair = await tokens_for(client, user)
    jti = decode_token(settings, pair["refresh_token"], "refresh").token_id
    [stored] = await rows(database_url, RefreshToken, RefreshToken.user_id == user.id)
    assert stored.jti == jti
    assert stored.revoked_at is None
    assert stored.replaced_by is None


async def test_json_login_rejects_bad_bodies(client: httpx.AsyncClient) -> None:
    bodies: list[dict[str, object]] = [
        {"email": "a@example.com", "password": "x", "remember_me": True},
        {"email": "a@example.com"},
        {"email": "", "password": "x"},
        {"email": "a@example.com", "password": ""},
        {"email": "a\x00@example.com", "password": "x"},  # a NUL would be a 500 on PostgreSQL
        {"email": "a@example.com", "password": "x" * 129},
        {"email": "a" * 255, "password": "x"},
    ]
    for body in bodies:
        response = await client.post("/api/auth/login", json=body)
        assert response.status_code == 422, body
        assert envelope(response)["code"] == "VALIDATION_ERROR"


async def test_wrong_password_and_unknown_email_look_the_same(
    client: httpx.AsyncClient, database_url: str
) -> None:
    user = await create_user(database_url)
    wrong = await login(client, user.email, "not the password")
    unknown = await login(client, "nobody@example.com", DEFAULT_PASSWORD)
    assert_401(wrong, "Incorrect email or password")
    assert_401(unknown, "Incorrect email or password")
    strip = ("request_id",)
    assert {k: v for k, v in envelope(wrong).items() if k not in strip} == {
        k: v for k, v in envelope(unknown).items() if k not in strip
    }


async def test_unknown_email_still_costs_a_hash_verification(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No timing oracle: an unknown address runs a dummy Argon2 verification."""
    calls: list[str] = []
    real = auth_service.verify_dummy_async

    async def spy(password: str) -> None:
        calls.append(password)
        await real(password)

    monkeypatch.setattr(auth_service, "verify_dummy_async", spy)
    assert_401(await login(client, "nobody@example.com", "some password"))
    assert calls == ["some password"]


@pytest.mark.parametrize("stored", ["plain-text-password", "", "$2b$12$notreallybcrypt"])
async def test_a_stored_value_that_is_no_known_hash_is_a_401_not_a_500(
    client: httpx.AsyncClient, database_url: str, stored: str
) -> None:
    user = await insert(
        database_url, User(email="imported@example.com", full_name="Old", hashed_password=stored)
    )
    for attempt in (stored or "anything", DEFAULT_PASSWORD):
        assert_401(await login(client, user.email, attempt), "Incorrect email or password")


async def test_inactive_user_cannot_log_in(client: httpx.AsyncClient, database_url: str) -> None:
    user = await create_user(database_url, is_active=False)
    assert_401(await login(client, user.email, DEFAULT_PASSWORD), "This account is disabled")
    # without the password, a disabled account looks like any other failure
    assert_401(await login(client, user.email, "wrong password"), "Incorrect email or password")
    assert await rows(database_url, RefreshToken, RefreshToken.user_id == user.id) == []


async def test_login_upgrades_an_outdated_hash(
    client: httpx.AsyncClient, database_url: str
) -> None:
    """A hash made with other Argon2 parameters is replaced at the next login."""
    old_hasher = PasswordHash((Argon2Hasher(time_cost=1, memory_cost=8 * 1024),))
    old_hash = old_hasher.hash(DEFAULT_PASSWORD)
    # the app's current hasher (tests run it with cheap parameters) wants to upgrade it
    assert security.password_hash.verify_and_update(DEFAULT_PASSWORD, old_hash)[1] is not None
    user = await insert(
        database_url,
        User(email="legacy@example.com", full_name="Legacy", hashed_password=old_hash),
    )
    assert (await login(client, user.email, DEFAULT_PASSWORD)).status_code == 200
    [stored] = await rows(database_url, User, User.id == user.id)
    assert stored.hashed_password != old_hash
    valid, new_hash = security.password_hash.verify_and_update(
        DEFAULT_PASSWORD, stored.hashed_password
    )
    assert valid
    assert new_hash is None  # current parameters now: nothing left to upgrade
    assert (await login(client, user.email, DEFAULT_PASSWORD)).status_code == 200


async def test_login_keeps_a_current_hash(client: httpx.AsyncClient, database_url: str) -> None:
    user = await create_user(database_url)
    assert (await login(client, user.email, DEFAULT_PASSWORD)).status_code == 200
    [stored] = await rows(database_url, User, User.id == user.id)
    assert stored.hashed_password == user.hashed_password


async def test_login_purges_the_users_expired_refresh_tokens(
    client: httpx.AsyncClient, database_url: str
) -> None:
    user = await create_user(database_url)
    other = await create_user(database_url)
    past = utcnow() - timedelta(days=1)
    for owner, jti in ((user, "expired-mine"), (other, "expired-other")):
        await insert(database_url, RefreshToken(jti=jti, user_id=owner.id, expires_at=past))
    await tokens_for(client, user)
    mine = await rows(database_url, RefreshToken, RefreshToken.user_id == user.id)
    assert [row.jti for row in mine if row.jti.startswith("expired")] == []
    assert len(await rows(database_url, RefreshToken, RefreshToken.user_id == other.id)) == 1


async def test_purge_deletes_every_expired_refresh_token_and_nothing_else(
    client: httpx.AsyncClient, database_url: str
) -> None:
    user, other = await create_user(database_url), await create_user(database_url)
    now = utcnow()
    for owner, jti, expires in (
        (user, "gone-1", now - timedelta(days=1)),
        (other, "gone-2", now - timedelta(seconds=1)),
        (other, "kept", now + timedelta(days=1)),
    ):
        await insert(database_url, RefreshToken(jti=jti, user_id=owner.id, expires_at=expires))
    engine = build_engine(database_url)
    try:
        async with AsyncSession(engine) as session:
            deleted = await RefreshTokenRepository(session).purge_expired(now=now)
            await session.commit()
    finally:
        await engine.dispose()
    assert deleted == 2
    assert [row.jti for row in await rows(database_url, RefreshToken)] == ["kept"]


# --- rate limit ------------------------------------------------------------------------
async def test_rate_limit_is_shared_by_form_and_json_login(
    client: httpx.AsyncClient, database_url: str, settings: Settings
) -> None:
    """Alternating endpoints must not double the budget."""
    user = await create_user(database_url)
    for attempt in range(settings.login_rate_limit):
        if attempt % 2:
            response = await login(client, user.email, "wrong")
        else:
            form = {"username": user.email, "password": "wrong"}
            response = await client.post("/api/auth/token", data=form)
        assert response.status_code == 401
    form = {"username": user.email.upper(), "password": DEFAULT_PASSWORD}
    limited = await client.post("/api/auth/token", data=form)
    assert limited.status_code == 429
    assert int(limited.headers["Retry-After"]) > 0
    assert envelope(limited)["code"] == "RATE_LIMITED"


async def test_rate_limit_is_per_email(client: httpx.AsyncClient, database_url: str) -> None:
    victim = await create_user(database_url)
    bystander = await create_user(database_url)
    for _ in range(LOGIN_LIMIT + 1):
        await login(client, victim.email, "wrong")
    assert (await login(client, victim.email, DEFAULT_PASSWORD)).status_code == 429
    assert (await login(client, bystander.email, DEFAULT_PASSWORD)).status_code == 200


async def test_unknown_emails_are_rate_limited_too(client: httpx.AsyncClient) -> None:
    """Otherwise a 401-vs-429 difference would reveal which addresses exist."""
    for _ in range(LOGIN_LIMIT):
        assert_401(await login(client, "ghost@example.com", "guess"))
    assert (await login(client, "ghost@example.com", "guess")).status_code == 429


async def test_successful_login_resets_the_counter(
    client: httpx.AsyncClient, database_url: str
) -> None:
    """A user who mistypes, then gets it right, starts again with a full budget."""
    user = await create_user(database_url)
    for _ in range(LOGIN_LIMIT - 1):
        assert_401(await login(client, user.email, "typo"))
    assert (await login(client, user.email, DEFAULT_PASSWORD)).status_code == 200
    for _ in range(LOGIN_LIMIT - 1):
        assert_401(await login(client, user.email, "typo"))
    assert (await login(client, user.email, DEFAULT_PASSWORD)).status_code == 200


# --- refresh ---------------------------------------------------------------------------
async def test_refresh_rotates_the_pair(
    client: httpx.AsyncClient, database_url: str, settings: Settings
) -> None:
    user = await create_user(database_url)
    first = await tokens_for(client, user)
    response = await client.post(
        "/api/auth/refresh", json={"refresh_token": first["refresh_token"]}
    )
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    second = response.json()
    assert second["refresh_token"] != first["refresh_token"]
    assert second["access_token"] != first["access_token"]
    me = await client.get("/api/users/me", headers=bearer(second["access_token"]))
    assert me.status_code == 200
    old_jti = decode_token(settings, first["refresh_token"], "refresh").token_id
    new_jti = decode_token(settings, second["refresh_token"], "refresh").token_id
    stored = {row.jti: row for row in await rows(database_url, RefreshToken)}
    assert stored[old_jti].revoked_at is not None
    assert stored[old_jti].replaced_by == new_jti
    assert stored[new_jti].revoked_at is None
    # and the new one rotates in turn
    third = await client.post("/api/auth/refresh", json={"refresh_token": second["refresh_token"]})
    assert third.status_code == 200


async def test_reused_refresh_token_revokes_every_session(
    client: httpx.AsyncClient, database_url: str
) -> None:
    user = await create_user(database_url)
    other_device = await tokens_for(client, user)
    stolen = await tokens_for(client, user)
    rotated = await client.post(
        "/api/auth/refresh", json={"refresh_token": stolen["refresh_token"]}
    )
    assert rotated.status_code == 200

    replay = await client.post("/api/auth/refresh", json={"refresh_token": stolen["refresh_token"]})
    assert_401(replay, "Refresh token was already used; every session of this account ended")

    for token in (rotated.json()["refresh_token"], other_device["refresh_token"]):
        response = await client.post("/api/auth/refresh", json={"refresh_token": token})
        assert response.status_code == 401
    stored = await rows(database_url, RefreshToken, RefreshToken.user_id == user.id)
    assert stored
    assert all(row.revoked_at is not None for row in stored)


async def test_concurrent_refresh_with_one_token_spends_it_once(
    client: httpx.AsyncClient, database_url: str
) -> None:
    """Two requests racing with one token: exactly one wins; the loser is a reuse."""
    user = await create_user(database_url)
    pair = await tokens_for(client, user)
    body = {"refresh_token": pair["refresh_token"]}
    responses = await asyncio.gather(
        client.post("/api/auth/refresh", json=body), client.post("/api/auth/refresh", json=body)
    )
    assert sorted(response.status_code for response in responses) == [200, 401]


async def test_access_token_is_not_a_refresh_token(
    client: httpx.AsyncClient, database_url: str
) -> None:
    user = await create_user(database_url)
    pair = await tokens_for(client, user)
    response = await client.post("/api/auth/refresh", json={"refresh_token": pair["access_token"]})
    assert_401(response, "Token is not of type 'refresh'")
    # the refusal did not count as a reuse: the real refresh token still works
    ok = await client.post("/api/auth/refresh", json={"refresh_token": pair["refresh_token"]})
    assert ok.status_code == 200


async def test_refresh_token_signed_but_never_issued_is_401(
    client: httpx.AsyncClient, database_url: str, settings: Settings
) -> None:
    """A refresh token the server has no record of (e.g. its row was purged)."""
    user = await create_user(database_url)
    pair = await tokens_for(client, user)
    unknown = create_token(settings, str(user.id), "refresh")
    response = await client.post("/api/auth/refresh", json={"refresh_token": unknown})
    assert_401(response, "Unknown refresh token")
    ok = await client.post("/api/auth/refresh", json={"refresh_token": pair["refresh_token"]})
    assert ok.status_code == 200  # no collateral revocation


async def test_refresh_token_of_another_user_is_401(
    client: httpx.AsyncClient, database_url: str, settings: Settings
) -> None:
    """A stored jti presented under someone else's subject is not theirs to spend."""
    alice = await create_user(database_url)
    bob = await create_user(database_url)
    pair = await tokens_for(client, alice)
    claims = decode_token(settings, pair["refresh_token"], "refresh")
    forged = jwt.encode(
        {
            **jwt.decode(pair["refresh_token"], options={"verify_signature": False}),
            "sub": str(bob.id),
            "jti": claims.token_id,
        },
        settings.jwt_secret_value,
        algorithm=settings.jwt_algorithm,
    )
    response = await client.post("/api/auth/refresh", json={"refresh_token": forged})
    assert_401(response, "Unknown refresh token")


async def test_expired_refresh_token_is_401(
    client: httpx.AsyncClient, database_url: str, settings: Settings
) -> None:
    user = await create_user(database_url)
    old = utcnow() - timedelta(days=settings.refresh_token_expire_days + 1)
    token = create_token(settings, str(user.id), "refresh", now=old)
    response = await client.post("/api/auth/refresh", json={"refresh_token": token})
    assert_401(response, "Token has expired")


async def test_refresh_for_inactive_user_is_401_and_keeps_the_token(
    client: httpx.AsyncClient, database_url: str, settings: Settings
) -> None:
    user = await create_user(database_url)
    pair = await tokens_for(client, user)
    engine = build_engine(database_url)
    try:
        async with engine.begin() as connection:
            await connection.execute(User.__table__.update().values(is_active=False))
    finally:
        await engine.dispose()
    response = await client.post("/api/auth/refresh", json={"refresh_token": pair["refresh_token"]})
    assert_401(response, "User not found or inactive")
    [stored] = await rows(database_url, RefreshToken, RefreshToken.user_id == user.id)
    assert stored.revoked_at is None  # the refusal rolled back: no half-spent token


async def test_refresh_and_logout_reject_bad_bodies(client: httpx.AsyncClient) -> None:
    bodies: list[dict[str, object]] = [
        {},
        {"refresh_token": ""},
        {"refresh_token": "x" * 4097},
        {"refresh_token": "abc", "user_id": 1},
        {"refresh_token": 123},
    ]
    for path in ("/api/auth/refresh", "/api/auth/logout"):
        for body in bodies:
            response = await client.post(path, json=body)
            assert response.status_code == 422, (path, body)
            assert envelope(response)["code"] == "VALIDATION_ERROR"
        assert_401(await client.post(path, json={"refresh_token": "not.a.jwt"}), "Invalid token")


# --- logout ----------------------------------------------------------------------------
async def test_logout_revokes_only_that_session(
    client: httpx.AsyncClient, database_url: str
) -> None:
    user = await create_user(database_url)
    laptop = await tokens_for(client, user)
    phone = await tokens_for(client, user)
    response = await client.post(
        "/api/auth/logout", json={"refresh_token": laptop["refresh_token"]}
    )
    assert response.status_code == 204
    assert response.content == b""
    again = await client.post("/api/auth/logout", json={"refresh_token": laptop["refresh_token"]})
    assert again.status_code == 204  # idempotent
    ok = await client.post("/api/auth/refresh", json={"refresh_token": phone["refresh_token"]})
    assert ok.status_code == 200


async def test_logged_out_refresh_token_cannot_refresh(
    client: httpx.AsyncClient, database_url: str
) -> None:
    user = await create_user(database_url)
    pair = await tokens_for(client, user)
    await client.post("/api/auth/logout", json={"refresh_token": pair["refresh_token"]})
    response = await client.post("/api/auth/refresh", json={"refresh_token": pair["refresh_token"]})
    assert response.status_code == 401


async def test_logout_with_an_access_token_is_401(
    client: httpx.AsyncClient, database_url: str
) -> None:
    user = await create_user(database_url)
    pair = await tokens_for(client, user)
    response = await client.post("/api/auth/logout", json={"refresh_token": pair["access_token"]})
    assert_401(response, "Token is not of type 'refresh'")
