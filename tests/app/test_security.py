"""Attacks on authentication and authorisation, each answered with the right status.

Every forged or unusable credential must be a 401 with the error envelope and
``WWW-Authenticate: Bearer`` (never a 500, never a 200). Forged tokens are built with
PyJWT directly, or by hand where PyJWT refuses to build them.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid
from collections.abc import Callable
from typing import Annotated, Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from fastapi import Depends, FastAPI
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import delete

from course_app.config import Settings, load_settings
from course_app.core import security
from course_app.core.database import build_engine
from course_app.core.security import REQUIRED_CLAIMS, TokenError, create_token, decode_token
from course_app.features.users.models import Role, User
from tests.app.factories import DEFAULT_PASSWORD, auth_headers, create_user
from tests.app.test_errors import envelope

pytestmark = pytest.mark.anyio

OTHER_SECRET = "y" * 48
REMOVE = object()  # marker: drop this claim from the payload

Forger = Callable[[Settings, int], str]


def payload(settings: Settings, user_id: int, **changes: object) -> dict[str, Any]:
    """A payload our app would accept, with ``changes`` applied (``REMOVE`` drops a claim)."""
    now = int(time.time())
    claims: dict[str, Any] = {
        "sub": str(user_id),
        "type": "access",
        "jti": uuid.uuid4().hex,
        "iat": now,
        "nbf": now,
        "exp": now + 600,
        "iss": settings.jwt_issuer,
        "aud": settings.jwt_audience,
    }
    for name, value in changes.items():
        if value is REMOVE:
            claims.pop(name)
        else:
            claims[name] = value
    return claims


def signed(settings: Settings, user_id: int, **changes: object) -> str:
    """Signed with the app's own secret and algorithm: only the claims are wrong."""
    return jwt.encode(
        payload(settings, user_id, **changes), settings.jwt_secret_value, algorithm="HS256"
    )


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def hand_built(settings: Settings, user_id: int, header: dict[str, str], *, hmac_sign: bool) -> str:
    """A token assembled segment by segment, for headers PyJWT will not produce."""
    signing_input = (
        _b64(json.dumps(header).encode())
        + "."
        + _b64(json.dumps(payload(settings, user_id)).encode())
    )
    signature = b""
    if hmac_sign:
        key = settings.jwt_secret_value.encode()
        signature = hmac.new(key, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{_b64(signature)}"


def rsa_signed(settings: Settings, user_id: int) -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return jwt.encode(payload(settings, user_id), key, algorithm="RS256")


def es_signed(settings: Settings, user_id: int) -> str:
    key = ec.generate_private_key(ec.SECP256R1())
    return jwt.encode(payload(settings, user_id), key, algorithm="ES256")


FORGED: dict[str, Forger] = {
    "alg-none-pyjwt": lambda s, u: jwt.encode(payload(s, u), None, algorithm="none"),
    "alg-none-by-hand": lambda s, u: hand_built(s, u, {"alg": "none"}, hmac_sign=False),
    "alg-None-capitalised": lambda s, u: hand_built(s, u, {"alg": "None"}, hmac_sign=False),
    "wrong-key-rs256": rsa_signed,
    "wrong-key-es256": es_signed,
    "hs256-other-secret": lambda s, u: jwt.encode(payload(s, u), OTHER_SECRET, algorithm="HS256"),
    "hs512-right-secret": lambda s, u: jwt.encode(
        payload(s, u), s.jwt_secret_value, algorithm="HS512"
    ),
    "rs256-header-hs-body": lambda s, u: hand_built(s, u, {"alg": "RS256"}, hmac_sign=True),
    "es256-header-hs-body": lambda s, u: hand_built(s, u, {"alg": "ES256"}, hmac_sign=True),
    "signature-stripped": lambda s, u: signed(s, u).rsplit(".", 1)[0] + ".",
    "payload-tampered": lambda s, u: _tamper(signed(s, u)),
    "expired": lambda s, u: signed(
        s, u, iat=int(time.time()) - 1200, nbf=int(time.time()) - 1200, exp=int(time.time()) - 10
    ),
    "nbf-in-future": lambda s, u: signed(s, u, nbf=int(time.time()) + 600),
    "iat-in-future": lambda s, u: signed(s, u, iat=int(time.time()) + 600),
    **{
        f"missing-{claim}": (lambda c: lambda s, u: signed(s, u, **{c: REMOVE}))(claim)
        for claim in REQUIRED_CLAIMS
    },
    "wrong-aud": lambda s, u: signed(s, u, aud="someone-else"),
    "wrong-iss": lambda s, u: signed(s, u, iss="https://evil.example"),
    "type-refresh-forged": lambda s, u: signed(s, u, type="refresh"),
    "type-unknown": lambda s, u: signed(s, u, type="admin"),
    "refresh-token-as-access": lambda s, u: create_token(s, str(u), "refresh"),
    "sub-not-a-number": lambda s, u: signed(s, u, sub="abc"),
    "sub-zero": lambda s, u: signed(s, u, sub="0"),
    "sub-negative": lambda s, u: signed(s, u, sub="-1"),
    "sub-out-of-int32-range": lambda s, u: signed(s, u, sub="9" * 30),
    # int() would read Arabic-Indic digits as this very user's id
    "sub-non-ascii-digits": lambda s, u: signed(
        s, u, sub="".join(chr(0x0660 + int(digit)) for digit in str(u))
    ),
    "sub-padded": lambda s, u: signed(s, u, sub=f" {u}"),
    "sub-integer-type": lambda s, u: signed(s, u, sub=u),
    "sub-unknown-user": lambda s, u: signed(s, u, sub=str(u + 1000)),
}


def _tamper(token: str) -> str:
    """Swap the payload for one naming another subject, keeping the old signature."""
    header, body, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    claims["sub"] = "999"
    return f"{header}.{_b64(json.dumps(claims).encode())}.{signature}"


def unauthorized_problem(response: httpx.Response) -> str | None:
    """``None`` for a proper 401 (envelope and challenge); otherwise what is wrong."""
    if response.status_code != 401:
        return f"status {response.status_code}: {response.text[:200]}"
    if response.headers.get("WWW-Authenticate") != "Bearer":
        return "missing WWW-Authenticate: Bearer"
    if envelope(response)["code"] != "UNAUTHORIZED":
        return f"code {envelope(response)['code']}"
    return None


def assert_unauthorized(response: httpx.Response) -> dict[str, object]:
    assert unauthorized_problem(response) is None, unauthorized_problem(response)
    return envelope(response)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")  # HS512 forgery
async def test_forged_or_unusable_tokens_are_401(
    client: httpx.AsyncClient, database_url: str, settings: Settings
) -> None:
    """Every case of ``FORGED`` (one loop, one app: each case costs a request, not a
    fresh database); a failure lists every case that got through, with what it got."""
    user = await create_user(database_url)
    problems: dict[str, str] = {}
    for name, forge in FORGED.items():
        response = await client.get("/api/users/me", headers=bearer(forge(settings, user.id)))
        if (problem := unauthorized_problem(response)) is not None:
            problems[name] = problem
    assert problems == {}


async def test_the_control_token_is_accepted(
    client: httpx.AsyncClient, database_url: str, settings: Settings
) -> None:
    """The forgeries above differ from this one in one respect each: it must pass."""
    user = await create_user(database_url)
    response = await client.get("/api/users/me", headers=bearer(signed(settings, user.id)))
    assert response.status_code == 200
    assert response.json()["id"] == user.id


async def test_token_messages_name_the_problem(
    client: httpx.AsyncClient, database_url: str, settings: Settings
) -> None:
    user = await create_user(database_url)
    cases = {
        FORGED["expired"](settings, user.id): "Token has expired",
        FORGED["refresh-token-as-access"](settings, user.id): "Token is not of type 'access'",
        FORGED["sub-out-of-int32-range"](settings, user.id): "Invalid token subject",
        FORGED["hs256-other-secret"](settings, user.id): "Invalid token",
    }
    for token, message in cases.items():
        response = await client.get("/api/users/me", headers=bearer(token))
        assert assert_unauthorized(response)["message"] == message


async def test_token_of_deleted_user_is_401(
    client: httpx.AsyncClient, database_url: str, settings: Settings
) -> None:
    user = await create_user(database_url)
    headers = auth_headers(settings, user)
    assert (await client.get("/api/users/me", headers=headers)).status_code == 200
    engine = build_engine(database_url)
    try:
        async with engine.begin() as connection:
            await connection.execute(delete(User).where(User.id == user.id))
    finally:
        await engine.dispose()
    assert_unauthorized(await client.get("/api/users/me", headers=headers))


async def test_token_of_inactive_user_is_401(
    client: httpx.AsyncClient, database_url: str, settings: Settings
) -> None:
    user = await create_user(database_url, is_active=False)
    response = await client.get("/api/users/me", headers=auth_headers(settings, user))
    assert assert_unauthorized(response)["message"] == "User not found or inactive"


MALFORMED_HEADERS = {
    "garbage": "Bearer garbage",
    "three-segments": "Bearer a.b.c",
    "only-dots": "Bearer ....",
    "header-only": "Bearer eyJhbGciOiJIUzI1NiJ9",
    "oversized": "Bearer " + "A" * 5000,
    "bearer-empty": "Bearer ",
    "bearer-no-space": "Bearer",
    "basic-scheme": "Basic dXNlcjpwYXNz",
    "token-scheme": "Token abc.def.ghi",
    "unknown-scheme": "bearer-ish abc",
    "empty-header": "",
}


async def test_malformed_authorization_headers_are_401(
    client: httpx.AsyncClient, database_url: str, settings: Settings
) -> None:
    user = await create_user(database_url)
    cases = {
        **MALFORMED_HEADERS,
        "token-without-scheme": create_token(settings, str(user.id), "access"),
    }
    problems: dict[str, str] = {}
    for name, authorization in cases.items():
        response = await client.get("/api/users/me", headers={"Authorization": authorization})
        if (problem := unauthorized_problem(response)) is not None:
            problems[name] = problem
    assert problems == {}


async def test_no_credentials_is_401(client: httpx.AsyncClient) -> None:
    error = assert_unauthorized(await client.get("/api/users/me"))
    assert error["message"] == "Not authenticated"


async def test_scheme_is_case_insensitive(
    client: httpx.AsyncClient, database_url: str, settings: Settings
) -> None:
    """RFC 7235: auth-scheme names are case-insensitive; ``bearer`` must work too."""
    user = await create_user(database_url)
    token = create_token(settings, str(user.id), "access")
    response = await client.get("/api/users/me", headers={"Authorization": f"bearer {token}"})
    assert response.status_code == 200


# --- authorisation -------------------------------------------------------------------
ADMIN_ROUTES: list[tuple[str, str, dict[str, str] | None]] = [
    ("GET", "/api/users", None),
    ("GET", "/api/users/{id}", None),
    ("PATCH", "/api/users/{id}", {"role": "admin"}),
]


async def test_normal_user_on_every_admin_route_is_403(
    client: httpx.AsyncClient, database_url: str, settings: Settings
) -> None:
    user = await create_user(database_url)
    headers = auth_headers(settings, user)
    for method, path, body in ADMIN_ROUTES:
        url = path.format(id=user.id)
        response = await client.request(method, url, json=body, headers=headers)
        assert response.status_code == 403, (method, path)
        assert envelope(response)["code"] == "FORBIDDEN"
        assert "WWW-Authenticate" not in response.headers  # not a credentials problem
    # and the attempted self-promotion did not happen
    me = await client.get("/api/users/me", headers=headers)
    assert me.json()["role"] == "user"


async def test_anonymous_on_every_admin_route_is_401(client: httpx.AsyncClient) -> None:
    for method, path, body in ADMIN_ROUTES:
        assert_unauthorized(await client.request(method, path.format(id=1), json=body))


async def test_normal_user_gets_403_before_validation(
    client: httpx.AsyncClient, database_url: str, settings: Settings
) -> None:
    """Authorisation runs before query validation: a 422 would describe an admin-only
    API to a caller who may not use it."""
    user = await create_user(database_url)
    response = await client.get("/api/users?page_size=101", headers=auth_headers(settings, user))
    assert response.status_code == 403


# --- input attacks ---------------------------------------------------------------------
async def test_mass_assignment_on_register_is_422(
    client: httpx.AsyncClient, database_url: str, settings: Settings
) -> None:
    body = {"email": "mallory@example.com", "password": DEFAULT_PASSWORD, "full_name": "M"}
    for field in ({"role": "admin"}, {"is_active": True}, {"id": 1}, {"hashed_password": "x"}):
        response = await client.post("/api/users", json={**body, **field})
        assert response.status_code == 422, field
        errors = envelope(response)["details"]["errors"]  # type: ignore[index]
        assert errors[0]["type"] == "extra_forbidden"
        assert errors[0]["loc"] == ["body", *field]
    # nothing was created: the address is still free
    admin = await create_user(database_url, role=Role.ADMIN)
    listing = await client.get(
        "/api/users?email_contains=mallory", headers=auth_headers(settings, admin)
    )
    assert listing.json()["total"] == 0


async def test_mass_assignment_on_update_me_is_422(
    client: httpx.AsyncClient, database_url: str, settings: Settings
) -> None:
    user = await create_user(database_url)
    headers = auth_headers(settings, user)
    for field in ({"role": "admin"}, {"is_active": False}, {"email": "x@example.com"}):
        response = await client.patch("/api/users/me", json=field, headers=headers)
        assert response.status_code == 422, field
        assert envelope(response)["code"] == "VALIDATION_ERROR"
    me = (await client.get("/api/users/me", headers=headers)).json()
    assert (me["role"], me["is_active"], me["email"]) == ("user", True, user.email)


async def test_mass_assignment_on_admin_update_is_422(
    client: httpx.AsyncClient, database_url: str, settings: Settings
) -> None:
    admin = await create_user(database_url, role=Role.ADMIN)
    user = await create_user(database_url)
    response = await client.patch(
        f"/api/users/{user.id}",
        json={"hashed_password": "$argon2id$forged"},
        headers=auth_headers(settings, admin),
    )
    assert response.status_code == 422


async def test_login_brute_force_is_429_with_retry_after(
    client: httpx.AsyncClient, database_url: str, settings: Settings
) -> None:
    user = await create_user(database_url)
    attempt = {"email": user.email, "password": "not the password"}
    for _ in range(settings.login_rate_limit):
        assert (await client.post("/api/auth/login", json=attempt)).status_code == 401
    response = await client.post("/api/auth/login", json=attempt)
    assert response.status_code == 429
    retry_after = int(response.headers["Retry-After"])
    assert 0 < retry_after <= settings.login_rate_window_seconds
    error = envelope(response)
    assert error["code"] == "RATE_LIMITED"
    assert error["details"] == {"retry_after": retry_after}
    # even the right password is refused until the window ends
    right = {"email": user.email, "password": DEFAULT_PASSWORD}
    assert (await client.post("/api/auth/login", json=right)).status_code == 429


async def test_out_of_range_paging_and_ids_are_422_not_500(
    client: httpx.AsyncClient, database_url: str, settings: Settings
) -> None:
    """page_size=101 is refused, not clamped; an id past PostgreSQL's INTEGER is a 422,
    not an "integer out of range" 500."""
    admin = await create_user(database_url, role=Role.ADMIN)
    headers = auth_headers(settings, admin)
    urls = [
        *(
            f"/api/users?{query}"
            for query in (
                "page_size=101",
                "page_size=0",
                "page=0",
                f"page={2**70}",
                "page_size=1e3",
            )
        ),
        *(f"/api/users/{user_id}" for user_id in ("0", "-1", str(2**31), str(2**70), "abc", "1.5")),
    ]
    statuses = {url: (await client.get(url, headers=headers)).status_code for url in urls}
    assert statuses == dict.fromkeys(urls, 422)
    response = await client.get("/api/users?page_size=101", headers=headers)
    assert envelope(response)["code"] == "VALIDATION_ERROR"


# --- what FastAPI's own HTTPBearer does (the seed says 403) ------------------------------
bearer_strict = HTTPBearer()
bearer_lenient = HTTPBearer(auto_error=False)
bearer_app = FastAPI()


@bearer_app.get("/strict")
async def strict_route(
    credentials: Annotated[HTTPAuthorizationCredentials, Depends(bearer_strict)],
) -> dict[str, str]:
    return {"scheme": credentials.scheme, "token": credentials.credentials}


@bearer_app.get("/lenient")
async def lenient_route(
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_lenient)],
) -> dict[str, bool]:
    return {"credentials": credentials is not None}


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer "}, {"Authorization": "Basic dTpw"}],
    ids=["no-header", "empty-token", "basic-scheme"],
)
async def test_fastapi_httpbearer_without_credentials_is_401_with_challenge(
    headers: dict[str, str],
) -> None:
    """Seed 000 says ``HTTPBearer()`` answers 403 when the header is missing. Current
    FastAPI answers 401 with ``WWW-Authenticate: Bearer`` (and its own ``{"detail": ...}``
    body), for a missing header, an empty token and a non-Bearer scheme alike."""
    transport = httpx.ASGITransport(app=bearer_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        response = await http.get("/strict", headers=headers)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"
    assert response.json() == {"detail": "Not authenticated"}


async def test_fastapi_httpbearer_passes_credentials_or_none() -> None:
    """With a token it hands over scheme and credentials; with ``auto_error=False`` a
    missing header is ``None`` and the route decides (what course_app does, through
    ``OAuth2PasswordBearer``, to keep its own error envelope)."""
    transport = httpx.ASGITransport(app=bearer_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        ok = await http.get("/strict", headers={"Authorization": "Bearer abc"})
        lenient = await http.get("/lenient")
    assert ok.json() == {"scheme": "Bearer", "token": "abc"}
    assert lenient.json() == {"credentials": False}


# --- the verified-token cache (course_app.core.security._verified_payload) -------------


def token_settings(secret: str = "k" * 48) -> Settings:
    return load_settings(_env_file=None, environment="test", jwt_secret=secret)


def test_a_remembered_token_is_still_refused_once_it_expires(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    settings = token_settings()
    token = create_token(settings, "7", "access")
    claims = decode_token(settings, token, "access")  # verified, and now remembered
    assert decode_token(settings, token, "access") == claims
    later = claims.expires_at.timestamp()  # the second it expires: PyJWT's rule, no leeway
    monkeypatch.setattr(security.time, "time", lambda: later)
    with pytest.raises(TokenError, match="Token has expired"):
        decode_token(settings, token, "access")


def test_a_remembered_token_is_refused_under_another_key() -> None:
    token = create_token(token_settings(), "7", "access")
    decode_token(token_settings(), token, "access")
    with pytest.raises(TokenError, match="Invalid token"):
        decode_token(token_settings(OTHER_SECRET), token, "access")  # the key was rotated


def test_a_remembered_token_keeps_its_type_check() -> None:
    settings = token_settings()
    refresh = create_token(settings, "7", "refresh")
    decode_token(settings, refresh, "refresh")
    with pytest.raises(TokenError, match="not of type 'access'"):
        decode_token(settings, refresh, "access")  # a refresh token is never an access token


def test_a_rejected_token_takes_no_place_in_the_cache() -> None:
    settings = token_settings()
    forged = jwt.encode(payload(settings, 7), OTHER_SECRET, algorithm="HS256")
    before = security._verified_payload.cache_info()
    for _ in range(3):
        with pytest.raises(TokenError, match="Invalid token"):
            decode_token(settings, forged, "access")
    after = security._verified_payload.cache_info()
    assert after.currsize == before.currsize
    assert after.hits == before.hits  # checked in full each time, never answered from memory


def test_the_remembered_payload_is_read_only() -> None:
    settings = token_settings()
    token = create_token(settings, "7", "access")
    decode_token(settings, token, "access")
    remembered = security._verified_payload(
        token,
        settings.jwt_secret_value,
        settings.jwt_algorithm,
        settings.jwt_audience,
        settings.jwt_issuer,
    )
    with pytest.raises(TypeError):
        remembered["sub"] = "1"  # type: ignore[index]
    assert decode_token(settings, token, "access").subject == "7"
