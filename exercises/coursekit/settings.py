"""``course_app`` settings for checkers: built from explicit values only.

A checker that read the machine's environment or a ``.env`` file would pass on one laptop
and fail on another (or on CI, which exports ``DATABASE_URL`` and ``REDIS_URL``). Every
checker builds the app's settings through :func:`course_settings`.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any


@contextmanager
def hidden_environment(
    values: Mapping[str, str], *, hide: Iterable[str] = (), prefix: str = ""
) -> Iterator[None]:
    """Hide the variables named in ``hide`` (any case) or starting with ``prefix``, set
    ``values``, and restore ``os.environ`` exactly afterwards (also on an error)."""
    saved = dict(os.environ)
    hidden = {name.lower() for name in hide}
    try:
        for name in list(os.environ):
            lowered = name.lower()
            if lowered in hidden or (prefix and lowered.startswith(prefix.lower())):
                del os.environ[name]
        os.environ.update(values)
        yield
    finally:
        for name in set(os.environ) - set(saved):
            del os.environ[name]
        for name, value in saved.items():
            if os.environ.get(name) != value:
                os.environ[name] = value


def course_settings(**values: Any) -> Any:
    """``course_app`` settings from ``values`` only: no variable of the environment that
    names a setting, no ``.env`` file. Invalid values raise ``SettingsError`` (readable)."""
    from course_app.config import Settings, load_settings

    with hidden_environment({}, hide=Settings.model_fields):
        return load_settings(_env_file=None, **values)
