"""Structured logging with structlog: JSON in production, readable console in development."""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import orjson
import structlog

from course_app.config import Settings


def _dumps(value: object, default: Callable[[Any], Any] | None = None, **_: object) -> str:
    """structlog's JSON serializer, by orjson: several times faster than ``json.dumps``
    for a typical line (bench/README.md). Non-string keys are allowed; anything orjson
    cannot render goes through structlog's fallback (``default=``, its ``repr``)."""
    return orjson.dumps(value, default=default, option=orjson.OPT_NON_STR_KEYS).decode()


class JSONLinesRenderer(structlog.processors.JSONRenderer):
    """The production renderer: one JSON object per line, by orjson. It remembers the
    chain ``configure_logging`` put it at the end of, so ``AccessLog`` can tell when
    exactly that chain is the configured one."""

    def __init__(self) -> None:
        super().__init__(serializer=_dumps)
        self.chain: tuple[structlog.typing.Processor, ...] = ()


def configure_logging(settings: Settings) -> None:
    """Configure structlog once per process. Safe to call again (tests, notebooks)."""
    level = logging.getLevelNamesMapping()[settings.log_level]
    renderer: structlog.typing.Processor = (
        JSONLinesRenderer() if settings.json_logs else structlog.dev.ConsoleRenderer(colors=False)
    )
    processors: list[structlog.typing.Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.StackInfoRenderer(),
        structlog.processors.format_exc_info,
        renderer,
    ]
    if isinstance(renderer, JSONLinesRenderer):
        renderer.chain = tuple(processors)
    structlog.configure(
        processors=processors,
        wrapper_class=structlog.make_filtering_bound_logger(level),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
        cache_logger_on_first_use=False,
    )


def get_logger(name: str) -> structlog.typing.FilteringBoundLogger:
    logger: structlog.typing.FilteringBoundLogger = structlog.get_logger(name)
    return logger


class AccessLog:
    """Writes the access line, the one log line every request produces.

    While the configured chain is exactly the JSON one ``configure_logging`` builds, the
    line is rendered here, with orjson, into the configured output: the same keys in the
    same order and the same values as that chain would give (the call's fields,
    ``event``, the request's contextvars, ``level``, an ISO-8601 UTC ``timestamp``) for
    about half the cost per request (bench/README.md): an access line carries no exception
    and no stack, so it needs none of the chain's other steps (tests/app/test_logging.py
    renders both ways and compares). Under any other configuration (the console renderer
    in development, ``structlog.testing.capture_logs`` in tests, a processor added by
    you) the line goes through structlog unchanged.

    Built from the configuration current at construction, like a bound logger: the
    middleware stack creates one when it is built, at the app's start.
    """

    def __init__(self, name: str = "course_app.access") -> None:
        self._log = get_logger(name).bind()  # bind(): assemble the processor chain once
        config = structlog.get_config()
        processors = config["processors"]
        renderer = processors[-1] if processors else None
        fast = isinstance(renderer, JSONLinesRenderer) and tuple(processors) == renderer.chain
        self._write: Callable[[str], Any] | None = config["logger_factory"]().msg if fast else None
        self._enabled = self._log.is_enabled_for(logging.INFO)

    def info(self, event: str, **fields: Any) -> None:
        if self._write is None:
            self._log.info(event, **fields)
            return
        if not self._enabled:
            return
        fields["event"] = event
        for key, value in structlog.contextvars.get_contextvars().items():
            fields.setdefault(key, value)
        fields["level"] = "info"
        fields["timestamp"] = datetime.now(UTC)
        self._write(orjson.dumps(fields, default=repr, option=_ACCESS_OPTIONS).decode())


# orjson renders a UTC datetime as ISO 8601 with "Z", like TimeStamper(fmt="iso", utc=True)
_ACCESS_OPTIONS = orjson.OPT_NON_STR_KEYS | orjson.OPT_UTC_Z
