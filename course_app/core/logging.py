"""Structured logging with structlog: JSON in production, readable console in development."""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from typing import Any

import orjson
import structlog

from course_app.config import Settings


def _dumps(value: object, default: Callable[[Any], Any] | None = None, **_: object) -> str:
    """structlog's JSON serializer, by orjson: the access line is written on every request,
    and orjson renders it several times faster than ``json.dumps`` (bench/README.md).
    Non-string keys are allowed; anything orjson cannot render goes through structlog's
    fallback (``default=``, its ``repr``)."""
    return orjson.dumps(value, default=default, option=orjson.OPT_NON_STR_KEYS).decode()


def configure_logging(settings: Settings) -> None:
    """Configure structlog once per process. Safe to call again (tests, notebooks)."""
    level = logging.getLevelNamesMapping()[settings.log_level]
    renderer: structlog.typing.Processor = (
        structlog.processors.JSONRenderer(serializer=_dumps)
        if settings.json_logs
        else structlog.dev.ConsoleRenderer(colors=False)
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.StackInfoRenderer(),
            structlog.processors.format_exc_info,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(level),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
        cache_logger_on_first_use=False,
    )


def get_logger(name: str) -> structlog.typing.FilteringBoundLogger:
    logger: structlog.typing.FilteringBoundLogger = structlog.get_logger(name)
    return logger
