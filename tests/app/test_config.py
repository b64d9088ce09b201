"""Settings: zero-config development, fail-fast production, secrets that never leak."""

from __future__ import annotations

from pathlib import Path

import pytest

from course_app.config import (
    DEFAULT_SQLITE_URL,
    Environment,
    Settings,
    SettingsError,
    get_settings,
    load_settings,
)

STRONG = "k" * 40
PRODUCTION_OK = {
    "environment": "production",
    "jwt_secret": STRONG,
    "database_url": "postgresql+asyncpg://app@db/app",
}


def make(**values: object) -> Settings:
    return load_settings(_env_file=None, **values)


def test_development_needs_no_configuration() -> None:
    settings = make()
    assert settings.environment is Environment.DEVELOPMENT
    assert settings.database_url_value == DEFAULT_SQLITE_URL
    assert len(settings.jwt_secret_value) >= 32  # generated, strong
    assert settings.serve_docs is True
    assert settings.json_logs is False
    assert settings.host == "127.0.0.1"  # not 0.0.0.0 by default


def test_generated_development_secret_differs_per_process_start() -> None:
    assert make().jwt_secret_value != make().jwt_secret_value


def test_production_with_everything_set_starts() -> None:
    settings = make(**PRODUCTION_OK)
    assert settings.serve_docs is False
    assert settings.json_logs is True
    assert settings.database_url_value.startswith("postgresql")


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"jwt_secret": None}, "JWT_SECRET is required in production"),
        ({"jwt_secret": "short"}, "at least 32 bytes"),
        ({"jwt_secret": "changeme"}, "at least 32 bytes"),
        ({"database_url": None}, "DATABASE_URL must be set explicitly"),
        ({"debug": True}, "DEBUG must be false"),
        ({"docs_enabled": True}, "DOCS_ENABLED must be false"),
        ({"cors_origins": "*"}, "may not contain '*'"),
    ],
)
def test_production_refuses_unsafe_configuration(
    overrides: dict[str, object], message: str
) -> None:
    with pytest.raises(SettingsError, match="Invalid configuration") as caught:
        make(**{**PRODUCTION_OK, **overrides})
    assert message in str(caught.value)


def test_production_lists_every_problem_at_once() -> None:
    with pytest.raises(SettingsError) as caught:
        make(environment="production", debug=True, cors_origins="*")
    text = str(caught.value)
    assert text.count("\n  - ") == 4  # secret, database, debug, cors
    assert "Traceback" not in text


def test_well_known_secret_is_refused_even_when_long_enough() -> None:
    with pytest.raises(SettingsError, match="well-known default"):
        make(**{**PRODUCTION_OK, "jwt_secret": "your-secret-key"})


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("port", 0),
        ("port", 70000),
        ("workers", 0),
        ("access_token_expire_minutes", 999),
        ("refresh_token_expire_days", 30),
        ("db_pool_size", 0),
        ("environment", "prod"),
        ("log_level", "LOUD"),
        ("jwt_algorithm", "none"),
        ("jwt_algorithm", "RS256"),
        ("cors_origins", "localhost:3000"),
        ("cors_origins", "https://shop.example/"),
        ("cors_origins", "https://shop.example/app"),
    ],
)
def test_bad_values_are_rejected_with_the_field_named(field: str, value: object) -> None:
    with pytest.raises(SettingsError) as caught:
        make(**{field: value})
    assert field.upper() in str(caught.value)


def test_secrets_never_appear_in_repr_or_dump() -> None:
    settings = make(jwt_secret=STRONG, database_url="postgresql+asyncpg://u:hunter2@db/app")
    for text in (repr(settings), str(settings), settings.model_dump_json()):
        assert STRONG not in text
        assert "hunter2" not in text
    assert settings.jwt_secret_value == STRONG


def test_environment_variables_are_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ENVIRONMENT", "staging")
    monkeypatch.setenv("CORS_ORIGINS", "https://a.example, https://b.example")
    monkeypatch.setenv("PORT", "9000")
    settings = make()
    assert settings.environment is Environment.STAGING
    assert settings.cors_origins == ["https://a.example", "https://b.example"]
    assert settings.port == 9000


def test_cors_origins_accept_a_json_list(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CORS_ORIGINS", '["https://a.example"]')
    assert make().cors_origins == ["https://a.example"]


def test_env_file_is_read_and_environment_wins(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text("APP_NAME=From file\nPORT=7000\n", encoding="utf-8")
    monkeypatch.setenv("PORT", "7001")
    settings = load_settings(_env_file=env_file)
    assert settings.app_name == "From file"
    assert settings.port == 7001


def test_explicit_log_json_and_docs_flags_win() -> None:
    settings = make(log_json=True, docs_enabled=False)
    assert settings.json_logs is True
    assert settings.serve_docs is False


def test_get_settings_is_parsed_once(monkeypatch: pytest.MonkeyPatch) -> None:
    get_settings.cache_clear()
    try:
        first = get_settings()
        monkeypatch.setenv("APP_NAME", "Changed")
        assert get_settings() is first
        get_settings.cache_clear()
        assert get_settings().app_name == "Changed"
    finally:
        get_settings.cache_clear()


def test_env_example_documents_every_setting() -> None:
    example = (Path(__file__).resolve().parents[2] / ".env.example").read_text(encoding="utf-8")
    names = {line.lstrip("# ").split("=", 1)[0] for line in example.splitlines() if "=" in line}
    missing = {name.upper() for name in Settings.model_fields} - names
    assert not missing, f".env.example lacks {sorted(missing)}"
