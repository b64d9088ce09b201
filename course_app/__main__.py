"""Command line of the app.

python -m course_app                      serve with uvicorn (host/port/workers from settings)
python -m course_app migrate              upgrade the database to the latest migration
python -m course_app migrate --to REV     upgrade to REV
python -m course_app migrate --down REV   downgrade to REV ("base" empties the database)
python -m course_app purge-tokens         delete expired refresh tokens (cron / CronJob)
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Coroutine, Sequence
from typing import Any, Final

import uvicorn
from alembic.util import CommandError
from sqlalchemy.exc import DBAPIError

from course_app.config import Settings, SettingsError, get_settings


def serve(settings: Settings) -> int:
    uvicorn.run(
        "course_app.main:create_app",
        factory=True,
        host=settings.host,
        port=settings.port,
        workers=settings.workers,
        # finish in-flight requests after SIGTERM, within the orchestrator's grace period
        # (Kubernetes: 30 s by default, then SIGKILL)
        timeout_graceful_shutdown=settings.graceful_shutdown_seconds,
        proxy_headers=True,
        access_log=False,  # the app writes its own structured access line per request
        log_level=settings.log_level.lower(),
    )
    return 0


async def _migrate(settings: Settings, *, upgrade_to: str | None, downgrade_to: str | None) -> str:
    from course_app.core import migrations
    from course_app.core.database import Database

    database = Database.from_settings(settings)
    try:
        if downgrade_to is not None:
            await migrations.downgrade(database, downgrade_to)
            return f"database downgraded to {downgrade_to}"
        target = upgrade_to or "head"
        await migrations.upgrade(database, target)
        return f"database upgraded to {target}"
    finally:
        await database.dispose()


async def _purge_tokens(settings: Settings) -> str:
    from course_app.core.database import Database, utcnow
    from course_app.features.auth.repository import RefreshTokenRepository

    database = Database.from_settings(settings)
    try:
        async with database.sessions() as session:
            deleted = await RefreshTokenRepository(session).purge_expired(now=utcnow())
            await session.commit()
        return f"deleted {deleted} expired refresh token(s)"
    finally:
        await database.dispose()


_REACHABLE: Final = "Is the database reachable?"
_MIGRATED: Final = (
    "Is the database reachable, and migrated? (run `python -m course_app migrate` first)"
)


def _run(command: str, job: Coroutine[Any, Any, str], *, hint: str) -> int:
    """Run a maintenance command: its result on stdout and 0, or one readable line on
    stderr (never a traceback) and 2 for a request that cannot work (an unknown
    revision), 1 for a database that cannot be reached or is not ready."""
    try:
        print(asyncio.run(job))
    except CommandError as exc:  # Alembic's own errors: "Can't locate revision ..."
        print(f"{command} failed: {exc}", file=sys.stderr)
        return 2
    except (DBAPIError, OSError, TimeoutError) as exc:
        if isinstance(exc, DBAPIError) and exc.orig is not None:
            reason = str(exc.orig).splitlines()[0]
        else:
            reason = str(exc) or type(exc).__name__
        print(f"{command} failed: {reason}. {hint}", file=sys.stderr)
        return 1
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m course_app", description=__doc__)
    sub = parser.add_subparsers(dest="command")
    migrate = sub.add_parser("migrate", help="apply database migrations")
    target = migrate.add_mutually_exclusive_group()
    target.add_argument("--to", help="upgrade to this revision (default: head)")
    target.add_argument("--down", metavar="REV", help="downgrade to REV ('base' = empty)")
    sub.add_parser("purge-tokens", help="delete expired refresh tokens")
    args = parser.parse_args(argv)
    try:
        settings = get_settings()
    except SettingsError as exc:
        print(exc, file=sys.stderr)
        return 2
    if args.command == "migrate":
        job = _migrate(settings, upgrade_to=args.to, downgrade_to=args.down)
        return _run("migrate", job, hint=_REACHABLE)
    if args.command == "purge-tokens":
        return _run("purge-tokens", _purge_tokens(settings), hint=_MIGRATED)
    return serve(settings)


if __name__ == "__main__":
    sys.exit(main())
