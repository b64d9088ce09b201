"""Checkers of lab 07, testing: every one drives a real ``course_app`` instance.

* 7.1 ``overridden(app, overrides)``: overrides applied for a block, then restored exactly
  (also after an exception, also when nested), observed through ``GET /api/users/me``.
* 7.2 ``make_user(database_url, ...)``: the rows it writes log in through the real app.
* 7.3 ``test_admin_listing_refuses(...)``: the learner's *test* is run against the real app
  (it must pass) and against app instances with one planted bug each (it must fail).
* 7.4 ``app_client(folder)``: lifespan, a database of its own, the allowed host, closed.

Each check builds its apps on SQLite files in a temporary folder removed at the end.
"""

import asyncio
import inspect
import tempfile
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from coursekit.checking import Checker, exercise
from coursekit.settings import course_settings

SECRET = "lab07-checker-signing-secret-0123456789abcdef"  # noqa: S105 - public test value
PASSWORD = "correct horse battery"  # noqa: S105 - the lab's default test password
OTHER_PASSWORD = "another long passphrase"  # noqa: S105
SIGNUP = {"email": "ada@example.com", "full_name": "Ada Lovelace", "password": PASSWORD}


@contextmanager
def _folder() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="lab07-check-") as name:
        yield Path(name)


def _settings(folder: Path, **changes: Any) -> Any:
    """Test settings with a database file of its own in ``folder``; nothing read from a
    ``.env`` file, generous rate limits (the checks sign in many times)."""
    return course_settings(
        environment="test",
        jwt_secret=SECRET,
        log_level="CRITICAL",
        database_url=f"sqlite+aiosqlite:///{folder / 'check.db'}",
        upload_dir=str(folder / "uploads"),
        redis_url=None,
        login_rate_limit=1000,
        register_rate_limit=10_000,
        **changes,
    )


def _app(folder: Path) -> Any:
    from course_app.main import create_app

    return create_app(_settings(folder))


def _fake_user(role: Any, email: str) -> Any:
    from course_app.features.users.models import User

    return User(
        id=4242 if role.value == "admin" else 4243,
        email=email,
        full_name="Fake " + role.value,
        hashed_password="not-a-hash",  # noqa: S106 - never verified: the user is injected
        role=role,
        is_active=True,
        created_at=datetime(2026, 1, 1, tzinfo=UTC),
    )


def _json(response: Any) -> Any:
    try:
        return response.json()
    except ValueError:
        return f"<{response.status_code}, not JSON: {response.text[:60]!r}>"


def _me(client: Any) -> tuple[int, Any]:
    """``GET /api/users/me`` as (status, email or error code)."""
    response = client.get("/api/users/me")
    body = _json(response)
    if response.status_code == 200 and isinstance(body, dict):
        return 200, body.get("email")
    error = body.get("error", {}) if isinstance(body, dict) else {}
    return response.status_code, error.get("code", body) if isinstance(error, dict) else body


def _call(function: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Call learner code that should be ``async def``; run the coroutine to completion."""
    result = function(*args, **kwargs)
    if inspect.isawaitable(result):
        return asyncio.run(_wait(result))
    return result


async def _wait(awaitable: Awaitable[Any]) -> Any:
    return await awaitable


# --- 7.1 ---------------------------------------------------------------------------------
class _BoomError(Exception):
    """Raised inside the learner's block: it must come out again."""


def _unrelated_dependency() -> str:
    return "real"


def _unrelated_replacement() -> str:
    return "fake"


@exercise("7.1", "overridden(): dependency overrides that never leak", time_limit=40)
def _check_7_1(c: Checker, overridden: Any) -> None:
    from course_app.features.auth.dependencies import get_current_user
    from course_app.features.users.models import Role

    admin = _fake_user(Role.ADMIN, "fake-admin@example.com")
    user = _fake_user(Role.USER, "fake-user@example.com")
    as_admin = {get_current_user: lambda: admin}
    as_user = {get_current_user: lambda: user}
    hint_restore = (
        "Save a copy of app.dependency_overrides before applying yours (dict(...)), and in a "
        "`finally:` put exactly that copy back (clear(), then update(saved))."
    )
    with _folder() as folder:
        app = _app(folder)
        client = c.client(app)

        def inside() -> tuple[bool, tuple[int, Any]]:
            with overridden(app, as_admin) as yielded:
                return yielded is app, _me(client)

        c.equal(
            "inside the block the override is active: GET /api/users/me is the fake admin",
            inside,
            (True, (200, admin.email)),
            hint="Apply every entry of `overrides` to app.dependency_overrides, then "
            "`yield app` (a @contextmanager generator).",
        )
        c.equal(
            "after the block: no override left, GET /api/users/me is 401 again",
            lambda: (len(app.dependency_overrides), _me(client)),
            (0, (401, "UNAUTHORIZED")),
            hint=hint_restore,
        )

        def failing() -> tuple[bool, int, tuple[int, Any]]:
            propagated = False
            try:
                with overridden(app, as_admin):
                    raise _BoomError("an assertion failed inside the test")
            except _BoomError:
                propagated = True
            return propagated, len(app.dependency_overrides), _me(client)

        c.equal(
            "an exception inside the block still comes out, and the override is removed",
            failing,
            (True, 0, (401, "UNAUTHORIZED")),
            hint="Put the restore in `finally:` around the yield, and do not catch the "
            "exception: a failing test must keep failing.",
        )
        _check_7_1_existing(c, overridden, app, client, as_admin, as_user, hint_restore)


def _check_7_1_existing(
    c: Checker,
    overridden: Any,
    app: Any,
    client: Any,
    as_admin: dict[Any, Any],
    as_user: dict[Any, Any],
    hint_restore: str,
) -> None:
    admin_email = _me_email(as_admin)
    user_email = _me_email(as_user)

    def keeps_unrelated() -> tuple[bool, str]:
        app.dependency_overrides.clear()
        app.dependency_overrides[_unrelated_dependency] = _unrelated_replacement
        try:
            with overridden(app, as_admin):
                pass
            kept = app.dependency_overrides.get(_unrelated_dependency) is _unrelated_replacement
            return kept, "the earlier override is still there" if kept else "it is gone"
        finally:
            app.dependency_overrides.clear()

    c.equal(
        "an override that was set before the block is still there after it",
        keeps_unrelated,
        (True, "the earlier override is still there"),
        hint="Do not clear() everything on exit: other fixtures may have set overrides "
        "of their own. " + hint_restore,
    )

    def restores_replaced() -> list[tuple[int, Any]]:
        app.dependency_overrides.clear()
        app.dependency_overrides.update(as_user)
        try:
            with overridden(app, as_admin):
                during = _me(client)
            return [during, _me(client)]
        finally:
            app.dependency_overrides.clear()

    c.equal(
        "an override replaced for the block comes back after it (user -> admin -> user)",
        restores_replaced,
        [(200, admin_email), (200, user_email)],
        hint="Removing your keys is not enough when they replaced earlier values: restore "
        "the saved copy. " + hint_restore,
    )

    def nested() -> list[tuple[int, Any]]:
        app.dependency_overrides.clear()
        seen = []
        try:
            with overridden(app, as_user):
                with overridden(app, as_admin):
                    seen.append(_me(client))
                seen.append(_me(client))
            seen.append(_me(client))
            return seen
        finally:
            app.dependency_overrides.clear()

    c.equal(
        "blocks nest: inner admin, then the outer user again, then nobody",
        nested,
        [(200, admin_email), (200, user_email), (401, "UNAUTHORIZED")],
        hint="Each block restores what *it* found on entry. " + hint_restore,
    )


def _me_email(overrides: dict[Any, Any]) -> Any:
    return next(iter(overrides.values()))().email


# --- 7.2 ---------------------------------------------------------------------------------
@exercise("7.2", "make_user(): a factory whose users the real app accepts", time_limit=60)
def _check_7_2(c: Checker, make_user: Any) -> None:
    from course_app.core.security import create_token
    from course_app.features.users.models import User

    if not callable(make_user):
        raise NotImplementedError("make_user is not a function: define async def make_user(...)")
    with _folder() as folder:
        settings = _settings(folder)
        url = settings.database_url_value
        client = c.client(_app(folder))  # the lifespan creates the tables

        def login(email: str, password: str = PASSWORD) -> int:
            payload = {"email": email, "password": password}
            return int(client.post("/api/auth/login", json=payload).status_code)

        def as_bearer(user: Any) -> dict[str, str]:
            return {"Authorization": f"Bearer {create_token(settings, str(user.id), 'access')}"}

        ok, first = c.run(
            "await make_user(database_url) returns a User with its id set",
            lambda: _call(make_user, url),
            accept=lambda got: isinstance(got, User) and got.id is not None,
            expected="a course_app User whose id is an int",
            hint="Add the User to an AsyncSession inside `engine.begin()`, `await "
            "session.flush()` (that assigns the id) and return it.",
        )
        if not ok:
            return
        ok, second = c.run(
            "a second call without email makes a second user with another address",
            lambda: _call(make_user, url),
            accept=lambda got: isinstance(got, User) and got.email != first.email,
            expected=f"a new User whose email is not {first.email!r}",
            hint="Number the default address with the counter: "
            "f'user{next(_numbers)}@example.com'. A fixed address breaks the unique index.",
        )
        c.that(
            "the password is stored as an Argon2 hash, not as text",
            lambda: first.hashed_password,
            lambda got: isinstance(got, str) and got.startswith("$argon2") and PASSWORD not in got,
            expected="a string starting with '$argon2'",
            hint="Store hash_password(password), never the password itself.",
        )
        c.equal(
            "the user logs in through the real app: POST /api/auth/login answers 200",
            lambda: login(first.email),
            200,
            hint="401: the row is not in the database (use `async with engine.begin()`, which "
            "commits on exit) or the hash does not match; 500: the stored value is not a hash "
            "at all. Store course_app's hash_password(password).",
        )
        if ok:
            c.equal(
                "the same password is hashed once: both users share one hash string",
                lambda: first.hashed_password == second.hashed_password,
                True,
                hint="Argon2 salts every hash, so two calls give two strings. Keep the first "
                "hash of each password in `_hashes` and reuse it: Argon2 is slow on purpose.",
            )
        _check_7_2_options(c, make_user, url, first, client, login, as_bearer)


def _check_7_2_options(
    c: Checker,
    make_user: Any,
    url: str,
    first: Any,
    client: Any,
    login: Callable[..., int],
    as_bearer: Callable[[Any], dict[str, str]],
) -> None:
    from course_app.features.users.models import Role

    def with_other_password() -> tuple[bool, int]:
        user = _call(make_user, url, password=OTHER_PASSWORD)
        return user.hashed_password != first.hashed_password, login(user.email, OTHER_PASSWORD)

    c.equal(
        "password=... gets its own hash (not the first one's), and logs in with it: 200",
        with_other_password,
        (True, 200),
        hint="Cache hashes per password (a dict keyed by the password), not one hash for all.",
    )

    def with_name_and_email() -> tuple[str, str, int]:
        user = _call(make_user, url, email="grace@example.com", full_name="Grace Hopper")
        return user.email, user.full_name, login("grace@example.com")

    c.equal(
        "email=... and full_name=... are used as given, and that user logs in: 200",
        with_name_and_email,
        ("grace@example.com", "Grace Hopper", 200),
        hint="Use the arguments when they are given; fall back to defaults only when not.",
    )
    ok, admin = c.run(
        "role=Role.ADMIN makes an admin",
        lambda: _call(make_user, url, role=Role.ADMIN),
        accept=lambda got: got.role == Role.ADMIN,
        expected="a User whose role is Role.ADMIN",
        show=lambda got: f"User(role={getattr(got, 'role', '?')!r})",
        hint="Pass role=role to User(...).",
    )
    if ok:
        c.equal(
            "the real app agrees: GET /api/users is 200 for the admin, 403 for a user",
            lambda: (
                client.get("/api/users", headers=as_bearer(admin)).status_code,
                client.get("/api/users", headers=as_bearer(first)).status_code,
            ),
            (200, 403),
            hint="The role must be stored in the row, as a Role value.",
        )


# --- 7.3 ---------------------------------------------------------------------------------
def _listing_role_check() -> Any:
    """The dependency ``GET /api/users`` uses to let admins only (``require_role(...)``'s
    closure: the very object a planted bug must override)."""
    from course_app.features.users import router as users_router

    for route in users_router.router.routes:
        if getattr(route, "path", None) == "/api/users" and "GET" in getattr(route, "methods", ()):
            for depends in route.dependencies:
                return depends.dependency
    raise LookupError("GET /api/users has no role dependency any more (course_app changed)")


def _bug_no_role_check(app: Any) -> None:
    from course_app.features.auth.dependencies import CurrentUser
    from course_app.features.users.models import User

    async def any_signed_in_user(user: CurrentUser) -> User:
        return user

    app.dependency_overrides[_listing_role_check()] = any_signed_in_user


def _token_dependency(missing: Callable[[], Exception]) -> Callable[..., Any]:
    """A ``get_current_user`` replacement: the real check, except for a missing token."""
    from typing import Annotated

    from fastapi import Depends

    from course_app.dependencies import SessionDep, SettingsDep
    from course_app.features.auth.dependencies import oauth2_scheme
    from course_app.features.auth.service import authenticate_access_token
    from course_app.features.users.models import User

    async def current_user(
        token: Annotated[str | None, Depends(oauth2_scheme)],
        settings: SettingsDep,
        session: SessionDep,
    ) -> User:
        if not token:
            raise missing()
        return await authenticate_access_token(session, settings, token)

    return current_user


def _bug_403_without_token(app: Any) -> None:
    from course_app.core.errors import AuthorizationError
    from course_app.features.auth.dependencies import get_current_user

    app.dependency_overrides[get_current_user] = _token_dependency(
        lambda: AuthorizationError("Not authenticated")
    )


def _bug_401_without_challenge(app: Any) -> None:
    from course_app.core.errors import AppError
    from course_app.features.auth.dependencies import get_current_user

    class BareUnauthorizedError(AppError):
        status_code = 401
        code = "UNAUTHORIZED"

    app.dependency_overrides[get_current_user] = _token_dependency(
        lambda: BareUnauthorizedError("Not authenticated")
    )


def _bug_401_detail_body(app: Any) -> None:
    from fastapi.responses import JSONResponse

    from course_app.features.auth.dependencies import get_current_user

    class NotAuthenticatedError(Exception):
        pass

    async def default_shape(_request: Any, _exc: Exception) -> JSONResponse:
        return JSONResponse(
            {"detail": "Not authenticated"}, 401, headers={"WWW-Authenticate": "Bearer"}
        )

    app.add_exception_handler(NotAuthenticatedError, default_shape)
    app.dependency_overrides[get_current_user] = _token_dependency(NotAuthenticatedError)


def _bug_403_wrong_code(app: Any) -> None:
    from course_app.core.errors import AppError
    from course_app.features.auth.dependencies import CurrentUser
    from course_app.features.users.models import Role, User

    class MislabelledForbiddenError(AppError):
        status_code = 403
        code = "UNAUTHORIZED"

    async def admins_only(user: CurrentUser) -> User:
        if user.role is not Role.ADMIN:
            raise MislabelledForbiddenError("Requires role: admin")
        return user

    app.dependency_overrides[_listing_role_check()] = admins_only


def _bug_nobody_passes(app: Any) -> None:
    from course_app.features.auth.dependencies import require_role

    app.dependency_overrides[_listing_role_check()] = require_role()  # no role is enough


_BUGS: list[tuple[str, Callable[[Any], None], str]] = [
    (
        "the role check is missing (any signed-in user may list accounts)",
        _bug_no_role_check,
        "Call the listing with user_headers and assert the status is 403.",
    ),
    (
        "a request without a token gets 403 (what HTTPBearer answered in older FastAPI versions)",
        _bug_403_without_token,
        "Call the listing without headers and assert the status is exactly 401.",
    ),
    (
        "the 401 has no WWW-Authenticate header",
        _bug_401_without_challenge,
        "Assert response.headers.get('www-authenticate') == 'Bearer' on the 401: the "
        "header tells the client how to authenticate (RFC 9110).",
    ),
    (
        "the 401 body is FastAPI's {'detail': ...}, not the error envelope",
        _bug_401_detail_body,
        "Assert the envelope: response.json()['error']['code'] == 'UNAUTHORIZED'. Clients "
        "parse one error shape; a second one breaks them.",
    ),
    (
        "a normal user's 403 carries the code UNAUTHORIZED",
        _bug_403_wrong_code,
        "On the 403, assert response.json()['error']['code'] == 'FORBIDDEN': the code is "
        "part of the contract, not only the status.",
    ),
    (
        "the role check lets nobody through, admins included",
        _bug_nobody_passes,
        "Also call the listing with admin_headers and assert 200: a sad-path test needs "
        "one happy case, or an app that refuses everyone passes it.",
    ),
]


async def _insert(database_url: str, role: Any, email: str) -> Any:
    from sqlalchemy.ext.asyncio import AsyncSession

    from course_app.core.database import build_engine
    from course_app.features.users.models import User

    user = User(
        email=email,
        full_name="Checker " + role.value,
        hashed_password="not-a-hash",  # noqa: S106 - these users sign in with tokens only
        role=role,
        is_active=True,
    )
    engine = build_engine(database_url)
    try:
        async with (
            engine.begin() as connection,
            AsyncSession(bind=connection, expire_on_commit=False) as session,
        ):
            session.add(user)
            await session.flush()
    finally:
        await engine.dispose()
    return user


def _run_learner_test(test: Any, bug: Callable[[Any], None] | None) -> str:
    """Run the learner's async test against a fresh app (with ``bug`` planted); return
    "passed", or "failed: <why>" for any exception (as pytest would)."""
    import httpx
    from asgi_lifespan import LifespanManager

    from course_app.core.security import create_token
    from course_app.features.users.models import Role

    async def scenario(folder: Path) -> None:
        settings = _settings(folder)
        app = _app(folder)
        if bug is not None:
            bug(app)
        async with (
            LifespanManager(app) as manager,
            httpx.AsyncClient(
                transport=httpx.ASGITransport(app=manager.app), base_url="http://testserver"
            ) as client,
        ):
            url = settings.database_url_value
            user = await _insert(url, Role.USER, "user@example.com")
            admin = await _insert(url, Role.ADMIN, "admin@example.com")

            def bearer(who: Any) -> dict[str, str]:
                return {"Authorization": "Bearer " + create_token(settings, str(who.id), "access")}

            outcome = test(client, bearer(user), bearer(admin))
            if not inspect.isawaitable(outcome):
                raise TypeError("the test is not `async def`: it returned without awaiting")
            await outcome

    with _folder() as folder:
        try:
            asyncio.run(scenario(folder))
        except NotImplementedError:
            raise
        except Exception as exc:
            return f"failed: {_where(exc)}"
    return "passed"


def _where(exc: BaseException) -> str:
    """``AssertionError at line 3: assert response.status_code == 403`` — the learner's
    line that failed (a plain ``assert`` has no message outside pytest)."""
    import traceback

    learner = [
        frame
        for frame in traceback.extract_tb(exc.__traceback__)
        if "coursekit" not in frame.filename and "site-packages" not in frame.filename
    ]
    message = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    if learner:
        frame = learner[-1]
        message += f" at line {frame.lineno} of {frame.name}"
        if frame.line:  # known when the test was written in a notebook cell or a file
            message += f": {frame.line.strip()}"
    return message[:300]


@exercise("7.3", "a sad-path test that catches planted bugs", time_limit=120)
def _check_7_3(c: Checker, test: Any) -> None:
    if not c.that(
        "test_admin_listing_refuses is an async function",
        lambda: test,
        inspect.iscoroutinefunction,
        expected="async def test_admin_listing_refuses(client, user_headers, admin_headers)",
        hint="Keep the `async def` line: the client is an httpx.AsyncClient, so every request "
        "is awaited.",
    ):
        return
    if not c.equal(
        "your test passes on the real app",
        lambda: _run_learner_test(test, None),
        "passed",
        hint="Assert what the API promises: 401 + WWW-Authenticate: Bearer + code "
        "UNAUTHORIZED without a token, 403 + FORBIDDEN for a user, 200 for an admin.",
    ):
        return
    for description, bug, hint in _BUGS:
        c.that(
            f"your test fails on an app where {description}",
            lambda bug=bug: _run_learner_test(test, bug),
            lambda got: got.startswith("failed"),
            expected="the test fails (an assert trips)",
            show=lambda got: "it passed: the bug would have shipped" if got == "passed" else got,
            hint=hint,
        )


# --- 7.4 ---------------------------------------------------------------------------------
async def _use(app_client: Any, folder: Path) -> dict[str, Any]:
    """Open the learner's client on ``folder``, make the requests, report what happened."""
    import httpx

    seen: dict[str, Any] = {}
    async with app_client(folder) as client:
        seen["client"] = client
        seen["is_async_client"] = isinstance(client, httpx.AsyncClient)
        seen["ready"] = (await client.get("/ready")).status_code
        seen["products"] = (await client.get("/api/products")).status_code
        seen["signup"] = (await client.post("/api/users", json=SIGNUP)).status_code
    seen["closed"] = bool(getattr(seen["client"], "is_closed", False))
    return seen


@exercise("7.4", "app_client(): lifespan, own database, allowed host", time_limit=60)
def _check_7_4(c: Checker, app_client: Any) -> None:
    if not callable(app_client):
        raise NotImplementedError("app_client is not defined: write the async context manager")
    with _folder() as root:
        first_folder, second_folder = root / "first", root / "second"
        first_folder.mkdir()
        second_folder.mkdir()
        ok, first = c.run(
            "async with app_client(folder) as client: ... runs and yields an httpx.AsyncClient",
            lambda: asyncio.run(_use(app_client, first_folder)),
            accept=lambda seen: seen["is_async_client"],
            expected="an httpx.AsyncClient",
            show=lambda seen: type(seen["client"]).__name__,
            hint="Decorate with @asynccontextmanager and `yield` the client inside "
            "`async with LifespanManager(app) as manager, httpx.AsyncClient(...) as client:`. "
            "An AttributeError about 'database' means the lifespan did not run, or the "
            "transport got `app` instead of `manager.app` (the lifespan's state lives there).",
        )
        if not ok:
            return
        c.equal(
            "GET /ready answers 200: the lifespan ran and the database answers",
            lambda: first["ready"],
            200,
            hint="Run the app inside LifespanManager(app) and give ASGITransport manager.app.",
        )
        c.equal(
            "GET /api/products answers 200 (400 means a host the app does not allow)",
            lambda: first["products"],
            200,
            hint="Use base_url='http://testserver': the test settings allow that host only "
            "(with localhost and 127.0.0.1); http://test is refused by TrustedHostMiddleware.",
        )
        c.that(
            "the database file is inside the folder you were given",
            lambda: sorted(p.name for p in first_folder.rglob("*.db")),
            bool,
            expected="a SQLite file under folder",
            hint="database_url=f'sqlite+aiosqlite:///{folder / \"test.db\"}'.",
        )
        c.equal(
            "the client is closed after the block",
            lambda: first["closed"],
            True,
            hint="Open the client with `async with httpx.AsyncClient(...) as client:` around "
            "the yield, so it is closed however the block ends.",
        )
        c.equal(
            "two clients on two folders have two databases: the same sign-up is 201 twice",
            lambda: [first["signup"], asyncio.run(_use(app_client, second_folder))["signup"]],
            [201, 201],
            hint="Build the database URL from `folder` on every call; one shared file makes "
            "the second test see the first one's rows (409).",
        )
