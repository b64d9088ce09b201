"""Checkers of lab 05, authentication and authorization.

The HTTP checkers build the real app (``create_app``) on a SQLite file in a temporary
folder, register users through the API, promote an admin in the database, and log in.
Password hashing uses cheap Argon2 parameters for the duration of a check (as the app's
own tests do); the real parameters are restored afterwards.
"""

from __future__ import annotations

import shutil
import sqlite3
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from coursekit.checking import Checker, exercise
from coursekit.settings import course_settings

SECRET = "lab05-signing-secret-public-test-value-0123456789abcdefghijklmnop"  # noqa: S105
PASSWORD = "correct horse battery staple"  # noqa: S105 - a public test password
ADMIN_EMAIL, ALICE_EMAIL, BOB_EMAIL = "admin@example.com", "alice@example.com", "bob@example.com"


@contextmanager
def _cheap_hashing() -> Iterator[None]:
    from pwdlib import PasswordHash
    from pwdlib.hashers.argon2 import Argon2Hasher

    from course_app.core import security

    real = security.password_hash
    security.password_hash = PasswordHash(
        (Argon2Hasher(time_cost=1, memory_cost=1024, parallelism=1),)
    )
    security._dummy_hash.cache_clear()
    try:
        yield
    finally:
        security.password_hash = real
        security._dummy_hash.cache_clear()


def _settings(database: Path | None = None, **values: Any) -> Any:
    """``course_app`` test settings from ``values`` only (no environment, no .env)."""
    url = f"sqlite+aiosqlite:///{database}" if database else "sqlite+aiosqlite:///:memory:"
    defaults = {"environment": "test", "jwt_secret": SECRET, "log_level": "CRITICAL"}
    return course_settings(database_url=url, **{**defaults, **values})


class _Shop:
    """A running app with three users (admin, alice, bob) and their access tokens."""

    def __init__(self, c: Checker, build: Any, what: str, hint: str) -> None:
        # a folder of its own, removed after the client closes (the stack unwinds LIFO)
        folder = tempfile.mkdtemp(prefix="lab05-")
        c.callback(shutil.rmtree, folder, True)
        c.enter_context(_cheap_hashing())
        self.database = Path(folder) / "shop.db"
        self.settings = _settings(self.database)
        self.c = c
        self.ok, app = c.run(
            what,
            lambda: build(self.settings),
            accept=lambda app: callable(app),
            expected="an app that starts",
            hint=hint,
            show=lambda value: type(value).__name__,
        )
        if not self.ok:
            return
        self.client = c.client(app)
        self.ids = {email: self._register(email) for email in (ADMIN_EMAIL, ALICE_EMAIL, BOB_EMAIL)}
        self.set_role(ADMIN_EMAIL, "admin")
        self.tokens = {email: self.login(email) for email in self.ids}

    def _register(self, email: str) -> int:
        answer = self.client.post(
            "/api/users", json={"email": email, "full_name": email[:5], "password": PASSWORD}
        )
        assert answer.status_code == 201, answer.text
        return int(answer.json()["id"])

    def set_role(self, email: str, role: str) -> None:
        with sqlite3.connect(self.database) as db:
            db.execute("UPDATE users SET role = ? WHERE email = ?", (role, email))

    def login(self, email: str) -> str:
        answer = self.client.post("/api/auth/login", json={"email": email, "password": PASSWORD})
        assert answer.status_code == 200, answer.text
        return str(answer.json()["access_token"])

    def get(self, path: str, email: str | None = None, token: str | None = None) -> Any:
        token = token or (self.tokens[email] if email else None)
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return self.client.get(path, headers=headers)


def _answer(response: Any) -> tuple[int, Any]:
    """(status, the error code or the JSON body)."""
    try:
        body = response.json()
    except ValueError:
        return response.status_code, response.text[:80]
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        return response.status_code, body["error"].get("code")
    return response.status_code, body


# --- 5.1 ---------------------------------------------------------------------------------
@exercise("5.1", "require_role on the real app")
def _check_5_1(c: Checker, require_role: Any) -> None:
    from typing import Annotated

    from fastapi import Depends

    from course_app.features.users.models import Role, User
    from course_app.main import create_app

    def build(settings: Any) -> Any:
        app = create_app(settings)
        routes = {
            "/lab/admin-area": (Role.ADMIN,),
            "/lab/customers": (Role.USER,),
            "/lab/members": (Role.USER, Role.ADMIN),
        }
        for path, roles in routes.items():
            app.add_api_route(path, _endpoint(Depends(require_role(*roles))), methods=["GET"])
        return app

    def _endpoint(dependency: Any) -> Any:
        async def endpoint(user: Any) -> dict[str, str]:
            return {"email": user.email}

        # real objects, not the strings `from __future__ import annotations` would leave
        endpoint.__annotations__ = {"user": Annotated[User, dependency], "return": dict[str, str]}
        return endpoint

    shop = _Shop(
        c,
        build,
        "require_role(...) builds dependencies the app accepts",
        "require_role(*roles) must return a dependency: an inner `async def checker(user: "
        "CurrentUser) -> User`, returned without calling it.",
    )
    if not shop.ok:
        return
    c.equal(
        "no token: GET /lab/admin-area is 401 with WWW-Authenticate: Bearer",
        lambda: (
            shop.get("/lab/admin-area").status_code,
            shop.get("/lab/admin-area").headers.get("www-authenticate"),
        ),
        (401, "Bearer"),
        hint="Take the user from CurrentUser: get_current_user answers 401 before your check.",
    )
    c.equal(
        "a forged token: 401",
        lambda: shop.get("/lab/admin-area", token="not.a.token").status_code,  # noqa: S106
        401,
        hint="Never decode the token yourself here; depend on CurrentUser.",
    )
    c.equal(
        "a user on an admin route: 403 FORBIDDEN (authenticated, but not allowed)",
        lambda: _answer(shop.get("/lab/admin-area", ALICE_EMAIL)),
        (403, "FORBIDDEN"),
        hint="Raise AuthorizationError (403). 401 means 'who are you?', which is not the "
        "question here.",
    )
    c.equal(
        "the admin on the admin route: 200, and the dependency hands over the user",
        lambda: _answer(shop.get("/lab/admin-area", ADMIN_EMAIL)),
        (200, {"email": ADMIN_EMAIL}),
        hint="Return the user from the inner dependency: routes use it as their `user`.",
    )
    c.equal(
        "require_role(Role.USER): the user gets in, the admin does not",
        lambda: [shop.get("/lab/customers", e).status_code for e in (ALICE_EMAIL, ADMIN_EMAIL)],
        [200, 403],
        hint="Allow exactly the roles passed to require_role, not 'admin always'.",
    )
    c.equal(
        "require_role(Role.USER, Role.ADMIN): both get in",
        lambda: [shop.get("/lab/members", e).status_code for e in (ALICE_EMAIL, ADMIN_EMAIL)],
        [200, 200],
        hint="*roles is a tuple: check membership (`user.role in roles`), not roles[0].",
    )
    c.that(
        "the 403 message names the role required",
        lambda: shop.get("/lab/admin-area", BOB_EMAIL).json()["error"]["message"],
        lambda message: "admin" in str(message).lower(),
        expected="a message mentioning 'admin'",
        hint="Say what is missing, e.g. 'Requires role: admin'.",
    )

    def demoted() -> int:
        shop.set_role(ADMIN_EMAIL, "user")
        try:
            return int(shop.get("/lab/admin-area", ADMIN_EMAIL).status_code)
        finally:
            shop.set_role(ADMIN_EMAIL, "admin")

    c.equal(
        "an admin demoted in the database gets 403 on the next request, same token",
        demoted,
        403,
        hint="Check the role of the user loaded for this request (CurrentUser), never a copy "
        "kept from earlier or a role claim inside the token.",
    )


# --- 5.2 ---------------------------------------------------------------------------------
class _SecretStoreDownError(RuntimeError):
    pass


class _UnreachableSecret:
    """Stands in for SecretStr when the secret store cannot be reached."""

    def get_secret_value(self) -> str:
        raise _SecretStoreDownError("secret store unreachable")


@exercise("5.2", "decode_access_token with PyJWT")
def _check_5_2(c: Checker, decode: Any) -> None:
    import jwt
    from jose import jwt as jose_jwt  # type: ignore[import-untyped]

    from course_app.core.errors import AuthenticationError
    from course_app.core.security import create_token

    settings = _settings()
    now = datetime.now(UTC)

    def claims(**changes: Any) -> dict[str, Any]:
        base: dict[str, Any] = {
            "sub": "7",
            "type": "access",
            "jti": "a" * 32,
            "iat": now,
            "nbf": now,
            "exp": now + timedelta(minutes=15),
            "iss": settings.jwt_issuer,
            "aud": settings.jwt_audience,
        }
        base.update(changes)
        return {k: v for k, v in base.items() if v is not None}

    def sign(data: dict[str, Any], key: str = SECRET, algorithm: str = "HS256") -> str:
        return jwt.encode(data, key, algorithm=algorithm)

    c.equal(
        "a genuine access token from course_app: its claims come back",
        lambda: decode(create_token(settings, "7", "access"), settings)["sub"],
        "7",
        hint="jwt.decode(token, settings.jwt_secret_value, algorithms=[settings.jwt_algorithm], "
        "audience=..., issuer=..., options={'require': [...]}) and return its result.",
    )
    c.equal(
        "a token python-jose minted with the same key and claims still works (migration)",
        lambda: decode(jose_jwt.encode(claims(), SECRET, algorithm="HS256"), settings)["jti"],
        "a" * 32,
        hint="Both libraries implement RFC 7519: accept what the old code issued.",
    )
    past = now - timedelta(hours=1)
    invalid = {
        "alg 'none' (no signature)": jwt.encode(claims(), None, algorithm="none"),  # type: ignore[arg-type]
        "signed with another key": sign(claims(), key="x" * 64),
        "HS512, right key, but not the configured algorithm": sign(claims(), algorithm="HS512"),
        "no exp claim": sign(claims(exp=None)),
        "no jti claim": sign(claims(jti=None)),
        "no nbf claim": sign(claims(nbf=None)),
        "another audience": sign(claims(aud="billing-api")),
        "another issuer": sign(claims(iss="https://evil.example")),
        "not valid before tomorrow": sign(claims(nbf=now + timedelta(days=1))),
        "a refresh token": create_token(settings, "7", "refresh"),
        "type claim missing": sign(claims(type=None)),
    }
    hints = {
        "no exp claim": "Require the claims: options={'require': list(REQUIRED_CLAIMS)}.",
        "no jti claim": "Require every claim of REQUIRED_CLAIMS, not only exp.",
        "no nbf claim": "Require every claim of REQUIRED_CLAIMS, not only exp.",
        "another audience": "Pass audience=settings.jwt_audience.",
        "another issuer": "Pass issuer=settings.jwt_issuer: without it PyJWT does not check iss.",
        "a refresh token": "Check claims['type'] == 'access' after decoding.",
        "type claim missing": "Require 'type' and check it is 'access'.",
    }
    for label, token in invalid.items():
        c.raises(
            f"{label}: AuthenticationError",
            lambda token=token: decode(token, settings),
            AuthenticationError,
            hint=hints.get(
                label,
                "Verify the signature with algorithms=[settings.jwt_algorithm]; "
                "never turn verification off.",
            ),
        )
    c.raises(
        "an expired token: AuthenticationError saying it has expired",
        lambda: decode(sign(claims(iat=past, nbf=past, exp=past)), settings),
        AuthenticationError,
        match="expired",
        hint="Catch jwt.ExpiredSignatureError first and raise "
        "AuthenticationError('Token has expired'); other PyJWT errors after it.",
    )
    down = settings.model_copy(update={"jwt_secret": _UnreachableSecret()})
    c.raises(
        "a failure that is not about the token (secret store down) propagates as itself",
        lambda: decode(create_token(settings, "7", "access"), down),
        _SecretStoreDownError,
        hint="Catch jwt.PyJWTError only: `except Exception` (or a bare except) turns an "
        "outage into 401s that nobody investigates.",
    )


# --- 5.3 ---------------------------------------------------------------------------------
@exercise("5.3", "a receipt route with object-level authorization")
def _check_5_3(c: Checker, build_app: Any) -> None:
    shop = _Shop(
        c,
        build_app,
        "build_app(settings) builds the app",
        "Add the route to the app create_app(settings) made, then return that app.",
    )
    if not shop.ok:
        return
    admin = {"Authorization": f"Bearer {shop.tokens[ADMIN_EMAIL]}"}
    alice = {"Authorization": f"Bearer {shop.tokens[ALICE_EMAIL]}"}
    product = shop.client.post(
        "/api/products",
        json={"sku": "MUG-0001", "name": "Mug", "price_cents": 1250, "stock": 9},
        headers=admin,
    ).json()["id"]
    order = shop.client.post(
        "/api/orders", json={"items": [{"product_id": product, "quantity": 3}]}, headers=alice
    ).json()["id"]
    path = f"/api/orders/{order}/receipt"
    receipt = {"order_id": order, "total_cents": 3750, "item_count": 3}

    c.equal(
        "the owner gets the receipt",
        lambda: _answer(shop.get(path, ALICE_EMAIL)),
        (200, receipt),
        hint="Return Receipt(order_id=..., total_cents=..., item_count=sum of quantities).",
    )
    c.equal(
        "an admin gets any order's receipt",
        lambda: _answer(shop.get(path, ADMIN_EMAIL)),
        (200, receipt),
        hint="For an admin, load the order with owner_id=None.",
    )

    def same_as_missing() -> bool:
        foreign = shop.get(path, BOB_EMAIL)
        missing = shop.get(f"/api/orders/{order + 1000}/receipt", BOB_EMAIL)
        return (foreign.status_code, foreign.json()["error"]["code"]) == (
            missing.status_code,
            missing.json()["error"]["code"],
        )

    c.equal(
        "another customer gets 404 NOT_FOUND, never the receipt",
        lambda: _answer(shop.get(path, BOB_EMAIL)),
        (404, "NOT_FOUND"),
        hint="Scope the query to the caller: OrderRepository(session).get(order_id, "
        "owner_id=user.id), and raise OrderNotFoundError when it finds nothing. A 403 tells "
        "Bob the order exists.",
    )
    c.that(
        "...and that 404 is the same as for an order that does not exist",
        same_as_missing,
        bool,
        expected="the same status and error code",
        hint="Raise OrderNotFoundError(order_id) in both cases.",
    )
    c.equal(
        "no token: 401",
        lambda: shop.get(path).status_code,
        401,
        hint="Declare `user: CurrentUser` so the route requires authentication.",
    )
    c.that(
        "an absurd id (10**30) is refused as invalid input, not a 500",
        lambda: shop.get("/api/orders/" + "1" + "0" * 30 + "/receipt", ALICE_EMAIL).status_code,
        lambda status: status in (404, 422),
        expected="422 (or 404)",
        hint="Type the path parameter as OrderId (bounded), like the app's other order routes.",
    )


# --- 5.4 ---------------------------------------------------------------------------------
@exercise("5.4", "RefreshStore: rotation and reuse detection", arity=3)
def _check_5_4(c: Checker, store_class: Any, reused: Any, unknown: Any) -> None:
    if store_class is None:
        raise NotImplementedError("RefreshStore is still None: write the class in the cell above")
    if not c.that(
        "RefreshStore is a class",
        lambda: store_class,
        lambda value: isinstance(value, type),
        expected="a class with issue, rotate, revoke and is_live",
        hint="Write `class RefreshStore:` with the four methods.",
    ):
        return

    def outcome_of(action: Any) -> str:
        """Which of the lab's exceptions ``action()`` raised (or what else happened)."""
        try:
            action()
        except reused:
            return "TokenReusedError"
        except unknown:
            return "UnknownTokenError"
        except Exception as exc:
            return f"{type(exc).__name__}: {exc}"
        return "no exception"

    def scenario_issue() -> tuple[bool, bool, bool]:
        store = store_class()
        first, second = store.issue(1), store.issue(1)
        return (
            isinstance(first, str) and first != second,
            store.is_live(first),
            store.is_live(second),
        )

    c.equal(
        "issue() returns distinct string tokens, both live",
        scenario_issue,
        (True, True, True),
        hint="Remember every issued token and which user it belongs to; keep a set of the "
        "live ones.",
    )
    c.that(
        "tokens are unguessable: 200 of them are distinct and at least 16 characters long",
        lambda: (
            [store_class().issue(1) for _ in range(100)]
            + [store_class().issue(2) for _ in range(100)]
        ),
        lambda tokens: len(set(tokens)) == 200 and min(len(t) for t in tokens) >= 16,
        expected="200 distinct tokens of ≥ 16 characters, also across stores",
        hint="Use secrets.token_urlsafe(32), never a counter: a counter is guessable.",
        show=lambda tokens: f"{len(set(tokens))} distinct, shortest {min(map(len, tokens))}",
    )

    def scenario_rotate() -> tuple[bool, bool, bool, bool]:
        store = store_class()
        old = store.issue(1)
        new = store.rotate(old)
        newer = store.rotate(new)
        return new != old, store.is_live(old), store.is_live(new), store.is_live(newer)

    c.equal(
        "rotate() spends the token and returns a new live one (twice in a row)",
        scenario_rotate,
        (True, False, False, True),
        hint="In rotate: take the token out of the live set, then issue a new one for the "
        "same user.",
    )

    def scenario_reuse() -> tuple[Any, bool, bool, bool]:
        store = store_class()
        stolen = store.issue(1)
        current = store.rotate(stolen)
        other_session = store.issue(1)
        someone_else = store.issue(2)
        return (
            outcome_of(lambda: store.rotate(stolen)),
            store.is_live(current),
            store.is_live(other_session),
            store.is_live(someone_else),
        )

    c.equal(
        "a spent token presented again: TokenReusedError, every session of that user ends",
        scenario_reuse,
        ("TokenReusedError", False, False, True),
        hint="A token that was issued but is no longer live is a replay: remove every live "
        "token of its user (only that user) from the live set, then raise TokenReusedError.",
    )

    def scenario_revoked() -> tuple[Any, bool]:
        store = store_class()
        logged_out = store.issue(1)
        other = store.issue(1)
        store.revoke(logged_out)
        return outcome_of(lambda: store.rotate(logged_out)), store.is_live(other)

    c.equal(
        "revoke() (logout), then rotate that token: it is a reuse too",
        scenario_revoked,
        ("TokenReusedError", False),
        hint="revoke only removes the token from the live set; rotate then treats it like a "
        "spent token.",
    )

    def scenario_unknown() -> tuple[Any, bool]:
        store = store_class()
        live = store.issue(1)
        return outcome_of(lambda: store.rotate("never-issued-" + "x" * 20)), store.is_live(live)

    c.equal(
        "a token the store never issued: UnknownTokenError, nothing revoked",
        scenario_unknown,
        ("UnknownTokenError", True),
        hint="Check whether the token was ever issued before anything else; a stranger's "
        "guess must not end a real user's sessions.",
    )
    c.that(
        "revoke() of an unknown token is a no-op",
        lambda: store_class().revoke("never-issued") is None,
        bool,
        expected="no exception",
        hint="Use set.discard, not set.remove.",
    )
    c.that(
        "the exceptions raised are the lab's classes",
        lambda: (reused, unknown),
        lambda pair: all(isinstance(e, type) and issubclass(e, Exception) for e in pair),
        expected="TokenReusedError and UnknownTokenError as defined in the lab",
        hint="Raise the classes defined in the cell above; do not redefine them.",
    )
