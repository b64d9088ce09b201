"""Checkers of lab 11, advanced patterns.

11.1 builds a real app from ``course_app``'s layers and calls the learner's
``install_edge``; 11.2 builds a 100,000-row SQLite table in memory and times the
learner's page against ``OFFSET``; 11.3 calls ``save_image`` directly (tracemalloc,
a spy on ``read``) and behind a FastAPI route; 11.4 shares one SQLite file between two
limiter instances, then between two real ``course_app`` instances. Everything is written
under a temporary directory; logging is kept at CRITICAL.
"""

from __future__ import annotations

import asyncio
import re
import sqlite3
import statistics
import tempfile
import time
import tracemalloc
from collections.abc import Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from tempfile import SpooledTemporaryFile
from typing import Annotated, Any

from fastapi import File, UploadFile  # module level: the route below resolves its annotations here

from coursekit.checking import Checker, exercise
from coursekit.settings import course_settings


# --- shared helpers ---------------------------------------------------------------------------
@contextmanager
def _workdir() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="lab11-check-") as name:
        yield Path(name)


def _settings(data: Path, **values: Any) -> Any:
    base: dict[str, Any] = {
        "environment": "test",
        "app_name": "Lab 11 Shop",
        "database_url": f"sqlite+aiosqlite:///{data}/lab.db",
        "log_level": "CRITICAL",
        "cors_origins": [],
        "allowed_hosts": ["testserver", "localhost", "127.0.0.1"],
        "redis_url": None,
        "upload_dir": str(data / "uploads"),
    }
    base.update(values)
    return course_settings(**base)


def _error_code(response: Any) -> Any:
    try:
        body = response.json()
    except ValueError:
        return f"(not JSON) {response.text[:60]!r}"
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        return body["error"].get("code")
    return body


# --- 11.1 -------------------------------------------------------------------------------------
EDGE_ORDER = [
    "RequestContextMiddleware",
    "TrustedHostMiddleware",
    "BodySizeLimitMiddleware",
    "GZipMiddleware",
]
BODY_LIMIT = 64 * 1024


def _edge_app(settings: Any, install_edge: Any) -> Any:
    from fastapi import FastAPI

    from course_app.core.errors import install_error_handlers
    from course_app.features.health.router import include_health
    from course_app.features.products.router import include_products
    from course_app.main import build_lifespan

    app = FastAPI(title=settings.app_name, lifespan=build_lifespan(settings))
    app.state.settings = settings
    install_error_handlers(app)
    install_edge(app, settings)
    include_health(app)
    include_products(app)
    return app


@exercise("11.1", "install_edge: the middleware order of a real app", time_limit=40)
def _check_11_1(c: Checker, install_edge: Any) -> None:
    from course_app.core.logging import configure_logging

    if not c.that(
        "install_edge is a function",
        lambda: install_edge,
        callable,
        expected="a callable (app, settings) -> None",
        hint="Define def install_edge(app, settings): ...",
        show=lambda value: type(value).__name__,
    ):
        return
    with _workdir() as work:
        settings = _settings(work, max_body_bytes=BODY_LIMIT)
        configure_logging(settings)
        ok, app = c.run(
            "install_edge(app, settings) runs on a course_app app",
            lambda: _edge_app(settings, install_edge),
            expected="no exception",
            hint="Call app.add_middleware(MiddlewareClass, **options) four times.",
            show=lambda _app: "ran",
        )
        if not ok:
            return
        c.equal(
            "app.user_middleware, outermost first",
            lambda: [m.cls.__name__ for m in app.user_middleware],
            EDGE_ORDER,
            hint="app.add_middleware *prepends*: the last one you add is the outermost. Add "
            "GZip first and RequestContextMiddleware last.",
        )
        client = c.client(app)
        forged = client.get("/health", headers={"Host": "evil.example"})
        c.equal(
            "a forged Host is refused: status and error code",
            (forged.status_code, _error_code(forged)),
            (400, "INVALID_HOST"),
            hint="TrustedHostMiddleware(allowed_hosts=settings.allowed_hosts) must be in the "
            "stack.",
        )
        c.that(
            "the forged-Host refusal carries X-Request-ID",
            forged.headers.get("x-request-id"),
            lambda value: bool(value),
            expected="an X-Request-ID header",
            hint="RequestContextMiddleware must be *outside* (added after) the host check: "
            "a refusal it does not wrap has no id and no access-log line.",
        )
        big = client.post(
            "/api/products",
            content=b"{" + b" " * (BODY_LIMIT + 10) + b"}",
            headers={"Content-Type": "application/json"},
        )
        c.equal(
            f"a {BODY_LIMIT + 12}-byte body (limit: settings.max_body_bytes = {BODY_LIMIT})",
            (big.status_code, _error_code(big)),
            (413, "PAYLOAD_TOO_LARGE"),
            hint="BodySizeLimitMiddleware(max_bytes=settings.max_body_bytes): take the limit "
            "from the settings, not a constant.",
        )
        c.that(
            "the 413 carries X-Request-ID",
            big.headers.get("x-request-id"),
            lambda value: bool(value),
            expected="an X-Request-ID header",
            hint="RequestContextMiddleware must be the outermost of the four.",
        )
        both = client.post(
            "/api/products",
            content=b"{" + b" " * (BODY_LIMIT + 10) + b"}",
            headers={"Host": "evil.example", "Content-Type": "application/json"},
        )
        c.equal(
            "a forged Host with a huge body is refused as INVALID_HOST (the host check runs "
            "before the body limit)",
            (both.status_code, _error_code(both)),
            (400, "INVALID_HOST"),
            hint="A request not meant for this site is refused as such before anything looks "
            "at its body: the host check goes outside the body limit.",
        )
        large = client.get("/openapi.json", headers={"Accept-Encoding": "gzip"})
        c.equal(
            "a large response is gzipped and still has X-Request-ID",
            (
                large.status_code,
                large.headers.get("content-encoding"),
                bool(large.headers.get("x-request-id")),
            ),
            (200, "gzip", True),
            hint="GZipMiddleware(minimum_size=1000) compresses responses over 1000 bytes when "
            "the client accepts gzip.",
        )


# --- 11.2 -------------------------------------------------------------------------------------
TABLE_ROWS = 100_000


def _catalogue(rows: int, inactive_every: int = 7) -> sqlite3.Connection:
    db = sqlite3.connect(":memory:", check_same_thread=False)
    db.execute(
        "CREATE TABLE products (id INTEGER PRIMARY KEY, name TEXT NOT NULL, "
        "price_cents INTEGER NOT NULL, is_active INTEGER NOT NULL)"
    )
    db.executemany(
        "INSERT INTO products (name, price_cents, is_active) VALUES (?, ?, ?)",
        (
            (f"product {i:06d}", 100 + i % 997, int(i % inactive_every != 0))
            for i in range(1, rows + 1)
        ),
    )
    db.commit()
    return db


def _active(db: sqlite3.Connection) -> list[tuple[int, str, int]]:
    return [
        tuple(row)
        for row in db.execute(
            "SELECT id, name, price_cents FROM products WHERE is_active = 1 ORDER BY id"
        )
    ]


def _walk(keyset_page: Any, db: sqlite3.Connection, limit: int, max_pages: int) -> Any:
    """Every page from the start: (all rows seen, page sizes, cursor after the last page)."""
    seen: list[Any] = []
    sizes: list[int] = []
    cursor = None
    for _ in range(max_pages):
        rows, cursor = keyset_page(db, cursor, limit)
        rows = [tuple(row) for row in rows]
        seen += rows
        sizes.append(len(rows))
        if cursor is None:
            break
    return seen, sizes, cursor


def _median_ms(action: Any, runs: int = 9) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


@exercise("11.2", "keyset_page: a deep page as fast as the first", time_limit=60)
def _check_11_2(c: Checker, keyset_page: Any) -> None:
    if not c.that(
        "keyset_page is a function",
        lambda: keyset_page,
        callable,
        expected="a callable (db, after_id, limit) -> (rows, next_cursor)",
        hint="Define def keyset_page(db, after_id, limit): ...",
        show=lambda value: type(value).__name__,
    ):
        return
    small = _catalogue(40, inactive_every=4)  # 30 active rows: three full pages of 10
    active = _active(small)
    ok, first = c.run(
        "the first page of 10 (after_id=None)",
        lambda: keyset_page(small, None, 10),
        accept=lambda value: (
            [tuple(r) for r in value[0]] == active[:10] and value[1] == active[9][0]
        ),
        expected=f"(the first 10 active rows, ids {[r[0] for r in active[:10]]}, next_cursor="
        f"{active[9][0]})",
        hint="SELECT id, name, price_cents FROM products WHERE is_active = 1 AND id > ? "
        "ORDER BY id LIMIT ?  (0 as the lower bound when after_id is None); skip the "
        "inactive rows.",
    )
    if not ok:
        return
    c.equal(
        "the next page starts right after the cursor (no row twice)",
        lambda: [r[0] for r in keyset_page(small, first[1], 10)[0]],
        [r[0] for r in active[10:20]],
        hint="id > after_id, not >=: the row the cursor points at was on the previous page.",
    )
    c.equal(
        "walking 30 active rows with limit 10: page sizes and the last next_cursor",
        lambda: _walk(keyset_page, small, 10, 6)[1:],
        ([10, 10, 10], None),
        hint="The last page is exactly full here: fetch limit + 1 rows; next_cursor is set only "
        "when the extra row came back.",
    )
    c.equal(
        "a cursor past the end gives an empty page and no cursor",
        lambda: (
            [tuple(r) for r in keyset_page(small, 10_000, 10)[0]],
            keyset_page(small, 10_000, 10)[1],
        ),
        ([], None),
        hint="No rows: return ([], None).",
    )
    small.execute("DELETE FROM products WHERE id IN (13, 14, 15, 22)")  # gaps in the ids
    gapped = _active(small)
    c.equal(
        "after deleting rows (gaps in the ids), a walk with limit 7 sees each active row once",
        lambda: _walk(keyset_page, small, 7, 10)[0],
        gapped,
        hint="Do not compute positions from ids; compare ids: WHERE id > :after_id.",
        show=lambda rows: (
            f"{len(rows)} rows, ids {[r[0] for r in rows]}"
            if isinstance(rows, list)
            else repr(rows)
        ),
    )
    _check_11_2_speed(c, keyset_page)


def _check_11_2_speed(c: Checker, keyset_page: Any) -> None:
    big = _catalogue(TABLE_ROWS)
    deep_id = big.execute(
        "SELECT id FROM products WHERE is_active = 1 ORDER BY id LIMIT 1 OFFSET ?", (80_000,)
    ).fetchone()[0]
    expected_rows = big.execute(
        "SELECT id, name, price_cents FROM products WHERE is_active = 1 AND id > ? "
        "ORDER BY id LIMIT 20",
        (deep_id,),
    ).fetchall()
    ok, _ = c.run(
        f"a deep page of the {TABLE_ROWS:,}-row table (after_id={deep_id}, limit 20)",
        lambda: keyset_page(big, deep_id, 20),
        accept=lambda value: [tuple(r) for r in value[0]] == expected_rows,
        expected="the 20 active rows after that id",
        hint="The same query as for the small table.",
        show=lambda value: (
            f"{len(value[0])} rows starting at id {value[0][0][0]}"
            if value and value[0]
            else repr(value)
        ),
    )
    if not ok:
        return
    offset_ms = _median_ms(
        lambda: big.execute(
            "SELECT id, name, price_cents FROM products WHERE is_active = 1 ORDER BY id "
            "LIMIT 21 OFFSET 80001"
        ).fetchall()
    )
    deep_ms = _median_ms(lambda: keyset_page(big, deep_id, 20))
    first_ms = _median_ms(lambda: keyset_page(big, None, 20))
    c.that(
        "measured now: your deep page vs the same page by OFFSET",
        (deep_ms, offset_ms, first_ms),
        lambda t: t[0] * 4 < t[1],
        expected="your deep page at least 4x faster than OFFSET 80001",
        hint="OFFSET (or a count(*) of the rows before the cursor) reads every skipped row. "
        "WHERE id > :after_id lets the primary-key index jump straight to the page.",
        show=lambda t: f"yours {t[0]:.3f} ms (first page {t[2]:.3f} ms), OFFSET {t[1]:.3f} ms",
    )


# --- 11.3 -------------------------------------------------------------------------------------
PNG = b"\x89PNG\r\n\x1a\n"
JPEG = b"\xff\xd8\xff\xe0"
STORED_NAME = re.compile(r"[0-9a-f]{32}\.(png|jpg)")


class _SpyUpload:
    """Wraps an UploadFile and records the size of every read()."""

    def __init__(self, upload: Any) -> None:
        self._upload = upload
        self.reads: list[int] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self._upload, name)

    async def read(self, size: int = -1) -> bytes:
        self.reads.append(size)
        data: bytes = await self._upload.read(size)
        return data


def _upload(
    data: bytes,
    filename: str = "photo.png",
    content_type: str = "image/png",
    folder: Path | None = None,
) -> Any:
    from starlette.datastructures import Headers

    where = None if folder is None else str(folder)
    spool: Any = SpooledTemporaryFile(max_size=2**20, dir=where)  # noqa: SIM115 - UploadFile owns it
    spool.write(data)
    spool.seek(0)
    return UploadFile(
        spool, size=len(data), filename=filename, headers=Headers({"content-type": content_type})
    )


def _files(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())


def _save(save_image: Any, upload: Any, folder: Path, max_bytes: int) -> Any:
    return asyncio.run(save_image(upload, folder, max_bytes))


def _status_of(action: Any) -> Any:
    from fastapi import HTTPException

    try:
        value = action()
    except HTTPException as exc:
        return f"HTTPException {exc.status_code}"
    return f"returned {value!r}"


@exercise("11.3", "save_image: streamed, sniffed, generated names", time_limit=60)
def _check_11_3(c: Checker, save_image: Any) -> None:
    if not c.that(
        "save_image is an async function",
        lambda: save_image,
        lambda f: callable(f) and asyncio.iscoroutinefunction(f),
        expected="async def save_image(upload, folder, max_bytes)",
        hint="Define it with async def: UploadFile.read is a coroutine.",
        show=lambda value: type(value).__name__,
    ):
        return
    with _workdir() as work:
        site = work / "site"
        folder = site / "uploads"
        folder.mkdir(parents=True)
        spools = work / "spool"
        spools.mkdir()
        data = PNG + bytes(range(256)) * 40
        spy = _SpyUpload(_upload(data, filename="../../evil.png", folder=spools))
        ok, path = c.run(
            "a PNG named '../../evil.png' is stored",
            lambda: _save(save_image, spy, folder, 1024 * 1024),
            accept=lambda p: isinstance(p, Path) and p.is_file(),
            expected="the Path of the stored file",
            hint="Return folder / f'{uuid.uuid4().hex}.png' after writing the bytes to it.",
        )
        if c.cases[-1].not_started or not ok:
            return
        c.equal(
            "nothing written outside the upload folder",
            lambda: [f for f in _files(work) if not f.startswith(("site/uploads/", "spool/"))],
            [],
            hint="Never build a path from upload.filename: the client chooses it.",
        )
        c.that(
            "the stored name is generated: <32 hex>.png, directly in the folder",
            lambda: (path.parent.resolve() == folder.resolve(), path.name),
            lambda v: v[0] and bool(STORED_NAME.fullmatch(v[1])) and v[1].endswith(".png"),
            expected="(True, '<uuid4().hex>.png')",
            hint="name = uuid.uuid4().hex + '.' + the extension of the *detected* type.",
        )
        c.equal(
            "the stored bytes are the uploaded bytes",
            lambda: path.read_bytes() == data,
            True,
            hint="Write every chunk, the first one (used for sniffing) included.",
        )
        c.that(
            "every read asked for at most CHUNK_SIZE bytes",
            lambda: spy.reads,
            lambda reads: bool(reads) and all(0 < size <= 64 * 1024 for size in reads),
            expected="read(65536) calls only, never read() or read(-1)",
            hint="await upload.read(CHUNK_SIZE) in a loop until it returns b''.",
        )
        _check_11_3_refusals(c, save_image, folder, spools)
        _check_11_3_memory(c, save_image, work)
        _check_11_3_route(c, save_image, work)


def _check_11_3_refusals(c: Checker, save_image: Any, folder: Path, spools: Path) -> None:
    for stored in folder.iterdir():
        stored.unlink()
    jpeg = _save(
        save_image,
        _upload(JPEG + b"\0" * 500, "face.png", "image/png", spools),
        folder,
        1024 * 1024,
    )
    c.that(
        "a JPEG sent as 'face.png' / image/png is stored as .jpg",
        lambda: jpeg.name,
        lambda name: bool(STORED_NAME.fullmatch(name)) and name.endswith(".jpg"),
        expected="'<32 hex>.jpg'",
        hint="The extension comes from the bytes (SIGNATURES), not from the name or the "
        "content type.",
    )
    jpeg.unlink()
    c.equal(
        "a shell script sent as image/png",
        lambda: _status_of(
            lambda: _save(
                save_image,
                _upload(b"#!/bin/sh\necho owned\n", "x.png", "image/png", spools),
                folder,
                1024 * 1024,
            )
        ),
        "HTTPException 415",
        hint="upload.content_type is what the client claims. Check the first bytes against "
        "SIGNATURES and raise HTTPException(415, ...) when none matches.",
    )
    c.equal(
        "an SVG sent as image/png",
        lambda: _status_of(
            lambda: _save(
                save_image,
                _upload(b"<svg xmlns='http://www.w3.org/2000/svg'/>", "x.svg", "image/png", spools),
                folder,
                1024 * 1024,
            )
        ),
        "HTTPException 415",
        hint="Only PNG and JPEG signatures are accepted.",
    )
    limit = 100_000
    c.equal(
        f"a 300,000-byte PNG with max_bytes={limit}",
        lambda: _status_of(
            lambda: _save(
                save_image, _upload(PNG + b"\0" * 300_000, "big.png", folder=spools), folder, limit
            )
        ),
        "HTTPException 413",
        hint="Count the bytes as you copy; raise HTTPException(413, ...) as soon as the total "
        "passes max_bytes.",
    )
    c.equal(
        "nothing is left in the folder after the refusals (no partial file)",
        lambda: _files(folder),
        [],
        hint="Delete the partly written file before re-raising (try/except BaseException: "
        "target.unlink(missing_ok=True); raise).",
    )
    exact = PNG + b"\0" * (limit - len(PNG))
    c.that(
        f"a PNG of exactly max_bytes ({limit}) is accepted",
        lambda: _save(save_image, _upload(exact, "exact.png", folder=spools), folder, limit),
        lambda p: isinstance(p, Path) and p.stat().st_size == limit,
        expected="stored, all 100000 bytes",
        hint="Refuse only when the total is *greater* than max_bytes.",
    )


def _check_11_3_memory(c: Checker, save_image: Any, work: Path) -> None:
    folder = work / "memory"
    folder.mkdir()
    size = 8 * 1024 * 1024
    upload = _upload(PNG + b"\0" * (size - len(PNG)), "big.png", folder=work)

    def peak() -> float:
        tracemalloc.start()
        try:
            _save(save_image, upload, folder, 16 * 1024 * 1024)
            return tracemalloc.get_traced_memory()[1] / 2**20
        finally:
            tracemalloc.stop()

    c.that(
        "measured now: peak Python memory while storing an 8 MiB image",
        peak,
        lambda mib: mib < 2,
        expected="under 2 MiB (the file is copied in 64 KiB chunks)",
        hint="read() without a size loads the whole file into one bytes object. Copy "
        "chunk by chunk.",
        show=lambda mib: f"{mib:.2f} MiB",
    )


def _check_11_3_route(c: Checker, save_image: Any, work: Path) -> None:
    from fastapi import FastAPI

    folder = work / "route" / "a" / "b" / "avatars"  # deep: ../../../ stays in the temp dir
    folder.mkdir(parents=True)
    app = FastAPI()

    @app.post("/avatars", status_code=201)
    async def upload_avatar(file: Annotated[UploadFile, File()]) -> dict[str, str]:
        path = await save_image(file, folder, 200_000)
        return {"name": path.name}

    client = c.client(app)
    names = ["../../../evil.png", "x/../../evil.png", "..\\..\\evil.png"]
    answers = [
        client.post("/avatars", files={"file": (name, PNG + b"\0" * 100, "image/png")})
        for name in names
    ]
    c.that(
        "over HTTP: three hostile file names are each stored under a generated name",
        lambda: [(a.status_code, a.json().get("name", "")) for a in answers],
        lambda got: all(s == 201 and STORED_NAME.fullmatch(n) for s, n in got),
        expected="[(201, '<32 hex>.png')] x 3",
        hint="The route returns path.name; it must be uuid4().hex + '.png' whatever the "
        "client called the file.",
    )
    c.equal(
        "over HTTP: files on disk, all inside the folder",
        lambda: (
            len(_files(folder)),
            [f for f in _files(work / "route") if not f.startswith("a/b/avatars/")],
        ),
        (3, []),
        hint="Store directly in `folder`.",
    )
    spoof = client.post("/avatars", files={"file": ("a.png", b"GIF89a not allowed", "image/png")})
    c.equal(
        "over HTTP: a GIF claiming image/png",
        spoof.status_code,
        415,
        hint="Raise HTTPException(415, ...): FastAPI turns it into the response.",
    )


# --- 11.4 -------------------------------------------------------------------------------------
def _concurrent_allowed(limiters: list[Any], key: str, attempts: int, limit: int) -> int:
    async def run() -> int:
        results = await asyncio.gather(
            *(limiters[i % len(limiters)].hit(key, limit, 60) for i in range(attempts))
        )
        return sum(result == 0 for result in results)

    return asyncio.run(run())


def _with_limiter(app: Any, limiter: Any) -> Any:
    """Replace the rate limiter the app's lifespan hands to requests."""
    original = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(running: Any) -> Any:
        async with original(running) as state:
            yield {**state, "rate_limiter": limiter}

    app.router.lifespan_context = lifespan
    return app


@exercise("11.4", "SqliteRateLimiter: one count for every worker", time_limit=90)
def _check_11_4(c: Checker, limiter_class: Any) -> None:
    if not c.that(
        "SqliteRateLimiter is a class",
        lambda: limiter_class,
        lambda cls: isinstance(cls, type),
        expected="a class",
        hint="Keep the class of the exercise cell; write the body of hit().",
        show=lambda value: type(value).__name__,
    ):
        return
    with _workdir() as work:
        path = work / "limits.db"
        a, b = limiter_class(path), limiter_class(path)
        ok, _first = c.run(
            "the first hit of a key is allowed",
            lambda: asyncio.run(a.hit("login:first", 3, 60)),
            accept=lambda value: value == 0,
            expected="0",
            hint="Return 0 while the count is at most the limit.",
        )
        if c.cases[-1].not_started or not ok:
            return
        pick = {"a": a, "b": b}
        order = ["a", "b", "a", "b", "a", "b", "a", "b"]
        c.that(
            "two instances on one file (worker A, worker B, alternately), limit 5: 8 hits",
            lambda: asyncio.run(_alternate(pick, order, "login:shared", 5, 60)),
            lambda got: got[:5] == [0] * 5 and all(1 <= w <= 60 for w in got[5:]),
            expected="[0, 0, 0, 0, 0, w, w, w] with 1 <= w <= 60 (seconds to wait)",
            hint="The first 5 hits are allowed (0), whichever instance takes them, and only "
            "those: keep the count in the file, never in the instance (each instance is a "
            "separate process in production), and refuse only when count > limit.",
        )
        c.equal(
            "another key has its own count",
            lambda: asyncio.run(a.hit("login:other", 5, 60)),
            0,
            hint="Use the key as the primary key of the row.",
        )
        c.that(
            "window=1: after 3 hits over a limit of 2, wait 1.1 s: the next hit starts a new "
            "window",
            lambda: asyncio.run(_after_window(a, b)),
            lambda got: got[0][:2] == [0, 0] and got[0][2] >= 1 and got[1] == 0,
            expected="([0, 0, >=1], then 0)",
            hint="When now - started >= window, the UPSERT sets count = 1 and started = now.",
        )
        c.equal(
            "40 concurrent hits from two instances, limit 15: allowed",
            lambda: _concurrent_allowed(
                [limiter_class(path), limiter_class(path)], "login:burst", 40, 15
            ),
            15,
            hint="Count in one atomic statement (an UPSERT with RETURNING): a SELECT followed "
            "by an UPDATE lets two requests read the same count.",
        )
        _check_11_4_real_app(c, limiter_class, work)


async def _alternate(
    pick: dict[str, Any], order: list[str], key: str, limit: int, window: int
) -> list[int]:
    return [await pick[name].hit(key, limit, window) for name in order]


async def _after_window(a: Any, b: Any) -> tuple[list[int], int]:
    first = [
        await a.hit("login:window", 2, 1),
        await b.hit("login:window", 2, 1),
        await a.hit("login:window", 2, 1),
    ]
    await asyncio.sleep(1.1)
    return first, await b.hit("login:window", 2, 1)


def _check_11_4_real_app(c: Checker, limiter_class: Any, work: Path) -> None:
    from course_app.main import create_app

    data = work / "app"
    data.mkdir()
    settings = _settings(data, login_rate_limit=5, login_rate_window_seconds=60)
    shared = work / "shared-limits.db"
    workers = [
        c.client(_with_limiter(create_app(settings), limiter_class(shared))) for _ in range(2)
    ]
    statuses = []
    retry_after = []
    for attempt in range(8):
        answer = workers[attempt % 2].post(
            "/api/auth/login", json={"email": "alice@example.com", "password": "a guess"}
        )
        statuses.append(answer.status_code)
        retry_after.append(answer.headers.get("retry-after"))
    c.equal(
        "two real course_app instances sharing your limiter: 8 wrong passwords, alternately",
        statuses,
        [401] * 5 + [429] * 3,
        hint="Five attempts may be checked (401), then 429 — whichever instance answers. "
        "With course_app's MemoryRateLimiter each instance would allow five.",
    )
    c.that(
        "the 429 answers carry Retry-After",
        retry_after[5:],
        lambda values: all(v is not None and v.isdigit() and 1 <= int(v) <= 60 for v in values),
        expected="Retry-After between 1 and 60 on each 429",
        hint="hit() returns the seconds until the window ends; course_app puts it in Retry-After.",
    )
