"""Application settings: one typed object, read from the environment once.

Rules the course teaches (lesson 02):

* secrets are ``SecretStr`` and never appear in a repr, a log line or a traceback;
* development works with zero configuration (SQLite file, generated JWT secret);
* production refuses to start on a missing or weak secret, an implicit database,
  wildcard CORS or debug mode, and says exactly what to fix;
* settings are validated at start-up, not at first use.
"""

from __future__ import annotations

import json
import re
import secrets
from enum import StrEnum
from functools import lru_cache
from typing import Annotated, Any, Final

from pydantic import (
    AnyHttpUrl,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

DEFAULT_SQLITE_URL: Final = "sqlite+aiosqlite:///./course_app.db"
MIN_SECRET_BYTES: Final = 32  # 256 bits, seed 000's security checklist item 1
WEAK_SECRETS: Final = frozenset(
    {"secret", "changeme", "change-me", "your-secret-key", "jwt-secret", "password", "dev"}
)


class Environment(StrEnum):
    DEVELOPMENT = "development"
    TEST = "test"
    STAGING = "staging"
    PRODUCTION = "production"


#: The database URL schemes the app works with: SQLAlchemy's async drivers it installs.
ASYNC_DRIVERS: Final = frozenset({"sqlite+aiosqlite", "postgresql+asyncpg"})

#: Connections to a SQLite file (``course_app.core.database._sqlite_file_pool`` says why 2).
DEFAULT_SQLITE_CONNECTIONS: Final = 2


class Settings(BaseSettings):
    """Every knob of the app, typed and validated. Environment variables win over ``.env``."""

    model_config = SettingsConfigDict(
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        case_sensitive=False,
        validate_default=True,
    )

    # --- app -----------------------------------------------------------------
    app_name: str = Field(default="Course Shop API", min_length=1, max_length=100)
    environment: Environment = Environment.DEVELOPMENT
    debug: bool = False
    docs_enabled: bool | None = Field(
        default=None, description="Serve /docs and /openapi.json; default: not in production."
    )

    # --- server (used by `python -m course_app`) ----------------------------
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    workers: int = Field(default=1, ge=1, le=64)
    graceful_shutdown_seconds: int = Field(
        default=25, ge=1, le=600, description="In-flight requests' grace after SIGTERM"
    )

    # --- database --------------------------------------------------------------
    database_url: SecretStr | None = Field(
        default=None, description="SQLAlchemy async URL; SQLite file in development if unset."
    )
    db_pool_size: int = Field(
        default=5, ge=1, le=100, description="Server database: connections kept open per worker"
    )
    db_max_overflow: int = Field(
        default=10, ge=0, le=100, description="Server database: extra connections under load"
    )
    db_pool_timeout: float = Field(
        default=30.0, gt=0, le=300, description="Seconds a request waits for a free connection"
    )
    db_sqlite_connections: int = Field(
        default=DEFAULT_SQLITE_CONNECTIONS,
        ge=1,
        le=64,
        description="SQLite file: connections (each one a thread)",
    )
    db_echo: bool = False

    # --- auth ------------------------------------------------------------------
    jwt_secret: SecretStr | None = None
    jwt_algorithm: str = "HS256"
    jwt_issuer: str = Field(default="course-app", min_length=1, max_length=200)
    jwt_audience: str = Field(default="course-app-api", min_length=1, max_length=200)
    access_token_expire_minutes: int = Field(default=15, ge=1, le=30)
    refresh_token_expire_days: int = Field(default=7, ge=1, le=7)
    login_rate_limit: int = Field(default=5, ge=1, le=1000, description="Attempts per window")
    login_rate_window_seconds: int = Field(default=60, ge=1, le=3600)
    register_rate_limit: int = Field(
        default=10, ge=1, le=10_000, description="Sign-ups per address per window"
    )
    register_rate_window_seconds: int = Field(default=600, ge=1, le=86_400)

    # --- cache / rate limiting ---------------------------------------------------
    redis_url: SecretStr | None = None
    cache_enabled: bool = True
    cache_ttl_seconds: int = Field(default=30, ge=1, le=86_400)

    # --- uploads -------------------------------------------------------------------
    upload_dir: str = "./var/uploads"
    max_upload_bytes: int = Field(default=2 * 1024 * 1024, ge=1024, le=100 * 1024 * 1024)
    max_body_bytes: int = Field(
        default=4 * 1024 * 1024, ge=1024, le=200 * 1024 * 1024, description="Whole request body"
    )

    # --- HTTP --------------------------------------------------------------------
    cors_origins: Annotated[list[str], NoDecode] = Field(default_factory=list)
    allowed_hosts: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: ["localhost", "127.0.0.1", "testserver"]
    )

    # --- logging -----------------------------------------------------------------
    log_level: str = "INFO"
    log_json: bool | None = Field(default=None, description="JSON logs; default: not in dev.")

    @field_validator("cors_origins", "allowed_hosts", mode="before")
    @classmethod
    def _split_csv(cls, value: Any) -> Any:
        """Accept ``a,b,c`` as well as a JSON list from the environment."""
        if isinstance(value, str):
            text = value.strip()
            if text.startswith("["):
                return json.loads(text)
            return [item.strip() for item in text.split(",") if item.strip()]
        return value

    @field_validator("allowed_hosts")
    @classmethod
    def _hosts_are_host_patterns(cls, hosts: list[str]) -> list[str]:
        """``shop.example``, ``*.shop.example`` or ``*``: a host, never a URL or a port
        (the ``Host`` check compares host names)."""
        for host in hosts:
            check_host_pattern(host)
            if "/" in host or re.fullmatch(r"[^:]+:\d*", host):
                raise ValueError(f"{host!r} is not a host name: no scheme, path or port")
        return hosts

    @field_validator("cors_origins")
    @classmethod
    def _origins_are_origins(cls, origins: list[str]) -> list[str]:
        """An origin is ``scheme://host[:port]`` and nothing else: browsers send exactly
        that in ``Origin``, and CORS compares strings, so ``https://a.example/`` (trailing
        slash) or a path would silently never match."""
        for origin in origins:
            if origin == "*":
                continue
            url = AnyHttpUrl(origin)  # raises a readable error for "localhost:3000"
            rest = origin.split("://", 1)[1]
            if "/" in rest or "?" in rest or "#" in rest:
                raise ValueError(
                    f"{origin!r} is not an origin: use scheme://host[:port] with no path "
                    "or trailing slash"
                )
            if url.scheme not in {"http", "https"}:
                raise ValueError(f"{origin!r} must use http or https")
        return origins

    @field_validator("database_url")
    @classmethod
    def _async_driver(cls, url: SecretStr | None) -> SecretStr | None:
        """The app talks to its database through an async driver only; a sync URL
        (``postgresql://``, ``sqlite://``) would fail at the first query, far from here.
        The messages never repeat the URL: it may hold a password."""
        if url is None:
            return None
        try:
            driver = make_url(url.get_secret_value()).drivername
        except ArgumentError:
            raise ValueError(
                "is not a database URL (expected e.g. postgresql+asyncpg://user@host/db)"
            ) from None
        if driver not in ASYNC_DRIVERS:
            raise ValueError(
                f"must name an async driver ({' or '.join(sorted(ASYNC_DRIVERS))}), not {driver!r}"
            )
        return url

    @field_validator("log_level")
    @classmethod
    def _known_level(cls, level: str) -> str:
        upper = level.upper()
        if upper not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
            raise ValueError("must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL")
        return upper

    @field_validator("jwt_algorithm")
    @classmethod
    def _hmac_only(cls, algorithm: str) -> str:
        if algorithm not in {"HS256", "HS384", "HS512"}:
            raise ValueError("must be HS256, HS384 or HS512 (asymmetric keys are not configured)")
        return algorithm

    @model_validator(mode="after")
    def _production_guards(self) -> Settings:
        """Fail fast: collect every production problem into one readable error."""
        if self.environment is not Environment.PRODUCTION:
            if self.jwt_secret is None:
                # A fresh random secret per process: safe, but tokens die on restart.
                self.jwt_secret = SecretStr(secrets.token_urlsafe(MIN_SECRET_BYTES))
            return self
        problems: list[str] = []
        if self.jwt_secret is None:
            problems.append("JWT_SECRET is required in production")
        else:
            secret = self.jwt_secret.get_secret_value()
            if len(secret.encode()) < MIN_SECRET_BYTES:
                problems.append(
                    f"JWT_SECRET must be at least {MIN_SECRET_BYTES} bytes (256 bits); "
                    f"got {len(secret.encode())}"
                )
            if secret.lower() in WEAK_SECRETS:
                problems.append("JWT_SECRET is a well-known default value")
        if self.database_url is None:
            problems.append("DATABASE_URL must be set explicitly in production")
        if self.debug:
            problems.append("DEBUG must be false in production")
        if self.docs_enabled:
            problems.append("DOCS_ENABLED must be false in production")
        if "*" in self.cors_origins:
            problems.append("CORS_ORIGINS may not contain '*' in production; list the origins")
        if problems:
            raise ValueError("\n".join(problems))
        return self

    # --- derived values -----------------------------------------------------------
    @property
    def database_url_value(self) -> str:
        if self.database_url is None:
            return DEFAULT_SQLITE_URL
        return self.database_url.get_secret_value()

    @property
    def jwt_secret_value(self) -> str:
        assert self.jwt_secret is not None  # set by the validator in every environment
        return self.jwt_secret.get_secret_value()

    @property
    def serve_docs(self) -> bool:
        if self.docs_enabled is None:
            return self.environment is not Environment.PRODUCTION
        return self.docs_enabled

    @property
    def json_logs(self) -> bool:
        if self.log_json is None:
            return self.environment not in {Environment.DEVELOPMENT, Environment.TEST}
        return self.log_json


class SettingsError(RuntimeError):
    """Raised instead of a raw ``ValidationError``: one line per problem, no traceback noise."""


def check_host_pattern(pattern: str) -> None:
    """``shop.example``, ``*.shop.example`` or ``*``; anything else is a ``ValueError``.
    Shared by the settings and the host-check middleware, which also runs without them."""
    wildcard = pattern.startswith("*") and pattern != "*"
    if "*" in pattern[1:] or (wildcard and not pattern.startswith("*.")):
        raise ValueError(f"{pattern!r}: write a wildcard host as '*.example.com'")


def load_settings(**overrides: Any) -> Settings:
    """Build settings from the environment (and ``overrides``), with a readable error."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        lines = []
        for error in exc.errors(include_url=False):
            message = str(error["msg"]).removeprefix("Value error, ")
            if error["loc"]:
                field = ".".join(str(part) for part in error["loc"]).upper()
                lines.append(f"  - {field}: {message}")
            else:  # a model-level check lists several problems at once
                lines.extend(f"  - {problem}" for problem in message.split("\n"))
        raise SettingsError("Invalid configuration:\n" + "\n".join(lines)) from None


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings, parsed once (seed 000, configuration rule 4)."""
    return load_settings()
