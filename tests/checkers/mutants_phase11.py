"""Plausible wrong answers for lab 11: each must be rejected by its checker.

Each string replaces the body of the exercise's ``### BEGIN SOLUTION`` region.
"""

from __future__ import annotations

MUTANTS: dict[str, list[str]] = {
    "11.1": [
        # added in reading order, outermost first: add_middleware prepends, so it is reversed
        """
        app.add_middleware(RequestContextMiddleware)
        app.add_middleware(TrustedHostMiddleware, allowed_hosts=settings.allowed_hosts)
        app.add_middleware(BodySizeLimitMiddleware, max_bytes=settings.max_body_bytes)
        app.add_middleware(GZipMiddleware, minimum_size=1000)
        """,
        # the seed's order: the host check outermost, its refusals carry no request id
        """
        app.add_middleware(GZipMiddleware, minimum_size=1000)
        app.add_middleware(BodySizeLimitMiddleware, max_bytes=settings.max_body_bytes)
        app.add_middleware(RequestContextMiddleware)
        app.add_middleware(TrustedHostMiddleware, allowed_hosts=settings.allowed_hosts)
        """,
        # the body limit outside the host check: a forged host with a big body gets a 413
        """
        app.add_middleware(GZipMiddleware, minimum_size=1000)
        app.add_middleware(TrustedHostMiddleware, allowed_hosts=settings.allowed_hosts)
        app.add_middleware(BodySizeLimitMiddleware, max_bytes=settings.max_body_bytes)
        app.add_middleware(RequestContextMiddleware)
        """,
        # the right order, but a hard-coded limit instead of the settings'
        """
        app.add_middleware(GZipMiddleware, minimum_size=1000)
        app.add_middleware(BodySizeLimitMiddleware, max_bytes=4 * 1024 * 1024)
        app.add_middleware(TrustedHostMiddleware, allowed_hosts=settings.allowed_hosts)
        app.add_middleware(RequestContextMiddleware)
        """,
    ],
    "11.2": [
        # correct rows, but the cursor is turned back into an OFFSET: as slow as before
        """
        skipped = db.execute(
            "SELECT count(*) FROM products WHERE is_active = 1 AND id <= ?",
            (after_id or 0,),
        ).fetchone()[0]
        rows = db.execute(
            "SELECT id, name, price_cents FROM products WHERE is_active = 1 "
            "ORDER BY id LIMIT ? OFFSET ?",
            (limit + 1, skipped),
        ).fetchall()
        page = rows[:limit]
        return page, (page[-1][0] if len(rows) > limit else None)
        """,
        # >= instead of >: the last row of each page comes back on the next one
        """
        rows = db.execute(
            "SELECT id, name, price_cents FROM products "
            "WHERE is_active = 1 AND id >= ? ORDER BY id LIMIT ?",
            (after_id if after_id is not None else 0, limit + 1),
        ).fetchall()
        page = rows[:limit]
        return page, (page[-1][0] if len(rows) > limit else None)
        """,
        # "a full page means there is more": an empty extra page after an exactly full one
        """
        rows = db.execute(
            "SELECT id, name, price_cents FROM products "
            "WHERE is_active = 1 AND id > ? ORDER BY id LIMIT ?",
            (after_id if after_id is not None else 0, limit),
        ).fetchall()
        return rows, (rows[-1][0] if len(rows) == limit else None)
        """,
        # forgets the is_active filter: hidden products leak into the feed
        """
        rows = db.execute(
            "SELECT id, name, price_cents FROM products WHERE id > ? ORDER BY id LIMIT ?",
            (after_id if after_id is not None else 0, limit + 1),
        ).fetchall()
        page = rows[:limit]
        return page, (page[-1][0] if len(rows) > limit else None)
        """,
    ],
    "11.3": [
        # sniffed and streamed, but stored under the client's file name
        """
        head = await upload.read(CHUNK_SIZE)
        extension = next((e for sig, e in SIGNATURES.items() if head.startswith(sig)), None)
        if extension is None:
            raise HTTPException(415, "Only PNG and JPEG images are accepted")
        target = folder / (upload.filename or "upload")
        target.parent.mkdir(parents=True, exist_ok=True)
        size = 0
        try:
            with target.open("wb") as out:
                chunk = head
                while chunk:
                    size += len(chunk)
                    if size > max_bytes:
                        raise HTTPException(413, "too large")
                    out.write(chunk)
                    chunk = await upload.read(CHUNK_SIZE)
        except BaseException:
            target.unlink(missing_ok=True)
            raise
        return target
        """,
        # the seed's read(): the whole file in memory, then checked
        """
        data = await upload.read()
        extension = next((e for sig, e in SIGNATURES.items() if data.startswith(sig)), None)
        if extension is None:
            raise HTTPException(415, "Only PNG and JPEG images are accepted")
        if len(data) > max_bytes:
            raise HTTPException(413, "too large")
        target = folder / f"{uuid.uuid4().hex}.{extension}"
        target.write_bytes(data)
        return target
        """,
        # trusts the client's content type instead of the bytes
        """
        extension = {"image/png": "png", "image/jpeg": "jpg"}.get(upload.content_type or "")
        if extension is None:
            raise HTTPException(415, "Only PNG and JPEG images are accepted")
        target = folder / f"{uuid.uuid4().hex}.{extension}"
        size = 0
        try:
            with target.open("xb") as out:
                while chunk := await upload.read(CHUNK_SIZE):
                    size += len(chunk)
                    if size > max_bytes:
                        raise HTTPException(413, "too large")
                    out.write(chunk)
        except BaseException:
            target.unlink(missing_ok=True)
            raise
        return target
        """,
        # stops at the limit but leaves the partial file behind
        """
        head = await upload.read(CHUNK_SIZE)
        extension = next((e for sig, e in SIGNATURES.items() if head.startswith(sig)), None)
        if extension is None:
            raise HTTPException(415, "Only PNG and JPEG images are accepted")
        target = folder / f"{uuid.uuid4().hex}.{extension}"
        size = 0
        with target.open("xb") as out:
            chunk = head
            while chunk:
                size += len(chunk)
                if size > max_bytes:
                    raise HTTPException(413, "too large")
                out.write(chunk)
                chunk = await upload.read(CHUNK_SIZE)
        return target
        """,
    ],
    "11.4": [
        # course_app's MemoryRateLimiter idea: the count lives in the instance (the process)
        """
        counts = self.__dict__.setdefault("_counts", {})
        now = time.time()
        started, hits = counts.get(key, (now, 0))
        if now - started >= window:
            started, hits = now, 0
        counts[key] = (started, hits + 1)
        if hits + 1 > limit:
            return max(1, math.ceil(started + window - now))
        return 0
        """,
        # shared and atomic, but the window never ends: locked out for good
        """
        def count() -> int:
            now = time.time()
            with contextlib.closing(self.connect()) as db:
                started, hits = db.execute(
                    "INSERT INTO hits (key, started, count) VALUES (?, ?, 1) "
                    "ON CONFLICT(key) DO UPDATE SET count = count + 1 "
                    "RETURNING started, count",
                    (key, now),
                ).fetchone()
            if hits > limit:
                return max(1, math.ceil(started + window - now))
            return 0

        return await anyio.to_thread.run_sync(count)
        """,
        # off by one: the limit-th attempt is already refused
        """
        def count() -> int:
            now = time.time()
            with contextlib.closing(self.connect()) as db:
                started, hits = db.execute(
                    "INSERT INTO hits (key, started, count) VALUES (:key, :now, 1) "
                    "ON CONFLICT(key) DO UPDATE SET "
                    "count = CASE WHEN :now - started >= :window THEN 1 ELSE count + 1 END, "
                    "started = CASE WHEN :now - started >= :window THEN :now ELSE started END "
                    "RETURNING started, count",
                    {"key": key, "now": now, "window": window},
                ).fetchone()
            if hits >= limit:
                return max(1, math.ceil(started + window - now))
            return 0

        return await anyio.to_thread.run_sync(count)
        """,
    ],
}
