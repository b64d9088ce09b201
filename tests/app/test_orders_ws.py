"""The order-status WebSocket and the notifiers behind it.

WebSocket tests are synchronous: Starlette's ``TestClient`` runs the app (lifespan
included) on an event loop in a background thread, and ``websocket_connect`` talks to it.
HTTP requests through the same client reach the same app, so a status change made with
``client.patch`` is pushed to a socket opened with ``client.websocket_connect``.

The last tests run *two real uvicorn processes* on one database: with the per-process
``MemoryNotifier`` a change made through one never reaches a socket held by the other;
with ``RedisNotifier`` it does. That is the reason Redis is in the stack.
"""

from __future__ import annotations

import contextlib
import functools
import json
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import ExitStack, asynccontextmanager, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

import anyio
import httpx
import pytest
from fastapi import FastAPI
from redis.asyncio import Redis
from redis.asyncio.client import PubSub
from redis.exceptions import ConnectionError as RedisConnectionError
from starlette.testclient import TestClient
from starlette.websockets import WebSocketDisconnect
from structlog.testing import capture_logs
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect as ws_connect

from course_app.config import Settings, load_settings
from course_app.core.notifications import (
    MemoryNotifier,
    Message,
    NotifierError,
    RedisNotifier,
)
from course_app.core.security import create_token
from course_app.dependencies import get_notifier
from course_app.features.orders.models import Order, OrderStatus
from course_app.features.orders.service import order_channel
from course_app.features.users.models import Role, User
from course_app.main import create_app
from coursekit.server import free_port, serve
from tests.app.conftest import STRONG_SECRET, reset_schema
from tests.app.factories import create_user, insert
from tests.conftest import REDIS_URL, need_service

P = ParamSpec("P")
R = TypeVar("R")
POLICY_VIOLATION = 1008


def run(function: Callable[P, Awaitable[R]], *args: P.args, **kwargs: P.kwargs) -> R:
    """Run one coroutine to completion from a synchronous test."""
    return anyio.run(functools.partial(function, *args, **kwargs))


def token_for(settings: Settings, user: User) -> str:
    return create_token(settings, str(user.id), "access")


@dataclass
class Accounts:
    settings: Settings
    url: str
    alice: User
    bob: User
    admin: User

    @classmethod
    def create(cls, settings: Settings, url: str) -> Accounts:
        return cls(
            settings=settings,
            url=url,
            alice=run(create_user, url),
            bob=run(create_user, url),
            admin=run(create_user, url, role=Role.ADMIN),
        )

    def token(self, user: User) -> str:
        return token_for(self.settings, user)

    def headers(self, user: User) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(user)}"}

    def order(self, user: User, status: OrderStatus = OrderStatus.PENDING) -> int:
        """An order straight into the database (no items: the socket only reports status)."""
        order = Order(user_id=user.id, status=status, total_cents=0, items=[])
        return run(insert, self.url, order).id

    def watch_url(self, order_id: int, user: User | None = None) -> str:
        url = f"/api/orders/{order_id}/ws"
        return url if user is None else f"{url}?token={self.token(user)}"


@dataclass
class World:
    """Accounts plus a TestClient running the app."""

    client: TestClient
    accounts: Accounts

    def __getattr__(self, name: str) -> Any:
        return getattr(self.accounts, name)

    def set_status(self, order_id: int, status: str, user: User | None = None) -> None:
        response = self.client.patch(
            f"/api/orders/{order_id}/status",
            json={"status": status},
            headers=self.accounts.headers(user or self.accounts.admin),
        )
        assert response.status_code == 200, response.text


def make_world(app: FastAPI, settings: Settings, database_url: str) -> Iterator[World]:
    run(reset_schema, database_url)
    with TestClient(app) as client:
        yield World(client, Accounts.create(settings, database_url))


@pytest.fixture
def world(app: FastAPI, settings: Settings, database_url: str) -> Iterator[World]:
    yield from make_world(app, settings, database_url)


def closed_with(session: Any) -> WebSocketDisconnect:
    """Read until the server closes; return the close (code and reason)."""
    with pytest.raises(WebSocketDisconnect) as closed:
        read_forever(session)
    return closed.value


def read_forever(session: Any) -> None:
    while True:
        session.receive_json()


# --- the happy path -------------------------------------------------------------------------
def test_watcher_gets_the_current_status_then_every_change(world: World) -> None:
    order_id = world.order(world.alice)
    with world.client.websocket_connect(world.watch_url(order_id, world.alice)) as ws:
        first = ws.receive_json()
        assert set(first) == {"order_id", "status", "at"}
        assert (first["order_id"], first["status"]) == (order_id, "pending")
        world.set_status(order_id, "paid")
        pushed = ws.receive_json()
        assert (pushed["order_id"], pushed["status"]) == (order_id, "paid")
        assert datetime.fromisoformat(pushed["at"]) >= datetime.fromisoformat(first["at"])
        world.set_status(order_id, "shipped")
        assert ws.receive_json()["status"] == "shipped"


def test_token_in_the_subprotocol_header_is_accepted_and_never_echoed(world: World) -> None:
    order_id = world.order(world.alice)
    with world.client.websocket_connect(
        world.watch_url(order_id), subprotocols=["bearer", world.token(world.alice)]
    ) as ws:
        assert ws.accepted_subprotocol == "bearer"
        assert ws.receive_json()["status"] == "pending"


def test_the_socket_closes_normally_when_the_order_reaches_a_final_status(
    world: World,
) -> None:
    order_id = world.order(world.alice)
    with world.client.websocket_connect(world.watch_url(order_id, world.alice)) as ws:
        assert ws.receive_json()["status"] == "pending"
        world.set_status(order_id, "cancelled", user=world.alice)
        assert ws.receive_json()["status"] == "cancelled"
        assert closed_with(ws).code == 1000


def test_watching_a_finished_order_sends_its_status_and_closes(world: World) -> None:
    order_id = world.order(world.alice, OrderStatus.DELIVERED)
    with world.client.websocket_connect(world.watch_url(order_id, world.alice)) as ws:
        assert ws.receive_json()["status"] == "delivered"
        assert closed_with(ws).code == 1000


def test_an_admin_may_watch_any_order(world: World) -> None:
    order_id = world.order(world.bob)
    with world.client.websocket_connect(world.watch_url(order_id, world.admin)) as ws:
        assert ws.receive_json()["order_id"] == order_id


def test_messages_are_validated_and_deduplicated(world: World) -> None:
    """Garbage on the channel, an event about another order and a repeated status are
    dropped; the socket stays up and the next real change gets through."""
    order_id = world.order(world.alice)
    notifier: MemoryNotifier = world.client.app_state["notifier"]
    channel = order_channel(order_id)
    now = datetime.now(UTC).isoformat()
    with world.client.websocket_connect(world.watch_url(order_id, world.alice)) as ws:
        assert ws.receive_json()["status"] == "pending"
        for junk in (
            {"hello": "world"},
            {"order_id": order_id, "status": "teleported", "at": now},
            {"order_id": order_id + 1, "status": "paid", "at": now},
            {"order_id": order_id, "status": "pending", "at": now},  # what it already sent
        ):
            world.client.portal.call(notifier.publish, channel, junk)
        ws.send_text("clients may talk; the server ignores them")
        world.set_status(order_id, "paid")
        assert ws.receive_json()["status"] == "paid"


def test_leaving_unsubscribes(world: World) -> None:
    order_id = world.order(world.alice)
    notifier: MemoryNotifier = world.client.app_state["notifier"]
    channel = order_channel(order_id)
    with world.client.websocket_connect(world.watch_url(order_id, world.alice)) as ws:
        ws.receive_json()
        assert notifier.subscriber_count(channel) == 1
    for _ in range(100):  # the server notices the disconnect asynchronously
        if notifier.subscriber_count(channel) == 0:
            break
        world.client.portal.call(anyio.sleep, 0.01)
    assert notifier.subscriber_count(channel) == 0


def test_server_shutdown_closes_watchers_with_1012(world: World) -> None:
    order_id = world.order(world.alice)
    notifier: MemoryNotifier = world.client.app_state["notifier"]
    with world.client.websocket_connect(world.watch_url(order_id, world.alice)) as ws:
        ws.receive_json()
        world.client.portal.call(notifier.close)
        assert closed_with(ws).code == 1012  # "service restart": reconnect later


# --- refusals -------------------------------------------------------------------------------
def bad_tokens(world: World) -> dict[str, str]:
    settings = world.settings
    inactive = run(create_user, world.url, is_active=False)
    return {
        "garbage": "not-a-jwt",
        "refresh token": create_token(settings, str(world.alice.id), "refresh"),
        "expired": create_token(
            settings, str(world.alice.id), "access", now=datetime.now(UTC) - timedelta(hours=1)
        ),
        "wrong secret": create_token(
            load_settings(_env_file=None, jwt_secret="y" * 48), str(world.alice.id), "access"
        ),
        "inactive user": token_for(settings, inactive),
        "unknown user": create_token(settings, "424242", "access"),
        "non-numeric subject": create_token(settings, "alice", "access"),
    }


def test_missing_or_bad_tokens_are_closed_with_1008(world: World) -> None:
    order_id = world.order(world.alice)
    attempts = {"no token": world.watch_url(order_id)} | {
        name: f"{world.watch_url(order_id)}?token={token}"
        for name, token in bad_tokens(world).items()
    }
    for name, url in attempts.items():
        with world.client.websocket_connect(url) as ws:
            closed = closed_with(ws)
        assert (closed.code, closed.reason) == (POLICY_VIOLATION, "Not authenticated"), name


def test_a_bad_token_in_the_subprotocol_is_closed_with_1008(world: World) -> None:
    order_id = world.order(world.alice)
    for protocols in (["bearer", "not-a-jwt"], ["bearer"]):
        with world.client.websocket_connect(
            world.watch_url(order_id), subprotocols=protocols
        ) as ws:
            assert ws.accepted_subprotocol == "bearer"
            assert closed_with(ws).code == POLICY_VIOLATION


def test_someone_elses_order_is_closed_exactly_like_a_missing_one(world: World) -> None:
    order_id = world.order(world.alice)
    with world.client.websocket_connect(world.watch_url(order_id, world.bob)) as ws:
        foreign = closed_with(ws)
    with world.client.websocket_connect(world.watch_url(order_id + 1000, world.bob)) as ws:
        missing = closed_with(ws)
    assert (foreign.code, foreign.reason) == (POLICY_VIOLATION, "Order not found")
    assert (missing.code, missing.reason) == (foreign.code, foreign.reason)


@pytest.mark.parametrize("order_id", ["0", "abc", str(2**70)])
def test_a_malformed_order_id_is_refused(world: World, order_id: str) -> None:
    url = f"/api/orders/{order_id}/ws?token={world.token(world.alice)}"
    with pytest.raises(WebSocketDisconnect) as closed, world.client.websocket_connect(url) as ws:
        ws.receive_json()
    assert closed.value.code == POLICY_VIOLATION


class DownNotifier:
    async def publish(self, channel: str, message: Message) -> None:
        raise NotifierError("down")  # pragma: no cover - not used here

    @asynccontextmanager
    async def subscribe(self, channel: str) -> AsyncIterator[AsyncIterator[Message]]:
        raise NotifierError("down")
        yield  # pragma: no cover - makes this an async generator

    async def close(self) -> None:  # pragma: no cover - not used here
        return None


class LosingNotifier:
    """Subscribes fine, then loses its backend (Redis restarted, network cut)."""

    async def publish(self, channel: str, message: Message) -> None:  # pragma: no cover
        return None

    @asynccontextmanager
    async def subscribe(self, channel: str) -> AsyncIterator[AsyncIterator[Message]]:
        async def lost() -> AsyncIterator[Message]:
            raise NotifierError("connection lost")
            yield {}  # pragma: no cover - makes this an async generator

        yield lost()

    async def close(self) -> None:  # pragma: no cover - not used here
        return None


def test_a_lost_subscription_closes_with_1011_after_the_current_status(
    world: World, app: FastAPI
) -> None:
    order_id = world.order(world.alice)
    app.dependency_overrides[get_notifier] = LosingNotifier
    with (
        capture_logs() as logs,
        world.client.websocket_connect(world.watch_url(order_id, world.alice)) as ws,
    ):
        assert ws.receive_json()["status"] == "pending"
        assert closed_with(ws).code == 1011
    assert any(entry["event"] == "order_watch_lost" for entry in logs)


def test_a_notifier_outage_closes_with_1011(world: World, app: FastAPI) -> None:
    order_id = world.order(world.alice)
    app.dependency_overrides[get_notifier] = DownNotifier
    with (
        capture_logs() as logs,
        world.client.websocket_connect(world.watch_url(order_id, world.alice)) as ws,
    ):
        assert closed_with(ws).code == 1011
    assert any(entry["event"] == "order_watch_unavailable" for entry in logs)


# --- MemoryNotifier -------------------------------------------------------------------------
@pytest.mark.anyio
async def test_memory_notifier_delivers_to_every_subscriber_of_the_channel() -> None:
    notifier = MemoryNotifier()
    async with (
        notifier.subscribe("a") as first,
        notifier.subscribe("a") as second,
        notifier.subscribe("b") as other,
    ):
        await notifier.publish("a", {"n": 1})
        await notifier.publish("nobody-listens", {"n": 0})
        assert await anext(first) == {"n": 1}
        assert await anext(second) == {"n": 1}
        await notifier.close()
        assert [m async for m in other] == []  # closed: the stream ends
    assert notifier.subscriber_count("a") == 0
    with pytest.raises(NotifierError):
        async with notifier.subscribe("a"):
            pass  # pragma: no cover


@pytest.mark.anyio
async def test_memory_notifier_drops_the_oldest_message_for_a_slow_subscriber() -> None:
    notifier = MemoryNotifier(max_queue=2)
    async with notifier.subscribe("a") as messages:
        for n in range(5):
            await notifier.publish("a", {"n": n})  # never blocks the publisher
        assert [await anext(messages), await anext(messages)] == [{"n": 3}, {"n": 4}]


@pytest.mark.anyio
async def test_memory_notifier_subscribers_get_their_own_copies() -> None:
    notifier = MemoryNotifier()
    async with notifier.subscribe("a") as first, notifier.subscribe("a") as second:
        await notifier.publish("a", {"tags": []})
        mine = await anext(first)
        mine["tags"].append("mutated")
        assert await anext(second) == {"tags": []}
        with pytest.raises(TypeError):
            await notifier.publish("a", {"not json": object()})


@pytest.mark.anyio
async def test_two_memory_notifiers_do_not_see_each_other() -> None:
    """Two processes = two MemoryNotifiers: an event published in one is lost to the other."""
    worker_a, worker_b = MemoryNotifier(), MemoryNotifier()
    async with worker_b.subscribe("orders:1") as messages:
        await worker_a.publish("orders:1", {"status": "paid"})
        with anyio.move_on_after(0.2) as timeout:
            await anext(messages)
    assert timeout.cancelled_caught


# --- RedisNotifier (needs Redis) ----------------------------------------------------------
@pytest.fixture
async def redis_clients() -> AsyncIterator[tuple[Redis, Redis]]:
    """Two independent clients: two worker processes, as far as Redis can tell."""
    need_service("Redis", "127.0.0.1", 6379)
    first, second = Redis.from_url(REDIS_URL), Redis.from_url(REDIS_URL)
    try:
        yield first, second
    finally:
        await first.aclose()
        await second.aclose()


@pytest.mark.redis
@pytest.mark.anyio
async def test_redis_notifier_crosses_workers(redis_clients: tuple[Redis, Redis]) -> None:
    worker_a = RedisNotifier(redis_clients[0], prefix=f"test-{uuid.uuid4().hex}")
    worker_b = RedisNotifier(redis_clients[1], prefix=worker_a.prefix)
    async with worker_b.subscribe("orders:1") as messages:
        # Junk published straight to the channel is skipped, not fatal.
        await redis_clients[0].publish(f"{worker_a.prefix}:orders:1", b"not json")
        await redis_clients[0].publish(f"{worker_a.prefix}:orders:1", b"[1, 2]")
        await worker_a.publish("orders:2", {"status": "elsewhere"})
        await worker_a.publish("orders:1", {"status": "paid"})
        with anyio.fail_after(5):
            assert await anext(messages) == {"status": "paid"}


@pytest.mark.redis
@pytest.mark.anyio
async def test_redis_notifier_close_ends_subscriptions(redis_clients: tuple[Redis, Redis]) -> None:
    notifier = RedisNotifier(
        redis_clients[0], prefix=f"test-{uuid.uuid4().hex}", poll_interval=0.05
    )
    async with notifier.subscribe("a") as messages:
        with anyio.move_on_after(0.2):  # a few empty polls: the stream just keeps waiting
            await anext(messages)
        await notifier.close()
        with anyio.fail_after(5):
            assert [m async for m in messages] == []
    with pytest.raises(NotifierError):
        async with notifier.subscribe("a"):
            pass  # pragma: no cover


@pytest.mark.redis
@pytest.mark.anyio
async def test_redis_notifier_reports_unconfirmed_and_lost_subscriptions(
    redis_clients: tuple[Redis, Redis], monkeypatch: pytest.MonkeyPatch
) -> None:
    notifier = RedisNotifier(redis_clients[0], prefix=f"test-{uuid.uuid4().hex}")

    async def silence(self: PubSub, **_: Any) -> None:
        return None

    async def cut(self: PubSub, **_: Any) -> None:
        raise RedisConnectionError("Connection reset by peer")

    with monkeypatch.context() as patch:
        patch.setattr(PubSub, "get_message", silence)
        with pytest.raises(NotifierError, match="not confirmed"):
            async with notifier.subscribe("a"):
                pass  # pragma: no cover
    async with notifier.subscribe("a") as messages:
        monkeypatch.setattr(PubSub, "get_message", cut)
        with pytest.raises(NotifierError, match="lost"):
            await anext(messages)


@pytest.mark.anyio
async def test_redis_notifier_reports_an_unreachable_redis_as_notifier_error() -> None:
    redis = Redis.from_url(f"redis://127.0.0.1:{free_port()}/0")  # nothing listens there
    notifier = RedisNotifier(redis)
    try:
        with pytest.raises(NotifierError):
            await notifier.publish("a", {"n": 1})
        with pytest.raises(NotifierError):
            async with notifier.subscribe("a"):
                pass  # pragma: no cover
    finally:
        await redis.aclose()


@pytest.mark.redis
def test_the_websocket_works_through_redis(tmp_path: Path) -> None:
    need_service("Redis", "127.0.0.1", 6379)
    url = f"sqlite+aiosqlite:///{tmp_path / 'redis.db'}"
    settings = load_settings(
        _env_file=None,
        environment="test",
        database_url=url,
        jwt_secret=STRONG_SECRET,
        redis_url=REDIS_URL,
    )
    for world in make_world(create_app(settings), settings, url):  # one iteration
        assert isinstance(world.client.app_state["notifier"], RedisNotifier)
        order_id = world.order(world.alice)
        with world.client.websocket_connect(world.watch_url(order_id, world.alice)) as ws:
            assert ws.receive_json()["status"] == "pending"
            world.set_status(order_id, "paid")
            assert ws.receive_json()["status"] == "paid"


# --- real processes ----------------------------------------------------------------------
@contextmanager
def servers(directory: Path, count: int, *, redis: bool) -> Iterator[tuple[list[str], Accounts]]:
    """``count`` uvicorn processes sharing one SQLite database (and Redis, if asked)."""
    url = f"sqlite+aiosqlite:///{directory / 'shared.db'}"
    env = {"ENVIRONMENT": "test", "DATABASE_URL": url, "JWT_SECRET": STRONG_SECRET}
    if redis:
        env["REDIS_URL"] = REDIS_URL
    settings = load_settings(_env_file=None, environment="test", jwt_secret=STRONG_SECRET)
    with ExitStack() as stack:
        started = [
            stack.enter_context(serve("course_app.main:create_app", factory=True, env=env))
            for _ in range(count)
        ]
        # Each server created the schema at start-up; now fill it.
        yield [s.url.replace("http://", "ws://") for s in started], Accounts.create(settings, url)


Servers = tuple[list[str], Accounts]


@pytest.fixture(scope="module")
def memory_servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Servers]:
    """Two workers without Redis (shared by the tests below: starting one costs ~1-2 s)."""
    with servers(tmp_path_factory.mktemp("memory"), 2, redis=False) as running:
        yield running


def watch_across(running: Servers) -> list[str]:
    """Hold a socket on server A, pay the order through server B: what did A push?"""
    (server_a, server_b), accounts = running
    received: list[str] = []
    order_id = accounts.order(accounts.alice)
    bearer = ["bearer", accounts.token(accounts.alice)]
    with ws_connect(server_a + accounts.watch_url(order_id), subprotocols=bearer) as ws:
        received.append(json.loads(ws.recv(timeout=5))["status"])
        response = httpx.patch(
            server_b.replace("ws://", "http://") + f"/api/orders/{order_id}/status",
            json={"status": "paid"},
            headers=accounts.headers(accounts.admin),
        )
        assert response.status_code == 200
        with contextlib.suppress(TimeoutError):
            received.append(json.loads(ws.recv(timeout=1.5))["status"])
    return received


def test_memory_notifier_misses_changes_made_by_another_process(memory_servers: Servers) -> None:
    assert watch_across(memory_servers) == ["pending"]  # "paid" never arrives


@pytest.mark.redis
def test_redis_notifier_delivers_changes_made_by_another_process(tmp_path: Path) -> None:
    need_service("Redis", "127.0.0.1", 6379)
    with servers(tmp_path, 2, redis=True) as running:
        assert watch_across(running) == ["pending", "paid"]


def test_a_real_client_sees_close_code_1008(memory_servers: Servers) -> None:
    """Over a real network a refusal still carries 1008 and its reason: that is why the
    server accepts before closing (a close before accept is an HTTP 403 that a browser
    reports as a bare 1006)."""
    (server, _), accounts = memory_servers
    order_id = accounts.order(accounts.alice)
    for path, reason in (
        (accounts.watch_url(order_id), "Not authenticated"),
        (f"{accounts.watch_url(order_id)}?token=garbage", "Not authenticated"),
        (accounts.watch_url(order_id, accounts.bob), "Order not found"),
    ):
        with ws_connect(server + path) as ws, pytest.raises(ConnectionClosed) as closed:
            ws.recv(timeout=5)
        assert closed.value.rcvd is not None
        assert (closed.value.rcvd.code, closed.value.rcvd.reason) == (POLICY_VIOLATION, reason)
