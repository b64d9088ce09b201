"""Plausible wrong answers for lab 07: each must be rejected by its checker.

Each string replaces the body of the exercise's ``### BEGIN SOLUTION`` region.
"""

from __future__ import annotations

MUTANTS: dict[str, list[str]] = {
    "7.1": [
        # seed 001's shape: clean-up as the last line, skipped when the block raises
        """
        saved = dict(app.dependency_overrides)
        app.dependency_overrides.update(overrides)
        yield app
        app.dependency_overrides.clear()
        app.dependency_overrides.update(saved)
        """,
        # `finally` with clear(): overrides set by other fixtures vanish too
        """
        app.dependency_overrides.update(overrides)
        try:
            yield app
        finally:
            app.dependency_overrides.clear()
        """,
        # pops only its own keys: a value it replaced is lost, nesting breaks
        """
        app.dependency_overrides.update(overrides)
        try:
            yield app
        finally:
            for dependency in overrides:
                app.dependency_overrides.pop(dependency, None)
        """,
        # restores, but swallows the exception: a failing test turns green
        """
        saved = dict(app.dependency_overrides)
        app.dependency_overrides.update(overrides)
        try:
            yield app
        except Exception:
            pass
        finally:
            app.dependency_overrides.clear()
            app.dependency_overrides.update(saved)
        """,
        # saves a reference, not a copy: "restoring" puts back the modified dict
        """
        saved = app.dependency_overrides
        app.dependency_overrides.update(overrides)
        try:
            yield app
        finally:
            app.dependency_overrides = saved
        """,
    ],
    "7.2": [
        # the password stored as text: nobody can log in, and it is a leak
        """
        user = User(
            email=email or f"user{next(_numbers)}@example.com",
            full_name=full_name,
            hashed_password=password,
            role=role,
            is_active=is_active,
        )
        engine = build_engine(database_url)
        try:
            async with (
                engine.begin() as connection,
                AsyncSession(bind=connection, expire_on_commit=False) as session,
            ):
                session.add(user)
                await session.flush()
        finally:
            await engine.dispose()
        return user
        """,
        # hashes on every call: correct rows, but 0.1 s per user, forever
        """
        user = User(
            email=email or f"user{next(_numbers)}@example.com",
            full_name=full_name,
            hashed_password=hash_password(password),
            role=role,
            is_active=is_active,
        )
        engine = build_engine(database_url)
        try:
            async with (
                engine.begin() as connection,
                AsyncSession(bind=connection, expire_on_commit=False) as session,
            ):
                session.add(user)
                await session.flush()
        finally:
            await engine.dispose()
        return user
        """,
        # a fixed default address: the second user breaks the unique index
        """
        if password not in _hashes:
            _hashes[password] = hash_password(password)
        user = User(
            email=email or "user@example.com",
            full_name=full_name,
            hashed_password=_hashes[password],
            role=role,
            is_active=is_active,
        )
        engine = build_engine(database_url)
        try:
            async with (
                engine.begin() as connection,
                AsyncSession(bind=connection, expire_on_commit=False) as session,
            ):
                session.add(user)
                await session.flush()
        finally:
            await engine.dispose()
        return user
        """,
        # one hash for every password: the second password cannot log in
        """
        if not _hashes:
            _hashes["any"] = hash_password(password)
        user = User(
            email=email or f"user{next(_numbers)}@example.com",
            full_name=full_name,
            hashed_password=_hashes["any"],
            role=role,
            is_active=is_active,
        )
        engine = build_engine(database_url)
        try:
            async with (
                engine.begin() as connection,
                AsyncSession(bind=connection, expire_on_commit=False) as session,
            ):
                session.add(user)
                await session.flush()
        finally:
            await engine.dispose()
        return user
        """,
        # flushed but never committed: the id is set, the row is rolled back
        """
        if password not in _hashes:
            _hashes[password] = hash_password(password)
        user = User(
            email=email or f"user{next(_numbers)}@example.com",
            full_name=full_name,
            hashed_password=_hashes[password],
            role=role,
            is_active=is_active,
        )
        engine = build_engine(database_url)
        try:
            async with AsyncSession(engine, expire_on_commit=False) as session:
                session.add(user)
                await session.flush()
        finally:
            await engine.dispose()
        return user
        """,
        # every user a plain user: role ignored
        """
        if password not in _hashes:
            _hashes[password] = hash_password(password)
        user = User(
            email=email or f"user{next(_numbers)}@example.com",
            full_name=full_name,
            hashed_password=_hashes[password],
            role=Role.USER,
            is_active=is_active,
        )
        engine = build_engine(database_url)
        try:
            async with (
                engine.begin() as connection,
                AsyncSession(bind=connection, expire_on_commit=False) as session,
            ):
                session.add(user)
                await session.flush()
        finally:
            await engine.dispose()
        return user
        """,
    ],
    "7.3": [
        # status codes only: misses the header, the envelope and the error codes
        """
        assert (await client.get("/api/users")).status_code == 401
        assert (await client.get("/api/users", headers=user_headers)).status_code == 403
        assert (await client.get("/api/users", headers=admin_headers)).status_code == 200
        """,
        # refusals only, no happy case: an app that refuses everyone passes
        """
        anonymous = await client.get("/api/users")
        assert anonymous.status_code == 401
        assert anonymous.headers.get("www-authenticate") == "Bearer"
        assert anonymous.json()["error"]["code"] == "UNAUTHORIZED"
        as_user = await client.get("/api/users", headers=user_headers)
        assert as_user.status_code == 403
        assert as_user.json()["error"]["code"] == "FORBIDDEN"
        """,
        # the old HTTPBearer expectation: 403 without a token fails on the real app
        """
        anonymous = await client.get("/api/users")
        assert anonymous.status_code == 403
        as_user = await client.get("/api/users", headers=user_headers)
        assert as_user.status_code == 403
        assert (await client.get("/api/users", headers=admin_headers)).status_code == 200
        """,
        # the anonymous case only: a missing role check goes unnoticed
        """
        anonymous = await client.get("/api/users")
        assert anonymous.status_code == 401
        assert anonymous.headers.get("www-authenticate") == "Bearer"
        assert anonymous.json()["error"]["code"] == "UNAUTHORIZED"
        """,
        # "status >= 400": every refusal looks alike
        """
        assert (await client.get("/api/users")).status_code >= 400
        assert (await client.get("/api/users", headers=user_headers)).status_code >= 400
        assert (await client.get("/api/users", headers=admin_headers)).status_code == 200
        """,
    ],
    "7.4": [
        # the seed's fixture: no lifespan, so no database on request.state
        """
        settings = load_settings(
            _env_file=None,
            environment="test",
            jwt_secret=LAB_SECRET,
            log_level="CRITICAL",
            database_url=f"sqlite+aiosqlite:///{folder / 'test.db'}",
            upload_dir=str(folder / "uploads"),
        )
        app = create_app(settings)
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://testserver"
        ) as client:
            yield client
        """,
        # lifespan running, but the transport gets `app`: the lifespan state never arrives
        """
        settings = load_settings(
            _env_file=None,
            environment="test",
            jwt_secret=LAB_SECRET,
            log_level="CRITICAL",
            database_url=f"sqlite+aiosqlite:///{folder / 'test.db'}",
            upload_dir=str(folder / "uploads"),
        )
        app = create_app(settings)
        async with (
            LifespanManager(app),
            httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app), base_url="http://testserver"
            ) as client,
        ):
            yield client
        """,
        # the seed's base_url: TrustedHostMiddleware answers 400
        """
        settings = load_settings(
            _env_file=None,
            environment="test",
            jwt_secret=LAB_SECRET,
            log_level="CRITICAL",
            database_url=f"sqlite+aiosqlite:///{folder / 'test.db'}",
            upload_dir=str(folder / "uploads"),
        )
        app = create_app(settings)
        async with (
            LifespanManager(app) as manager,
            httpx.AsyncClient(
                transport=httpx.ASGITransport(app=manager.app), base_url="http://test"
            ) as client,
        ):
            yield client
        """,
        # one database for the whole suite: the second test sees the first one's rows
        """
        shared = folder.parent / "suite.db"  # next to every test's folder: shared
        settings = load_settings(
            _env_file=None,
            environment="test",
            jwt_secret=LAB_SECRET,
            log_level="CRITICAL",
            database_url=f"sqlite+aiosqlite:///{shared}",
            upload_dir=str(folder / "uploads"),
        )
        app = create_app(settings)
        async with (
            LifespanManager(app) as manager,
            httpx.AsyncClient(
                transport=httpx.ASGITransport(app=manager.app), base_url="http://testserver"
            ) as client,
        ):
            yield client
        """,
        # the client is never closed
        """
        settings = load_settings(
            _env_file=None,
            environment="test",
            jwt_secret=LAB_SECRET,
            log_level="CRITICAL",
            database_url=f"sqlite+aiosqlite:///{folder / 'test.db'}",
            upload_dir=str(folder / "uploads"),
        )
        app = create_app(settings)
        async with LifespanManager(app) as manager:
            yield httpx.AsyncClient(
                transport=httpx.ASGITransport(app=manager.app), base_url="http://testserver"
            )
        """,
    ],
}
