"""Checkers of lab 02, configuration and environment.

Every checker builds settings in a controlled environment: the variables it reads are
hidden for the duration of a case and restored afterwards (also on a time-out), and no
``.env`` file is read, so the result does not depend on the machine it runs on.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from coursekit.checking import Checker, exercise
from coursekit.settings import course_settings, hidden_environment

MASK = "**********"
SECRET = "lab02-signing-secret-not-for-production-0123456789"  # noqa: S105 - public test value
DB_PASSWORD = "pa55word-lab02"  # noqa: S105 - a fake password the checks look for
PG_URL = f"postgresql+asyncpg://shop:{DB_PASSWORD}@db.invalid:5432/shop"  # never connected
MEMORY_DB = "sqlite+aiosqlite:///:memory:"
PAYMENT_KEY = "sk_live_lab02_0123456789abcdef"


# --- 2.1 ---------------------------------------------------------------------------------
_SHOP_FIELDS = ("environment", "db_pool_size", "payment_api_key")


@exercise("2.1", "ShopSettings: typed, prefixed, bounded, secret")
def _check_2_1(c: Checker, shop_settings: Any) -> None:
    from pydantic import SecretStr, ValidationError
    from pydantic_settings import BaseSettings

    if shop_settings is None:
        raise NotImplementedError("ShopSettings is still None: write the class in the cell above")
    if not c.that(
        "ShopSettings is a class derived from pydantic-settings' BaseSettings",
        lambda: shop_settings,
        lambda cls: isinstance(cls, type) and issubclass(cls, BaseSettings),
        expected="a subclass of pydantic_settings.BaseSettings",
        hint="Write `class ShopSettings(BaseSettings):` — a plain BaseModel never reads "
        "the environment.",
    ):
        return

    def build(env: Mapping[str, str] | None = None, **kwargs: Any) -> Any:
        with hidden_environment(env or {}, hide=_SHOP_FIELDS, prefix="SHOP_"):
            return shop_settings(_env_file=None, **kwargs)

    def summary(settings: Any) -> tuple[Any, ...]:
        return (settings.environment, settings.db_pool_size, settings.payment_api_key)

    c.equal(
        "with no configuration: environment 'development', db_pool_size 5, no payment key",
        lambda: summary(build()),
        ("development", 5, None),
        hint="Give each field the default from the table; the key's default is None.",
    )
    c.equal(
        "SHOP_ENVIRONMENT=staging and SHOP_DB_POOL_SIZE=12 are read from the environment",
        lambda: summary(build({"SHOP_ENVIRONMENT": "staging", "SHOP_DB_POOL_SIZE": "12"}))[:2],
        ("staging", 12),
        hint="Set env_prefix in model_config (SettingsConfigDict) so that SHOP_DB_POOL_SIZE "
        "fills the field db_pool_size.",
    )
    c.equal(
        "unprefixed ENVIRONMENT and DB_POOL_SIZE belong to another program and are ignored",
        lambda: summary(build({"ENVIRONMENT": "production", "DB_POOL_SIZE": "40"}))[:2],
        ("development", 5),
        hint="With the SHOP_ prefix, only SHOP_* variables may configure this class.",
    )
    c.equal(
        "init arguments beat environment variables",
        lambda: build({"SHOP_DB_POOL_SIZE": "12"}, db_pool_size=7).db_pool_size,
        7,
        hint="Keep the default pydantic-settings source order; do not override __init__.",
    )
    c.equal(
        "'development', 'staging' and 'production' are accepted",
        lambda: [build(environment=name).environment for name in _ENVIRONMENTS],
        list(_ENVIRONMENTS),
        hint="Allow exactly these three values.",
    )
    type_hint = "Type the field as Literal['development', 'staging', 'production'] (or an enum): "
    c.raises(
        "environment='prod' is rejected with a ValidationError",
        lambda: build(environment="prod"),
        ValidationError,
        hint=type_hint + "a plain str accepts every typo.",
    )
    c.raises(
        "SHOP_ENVIRONMENT=live is rejected with a ValidationError",
        lambda: build({"SHOP_ENVIRONMENT": "live"}),
        ValidationError,
        hint=type_hint + "values from the environment are validated like any other.",
    )
    c.equal(
        "db_pool_size 1 and 50 (the bounds) are accepted",
        lambda: [build(db_pool_size=size).db_pool_size for size in (1, 50)],
        [1, 50],
        hint="Both bounds are included: ge/le, not gt/lt.",
    )
    for size in (0, 51):
        c.raises(
            f"db_pool_size={size} is rejected with a ValidationError",
            lambda size=size: build(db_pool_size=size),
            ValidationError,
            hint="Bound the integer with Field(default=5, ge=..., le=...).",
        )
    c.raises(
        "SHOP_DB_POOL_SIZE=abc is rejected with a ValidationError",
        lambda: build({"SHOP_DB_POOL_SIZE": "abc"}),
        ValidationError,
        hint="Type db_pool_size as int; pydantic then refuses text that is not a number.",
    )
    _check_payment_key(c, build, SecretStr)


_ENVIRONMENTS = ("development", "staging", "production")


def _check_payment_key(c: Checker, build: Callable[..., Any], secret_type: type) -> None:
    env = {"SHOP_PAYMENT_API_KEY": PAYMENT_KEY}

    def masked(text: Any) -> str:
        return "a text containing the payment key" if PAYMENT_KEY in str(text) else repr(text)

    c.that(
        "SHOP_PAYMENT_API_KEY is read into a SecretStr",
        lambda: build(env).payment_api_key,
        lambda value: isinstance(value, secret_type),
        expected="a SecretStr",
        hint="Type the field as SecretStr | None.",
        show=lambda value: type(value).__name__,
    )
    c.that(
        "repr(settings) does not show the payment key",
        lambda: repr(build(env)),
        lambda text: PAYMENT_KEY not in text,
        expected="a repr with the key hidden (**********)",
        hint="A str field prints its value in every repr, log line and traceback; SecretStr "
        "does not.",
        show=masked,
    )
    c.equal(
        "payment_api_key.get_secret_value() returns the key",
        lambda: build(env).payment_api_key.get_secret_value(),
        PAYMENT_KEY,
        hint="The secret must still be usable at the point of use.",
    )


# --- 2.2 ---------------------------------------------------------------------------------
def _redact_input() -> dict[str, Any]:
    """A nested mapping with secrets in every position the spec names (fresh each time)."""
    from pydantic import SecretStr

    return {
        "service": "shop",
        "db": {"host": "db.internal", "password": "pw-db"},
        "clients": [{"name": "stripe", "api_key": "sk-1"}, "plain"],
        "pair": ({"token": "t-1"}, 3),
        "database_url": SecretStr(PG_URL),
    }


@exercise("2.2", "redact(): a copy that is safe to log")
def _check_2_2(c: Checker, redact: Any) -> None:
    from pydantic import SecretBytes, SecretStr

    if not c.that(
        "redact is a function",
        lambda: redact,
        callable,
        expected="a callable",
        hint="Define `def redact(data): ...`.",
        show=lambda value: type(value).__name__,
    ):
        return
    c.equal(
        "a flat mapping: the password is masked, the user name is kept",
        lambda: redact({"user": "ada", "password": "hunter2"}),
        {"user": "ada", "password": MASK},
        hint="Replace the value of every key that contains a sensitive word by MASK.",
    )
    if c.cases[-1].not_started:
        return  # still the stub: one message is enough
    c.equal(
        "key names match in any case: 'X-API-Key', 'Authorization', 'DB_PASSWORD'",
        lambda: redact(
            {"X-API-Key": "k-1", "Authorization": "Bearer x", "DB_PASSWORD": "p", "Accept": "*/*"}
        ),
        {"X-API-Key": MASK, "Authorization": MASK, "DB_PASSWORD": MASK, "Accept": "*/*"},
        hint="Compare the lower-cased key name with the (lower-case) sensitive words.",
    )
    c.equal(
        "a key that contains a word counts: 'jwt_secret', 'refresh_token', 'stripe_api_key'",
        lambda: redact({"jwt_secret": "s", "refresh_token": "t", "stripe_api_key": "k", "n": 1}),
        {"jwt_secret": MASK, "refresh_token": MASK, "stripe_api_key": MASK, "n": 1},
        hint="Test `word in key`, not `key == word`: real keys are compound names.",
    )
    c.equal(
        "a SecretStr or SecretBytes is masked under any key",
        lambda: redact({"database_url": SecretStr(PG_URL), "cert": SecretBytes(b"x"), "port": 1}),
        {"database_url": MASK, "cert": MASK, "port": 1},
        hint="Check the value's type too: isinstance(value, SecretStr | SecretBytes).",
    )
    c.equal(
        "under a sensitive key every value is masked: None, a number, a whole mapping",
        lambda: redact({"token": None, "password_digits": 1234, "secrets": {"a": "b"}}),
        {"token": MASK, "password_digits": MASK, "secrets": MASK},
        hint="Decide on the key first; only recurse into values under innocent keys.",
    )
    c.equal(
        "nested mappings are redacted at every depth",
        lambda: redact({"db": {"host": "h", "password": "p"}, "a": {"b": {"api_token": "t"}}}),
        {"db": {"host": "h", "password": MASK}, "a": {"b": {"api_token": MASK}}},
        hint="Call your cleaning function again on each value that is a mapping.",
    )
    c.equal(
        "mappings inside lists and tuples are redacted; both come back as lists",
        lambda: redact({"clients": [{"name": "s", "api_key": "k"}], "pair": ({"token": "t"}, 3)}),
        {"clients": [{"name": "s", "api_key": MASK}], "pair": [{"token": MASK}, 3]},
        hint="Map your cleaning function over the items of lists and tuples.",
    )
    plain = {"port": 8000, "debug": False, "ratio": 0.5, "origins": ["https://a.example"]}
    c.equal(
        "other values are kept as they are (numbers stay numbers)",
        lambda: redact({**plain, "owner": None}),
        {**plain, "owner": None},
        hint="Return every value that is neither secret nor a container unchanged.",
    )

    def input_after_call() -> dict[str, Any]:
        data = _redact_input()
        redact(data)
        return data

    c.equal(
        "the input is not modified (nested parts included)",
        input_after_call,
        _redact_input(),
        hint="Build new dicts and lists instead of assigning into the ones you were given.",
    )
    _check_settings_dump(c, redact)


def _check_settings_dump(c: Checker, redact: Callable[[Any], Any]) -> None:
    def dump() -> Any:
        settings = course_settings(
            jwt_secret=SECRET, database_url=PG_URL, redis_url="redis://:hunter2@cache:6379/0"
        )
        return redact(settings.model_dump())

    c.that(
        "redact(settings.model_dump()) of the course app shows no secret and keeps app_name",
        dump,
        lambda out: (
            all(s not in repr(out) for s in (SECRET, DB_PASSWORD, "hunter2"))
            and out.get("app_name") == "Course Shop API"
        ),
        expected="every secret masked, app_name 'Course Shop API'",
        hint="model_dump() keeps SecretStr objects as values: mask them whatever their key.",
        show=lambda out: (
            "a result containing a secret"
            if any(s in repr(out) for s in (SECRET, DB_PASSWORD, "hunter2"))
            else repr(out)[:150]
        ),
    )


# --- 2.3 ---------------------------------------------------------------------------------
def _public(settings: Any) -> dict[str, Any]:
    return {
        "app_name": settings.app_name,
        "environment": settings.environment.value,
        "debug": settings.debug,
        "docs": settings.serve_docs,
        "cors_origins": list(settings.cors_origins),
        "access_token_expire_minutes": settings.access_token_expire_minutes,
    }


@exercise("2.3", "GET /config on the real app, through an overridable dependency", arity=2)
def _check_2_3(c: Checker, build_app: Any, dependency: Any) -> None:
    from fastapi import FastAPI

    staging = course_settings(
        app_name="Lab Shop (staging)",
        environment="staging",
        debug=True,
        jwt_secret=SECRET,
        database_url=PG_URL,
        cors_origins=["https://staging.shop.example"],
        access_token_expire_minutes=20,
        log_level="WARNING",
    )
    production = course_settings(
        app_name="Lab Shop",
        environment="production",
        jwt_secret=SECRET,
        database_url=PG_URL,
        cors_origins=["https://shop.example"],
        log_level="WARNING",
    )
    built, app = c.run(
        "build_app(settings) returns a FastAPI app",
        lambda: build_app(staging),
        accept=lambda app: isinstance(app, FastAPI),
        expected="a FastAPI instance",
        hint="Return the app you built with create_app(settings).",
        show=lambda value: type(value).__name__,
    )
    if not built:
        return
    client = c.client(app)
    c.equal(
        "GET /health still answers 200: the app is the course app",
        lambda: client.get("/health").status_code,
        200,
        hint="Start from create_app(settings) and add the route to it; a new FastAPI() "
        "loses every layer of the course app.",
    )
    if not c.equal(
        "GET /config answers 200",
        lambda: client.get("/config").status_code,
        200,
        hint="Register GET /config on the app you return (@app.get('/config')); a 500 means "
        "the endpoint raised: run it by hand to see why.",
    ):
        return
    c.equal(
        "GET /config returns exactly the public fields of the app's settings",
        lambda: client.get("/config").json(),
        _public(staging),
        hint="Answer a PublicConfig built from the settings the dependency gives you: "
        "docs is settings.serve_docs.",
    )
    c.that(
        "the body of GET /config holds no secret and no secret field, not even masked",
        lambda: client.get("/config").text,
        lambda text: all(s not in text for s in (SECRET, DB_PASSWORD, "jwt_secret", "*****")),
        expected="no JWT secret, no database URL, no masked values",
        hint="Use an allow-list (PublicConfig); never return model_dump() of the settings.",
        show=lambda text: text[:150],
    )

    def overridden() -> Any:
        app.dependency_overrides[dependency] = lambda: production
        try:
            return client.get("/config").json()
        finally:
            app.dependency_overrides.pop(dependency, None)

    c.equal(
        "with app.dependency_overrides[current_settings] set, GET /config answers from it",
        overridden,
        _public(production),
        hint="Take the settings only from a parameter declared "
        "Annotated[Settings, Depends(current_settings)]: not from request.app.state, "
        "get_settings() or the build_app argument.",
    )
    built, other = c.run(
        "build_app(other settings) builds a second app",
        lambda: build_app(production),
        accept=lambda other: isinstance(other, FastAPI),
        expected="a FastAPI instance",
        hint="build_app must work for any settings, production included.",
        show=lambda value: type(value).__name__,
    )
    if not built:
        return
    other_client = c.client(other)
    c.equal(
        "the second app answers with its own settings",
        lambda: other_client.get("/config").json(),
        _public(production),
        hint="Each app keeps its own settings (create_app stores them on app.state); do not "
        "keep them in a global.",
    )
    c.equal(
        "the first app still answers with its own settings",
        lambda: client.get("/config").json()["app_name"],
        staging.app_name,
        hint="Do not keep settings in a global that the next build_app call replaces.",
    )


# --- 2.4 ---------------------------------------------------------------------------------
SHOP = "https://shop.example"
ADMIN = "https://admin.shop.example"
STAGING = "https://staging.shop.example"
EVIL = "https://evil.example"
ALLOW_ORIGIN = "access-control-allow-origin"
ALLOW_CREDENTIALS = "access-control-allow-credentials"


def _preflight(client: Any, origin: str, method: str = "DELETE") -> Any:
    return client.options(
        "/health",
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": method,
            "Access-Control-Request-Headers": "authorization, content-type",
        },
    )


def _simple(client: Any, origin: str) -> Any:
    return client.get("/health", headers={"Origin": origin, "Cookie": "session=abc"})


@exercise("2.4", "CORS per environment on the real app")
def _check_2_4(c: Checker, add_cors: Any) -> None:
    from course_app.main import create_app

    def started(name: str, **values: Any) -> Any:
        """Build create_app(settings) + add_cors for ``values``; a running client, or None."""

        def build() -> Any:
            settings = course_settings(database_url=MEMORY_DB, log_level="WARNING", **values)
            # course_app installs its own CORS from the settings: build the app without
            # origins, so every CORS header in the answers comes from the learner's code
            app = create_app(settings.model_copy(update={"cors_origins": []}))
            add_cors(app, settings)
            return app

        built, app = c.run(
            name,
            build,
            expected="no exception",
            hint="Install the middleware with app.add_middleware(CORSMiddleware, ...).",
            show=lambda _: "None",
        )
        return c.client(app) if built else None

    client = started(
        "add_cors(app, settings) runs on a production app",
        environment="production",
        jwt_secret=SECRET,
        cors_origins=[SHOP, ADMIN],
    )
    if client is None:
        return
    c.equal(
        "a preflight from a listed origin (DELETE with Authorization) is allowed",
        lambda: _status_and_origin(_preflight(client, SHOP)),
        (200, SHOP),
        hint="allow_origins must be settings.cors_origins; allow_methods must include DELETE "
        "and allow_headers Authorization and Content-Type (a 400 means one is missing).",
    )
    c.equal(
        "PUT and PATCH preflights from a listed origin are allowed",
        lambda: [_preflight(client, SHOP, m).status_code for m in ("PUT", "PATCH")],
        [200, 200],
        hint="List every method the API uses in allow_methods.",
    )
    c.equal(
        "credentials (cookies, Authorization) are allowed for a listed origin",
        lambda: _simple(client, SHOP).headers.get(ALLOW_CREDENTIALS),
        "true",
        hint="Set allow_credentials=True when the origins are an explicit list.",
    )
    c.equal(
        "every listed origin is allowed, not only the first",
        lambda: _simple(client, ADMIN).headers.get(ALLOW_ORIGIN),
        ADMIN,
        hint="Pass the whole list settings.cors_origins.",
    )
    foreign_hint = "Never allow '*' together with credentials: Starlette then echoes any origin."
    c.equal(
        "a foreign origin gets no access-control-allow-origin (preflight)",
        lambda: _preflight(client, EVIL).headers.get(ALLOW_ORIGIN),
        None,
        hint=foreign_hint,
    )
    c.equal(
        "a foreign origin gets no access-control-allow-origin (GET with a cookie)",
        lambda: _simple(client, EVIL).headers.get(ALLOW_ORIGIN),
        None,
        hint=foreign_hint,
    )

    staging = started(
        "add_cors(app, settings) runs on a staging app",
        environment="staging",
        cors_origins=[STAGING],
    )
    if staging is not None:
        c.equal(
            "on staging the staging origin is allowed and the production origin is not",
            lambda: [_simple(staging, o).headers.get(ALLOW_ORIGIN) for o in (STAGING, SHOP)],
            [STAGING, None],
            hint="Read the origins from the settings you are given, in every environment.",
        )

    wildcard = started("add_cors(app, settings) runs with CORS_ORIGINS=*", cors_origins=["*"])
    if wildcard is not None:
        c.that(
            "with '*' (development): every origin is allowed, never with credentials",
            lambda: _wildcard_answers(wildcard),
            lambda got: got[0] in ("*", EVIL) and got[1] is None and got[2] is None,
            expected="(allow-origin '*', no allow-credentials on preflight, none on GET)",
            hint="When '*' is configured, pass allow_origins=['*'] with allow_credentials=False.",
        )

    default = started("add_cors(app, settings) runs with no origins configured")
    if default is not None:
        c.equal(
            "with no origins configured (development default), no origin is allowed",
            lambda: _simple(default, "http://localhost:3000").headers.get(ALLOW_ORIGIN),
            None,
            hint="An empty list must allow nothing; do not invent development defaults.",
        )


def _status_and_origin(response: Any) -> tuple[int, Any]:
    return response.status_code, response.headers.get(ALLOW_ORIGIN)


def _wildcard_answers(client: Any) -> tuple[Any, Any, Any]:
    preflight = _preflight(client, EVIL)
    return (
        preflight.headers.get(ALLOW_ORIGIN),
        preflight.headers.get(ALLOW_CREDENTIALS),
        _simple(client, EVIL).headers.get(ALLOW_CREDENTIALS),
    )
