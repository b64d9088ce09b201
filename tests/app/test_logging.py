"""The access line: rendered directly under the JSON configuration, through structlog
under any other, and the same line either way."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
import structlog
from structlog.testing import capture_logs

from course_app.config import load_settings
from course_app.core.logging import AccessLog, configure_logging

FIELDS = {"method": "GET", "path": "/api/orders/7", "route": "/api/orders/{order_id}",
          "status": 200, "duration_ms": 1.25}  # fmt: skip


@pytest.fixture(autouse=True)
def _restore_structlog() -> Iterator[None]:
    saved = structlog.get_config()
    yield
    structlog.configure(**saved)
    structlog.contextvars.clear_contextvars()


def configure(tmp_path: Path, *, json_logs: bool, level: str = "INFO") -> io.StringIO:
    """course_app's configuration, its output sent to a buffer."""
    settings = load_settings(
        _env_file=None,
        environment="test",
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'log.db'}",
        jwt_secret="l" * 40,
        log_json=json_logs,
        log_level=level,
    )
    configure_logging(settings)
    buffer = io.StringIO()
    structlog.configure(logger_factory=structlog.PrintLoggerFactory(file=buffer))
    return buffer


def test_json_access_line_is_the_line_structlog_would_render(tmp_path: Path) -> None:
    buffer = configure(tmp_path, json_logs=True)
    structlog.contextvars.bind_contextvars(request_id="r" * 32, user_id=42)
    AccessLog().info("request", **FIELDS)
    structlog.get_logger("course_app.access").info("request", **FIELDS)  # the general path
    fast, general = (json.loads(line) for line in buffer.getvalue().splitlines())
    # same keys in the same order, same values; only the clock moved between the two
    assert list(fast) == list(general)
    assert {**fast, "timestamp": None} == {**general, "timestamp": None}
    assert fast["request_id"] == "r" * 32 and fast["user_id"] == 42  # contextvars merged
    assert fast["timestamp"].endswith("Z")
    assert datetime.fromisoformat(fast["timestamp"]).utcoffset() is not None


def test_a_field_set_in_the_call_wins_over_a_bound_one(tmp_path: Path) -> None:
    buffer = configure(tmp_path, json_logs=True)
    structlog.contextvars.bind_contextvars(status="bound")
    AccessLog().info("request", **FIELDS)
    assert json.loads(buffer.getvalue())["status"] == 200


def test_a_value_json_cannot_hold_is_written_as_its_repr(tmp_path: Path) -> None:
    buffer = configure(tmp_path, json_logs=True)

    class Odd:
        def __repr__(self) -> str:
            return "<odd>"

    AccessLog().info("request", **{**FIELDS, "path": Odd()})
    assert json.loads(buffer.getvalue())["path"] == "<odd>"


def test_above_info_no_access_line_is_written(tmp_path: Path) -> None:
    buffer = configure(tmp_path, json_logs=True, level="WARNING")
    AccessLog().info("request", **FIELDS)
    assert buffer.getvalue() == ""


def test_console_configuration_goes_through_structlog(tmp_path: Path) -> None:
    buffer = configure(tmp_path, json_logs=False)
    AccessLog().info("request", **FIELDS)
    line = buffer.getvalue()
    assert "request" in line and "route=/api/orders/{order_id}" in line
    with pytest.raises(json.JSONDecodeError):
        json.loads(line)  # rendered for humans, not as JSON


def test_capture_logs_sees_the_access_line(tmp_path: Path) -> None:
    configure(tmp_path, json_logs=True)
    with capture_logs() as logs:
        AccessLog().info("request", **FIELDS)  # built inside: it uses the config of its time
    assert logs == [{"event": "request", "log_level": "info", **FIELDS}]


def test_the_level_filter_applies_through_structlog_too(tmp_path: Path) -> None:
    buffer = configure(tmp_path, json_logs=False, level="ERROR")
    AccessLog().info("request", **FIELDS)
    assert buffer.getvalue() == ""


def test_a_processor_added_to_the_json_chain_is_honoured(tmp_path: Path) -> None:
    buffer = configure(tmp_path, json_logs=True)

    def add_service(_: object, __: str, event_dict: dict[str, object]) -> dict[str, object]:
        event_dict["service"] = "shop"
        return event_dict

    processors = structlog.get_config()["processors"]
    structlog.configure(processors=[add_service, *processors])
    AccessLog().info("request", **FIELDS)
    assert json.loads(buffer.getvalue())["service"] == "shop"  # went through the chain
