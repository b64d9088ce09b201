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
# # Lab 02 · Configuration and environment
#
# Four exercises, about 30 minutes. Each exercise cell is followed by a check cell: run
# both. A check never crashes the notebook; it prints ✓ or, for each failing case, what was
# expected, what came back and a hint. Replace each `# YOUR CODE HERE` and the line after it.
#
# | # | you write | it proves |
# |---|---|---|
# | 2.1 | `ShopSettings`, a settings class of your own | typed, prefixed, bounded values; a secret that stays secret |
# | 2.2 | `redact(data)` | a settings dump or a request context is safe to log |
# | 2.3 | `build_app(settings)` with `GET /config` | the real app exposes only public settings, through an overridable dependency |
# | 2.4 | `add_cors(app, settings)` | the real app answers CORS per environment, never `*` with credentials |
#
# Lesson 02 (`notebooks/02_configuration.ipynb`) shows every tool you need.

# %%
from collections.abc import Mapping
from typing import Annotated, Any, Literal

from fastapi import Depends, FastAPI, Request
from fastapi.middleware.cors import CORSMiddleware
from pydantic import BaseModel, Field, SecretBytes, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from course_app.config import Environment, Settings
from course_app.main import create_app
from coursekit import check

# %% [markdown]
# ## Exercise 2.1 — a settings class that refuses bad values
#
# The payment service of the shop gets its own settings class. Write `ShopSettings`, a
# pydantic-settings `BaseSettings` subclass, whose variables all start with `SHOP_` (so
# `SHOP_DB_POOL_SIZE=12` sets `db_pool_size`, while a plain `DB_POOL_SIZE` belongs to
# someone else and is ignored):
#
# | field | type and rule | default |
# |---|---|---|
# | `environment` | exactly one of `"development"`, `"staging"`, `"production"` | `"development"` |
# | `db_pool_size` | an integer from 1 to 50, both included | `5` |
# | `payment_api_key` | a secret: hidden in `repr`, revealed by `get_secret_value()`; optional | `None` |
#
# Anything else must be rejected with a `ValidationError` when the object is built:
# `environment="prod"`, `db_pool_size=0`, `SHOP_DB_POOL_SIZE=abc`…
# Hints: `SettingsConfigDict(env_prefix=...)`, `Literal[...]`, `Field(ge=..., le=...)`.

# %%
### BEGIN SOLUTION stub: ShopSettings = None  # replace with: class ShopSettings(BaseSettings): ...
class ShopSettings(BaseSettings):
    """Settings of the payment service; every variable is prefixed with SHOP_."""

    model_config = SettingsConfigDict(env_prefix="SHOP_", extra="ignore")

    environment: Literal["development", "staging", "production"] = "development"
    db_pool_size: int = Field(default=5, ge=1, le=50)
    payment_api_key: SecretStr | None = None
### END SOLUTION

# %%
check("2.1", ShopSettings)

# %% [markdown]
# ## Exercise 2.2 — redact before you log
#
# `SecretStr` protects settings, but logs also receive plain dictionaries: a request
# context, `settings.model_dump()`, a client's configuration. Write `redact(data)`, which
# returns a copy of a mapping that is safe to log:
#
# - a value whose **key contains** one of `SENSITIVE_WORDS` — in any case, so
#   `"X-API-Key"` and `"jwt_secret"` count — becomes `MASK`, whatever the value is;
# - a `SecretStr` or `SecretBytes` value becomes `MASK` under any key;
# - nested mappings are redacted too, and so are mappings inside lists and tuples (return
#   lists for both);
# - every other value is kept as it is (numbers stay numbers);
# - the input is **not modified**.

# %%
MASK = "**********"
SENSITIVE_WORDS = ("secret", "password", "token", "key", "authorization")


def redact(data: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of ``data`` with every secret-looking value replaced by ``MASK``."""
    ### BEGIN SOLUTION
    def clean(value: Any) -> Any:
        if isinstance(value, SecretStr | SecretBytes):
            return MASK
        if isinstance(value, Mapping):
            return {
                key: MASK
                if any(word in str(key).lower() for word in SENSITIVE_WORDS)
                else clean(item)
                for key, item in value.items()
            }
        if isinstance(value, list | tuple):
            return [clean(item) for item in value]
        return value

    return clean(dict(data))
    ### END SOLUTION


# %%
check("2.2", redact)

# %% [markdown]
# ## Exercise 2.3 — `GET /config` on the real app
#
# Front-end developers keep asking which environment they are talking to. Add
# `GET /config` to the course app. Write `build_app(settings)`:
#
# - build the real app with `create_app(settings)` (so `/health` and the error handlers
#   keep working), then add the endpoint to it;
# - the endpoint gets its settings **only** through the dependency `current_settings`
#   below (`Annotated[Settings, Depends(current_settings)]`), so that a test can replace
#   them with `app.dependency_overrides[current_settings]`;
# - it answers a `PublicConfig`: `app_name`, `environment`, `debug`, `docs` (whether the
#   docs are served: `settings.serve_docs`), `cors_origins`, `access_token_expire_minutes`
#   — and nothing else. No secret, not even masked.

# %%
class PublicConfig(BaseModel):
    """What the front end may know about the server's configuration."""

    app_name: str
    environment: Environment
    debug: bool
    docs: bool
    cors_origins: list[str]
    access_token_expire_minutes: int


def current_settings(request: Request) -> Settings:
    """The settings this app was built with: ``create_app`` stores them on ``app.state``."""
    return request.app.state.settings

# %%
def build_app(settings: Settings) -> FastAPI:
    """The course app for ``settings``, plus ``GET /config``."""
    ### BEGIN SOLUTION
    app = create_app(settings)

    @app.get("/config", tags=["meta"])
    def read_config(current: Annotated[Settings, Depends(current_settings)]) -> PublicConfig:
        return PublicConfig(
            app_name=current.app_name,
            environment=current.environment,
            debug=current.debug,
            docs=current.serve_docs,
            cors_origins=current.cors_origins,
            access_token_expire_minutes=current.access_token_expire_minutes,
        )

    return app
    ### END SOLUTION


# %%
check("2.3", build_app, current_settings)

# %% [markdown]
# ## Exercise 2.4 — CORS per environment
#
# Security checklist item 4. Write `add_cors(app, settings)`, which installs Starlette's
# `CORSMiddleware` on a real app so that:
#
# - exactly the origins in `settings.cors_origins` may call the API from a browser, with
#   credentials (cookies, `Authorization`) allowed;
# - any other origin gets no `access-control-allow-origin` header;
# - the methods `GET`, `POST`, `PUT`, `PATCH`, `DELETE` and the request headers
#   `Authorization` and `Content-Type` are allowed;
# - `*` in `settings.cors_origins` (possible outside production only: the settings refuse
#   it in production) allows every origin **without** credentials. A wildcard with
#   credentials lets any website act as the logged-in user — lesson 02, section 6.
#
# The finished `course_app` installs CORS itself (its middleware stack, lesson 08). So the
# checker builds real apps with `create_app(...)` whose own CORS is switched off (no
# origins), calls your `add_cors(app, settings)` with the real settings, for several
# environments, and sends browser-style requests (preflight `OPTIONS` and simple `GET`s)
# from allowed and foreign origins: every CORS header it sees comes from your code.

# %%
def add_cors(app: FastAPI, settings: Settings) -> None:
    """Install CORS on ``app`` from ``settings.cors_origins``."""
    ### BEGIN SOLUTION
    wildcard = "*" in settings.cors_origins
    app.add_middleware(
        CORSMiddleware,
        allow_origins=["*"] if wildcard else settings.cors_origins,
        allow_credentials=not wildcard,
        allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
        allow_headers=["Authorization", "Content-Type"],
    )
    ### END SOLUTION


# %%
check("2.4", add_cors)

# %% [markdown]
# ## Done?
#
# Run `course check 2` in a terminal to see all four results at once. Next: lesson 03,
# Pydantic v2.
