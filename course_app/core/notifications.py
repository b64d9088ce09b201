"""Publish/subscribe for server-pushed events (order status changes on a WebSocket).

One small interface, two implementations:

* :class:`MemoryNotifier` keeps subscribers in this process (asyncio queues). It is the
  zero-configuration default and is exactly right for one process. With ``--workers 2``
  it is wrong: a status change handled by worker A never reaches a WebSocket held by
  worker B (lesson 11 shows it failing, then fixes it).
* :class:`RedisNotifier` publishes through Redis pub/sub, so every worker (and every
  host) sees every event. It is used whenever ``REDIS_URL`` is set.

Messages are JSON objects. Both implementations serialise on ``publish`` and decode per
subscriber, so a message that would not survive Redis fails the same way in development,
and no two subscribers ever share one mutable ``dict``.

Delivery is *at most once*, like Redis pub/sub itself: a subscriber that is not
connected at publish time misses the event. Consumers therefore read the current state
from the database *after* subscribing and treat events as "something changed".
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any, Final, Protocol

from redis.asyncio import Redis
from redis.asyncio.client import PubSub
from redis.exceptions import RedisError

from course_app.core.logging import get_logger

log = get_logger(__name__)

Message = dict[str, Any]
DEFAULT_QUEUE_SIZE: Final = 100


class NotifierError(Exception):
    """Publishing or subscribing failed (for example, Redis is unreachable)."""


class Notifier(Protocol):
    async def publish(self, channel: str, message: Message) -> None:
        """Send ``message`` to every current subscriber of ``channel``."""
        ...

    def subscribe(self, channel: str) -> AbstractAsyncContextManager[AsyncIterator[Message]]:
        """``async with notifier.subscribe(ch) as messages: async for m in messages: ...``

        The subscription is active when the ``async with`` body starts: nothing published
        after that point is missed. Leaving the block unsubscribes.
        """
        ...

    async def close(self) -> None:
        """End every open subscription (their iterators stop) and refuse new ones."""
        ...


class MemoryNotifier:
    """Per-process pub/sub over bounded asyncio queues, one queue per subscriber.

    A subscriber that does not keep up loses its *oldest* messages, never blocks the
    publisher: a slow WebSocket must not slow down the request that changed an order.
    """

    def __init__(self, max_queue: int = DEFAULT_QUEUE_SIZE) -> None:
        self.max_queue = max_queue
        self._subscribers: dict[str, set[asyncio.Queue[str | None]]] = {}
        self._closed = False

    async def publish(self, channel: str, message: Message) -> None:
        payload = json.dumps(message)
        for queue in tuple(self._subscribers.get(channel, ())):
            _offer(queue, payload)

    @asynccontextmanager
    async def subscribe(self, channel: str) -> AsyncIterator[AsyncIterator[Message]]:
        if self._closed:
            raise NotifierError("notifier is closed")
        queue: asyncio.Queue[str | None] = asyncio.Queue(maxsize=self.max_queue)
        self._subscribers.setdefault(channel, set()).add(queue)
        try:
            yield _drain(queue)
        finally:
            queues = self._subscribers[channel]
            queues.discard(queue)
            if not queues:  # no empty sets left behind for every order ever watched
                del self._subscribers[channel]

    def subscriber_count(self, channel: str) -> int:
        """How many subscriptions ``channel`` has right now (tests, metrics)."""
        return len(self._subscribers.get(channel, ()))

    async def close(self) -> None:
        self._closed = True
        for queues in self._subscribers.values():
            for queue in queues:
                _offer(queue, None)  # end of stream


def _offer(queue: asyncio.Queue[str | None], item: str | None) -> None:
    """Put without waiting; when the queue is full, drop its oldest message first."""
    if queue.full():
        queue.get_nowait()
    queue.put_nowait(item)


async def _drain(queue: asyncio.Queue[str | None]) -> AsyncIterator[Message]:
    while (payload := await queue.get()) is not None:
        yield json.loads(payload)


class RedisNotifier:
    """Pub/sub through Redis: every worker process sees every message.

    Each subscription holds one Redis connection for its lifetime (fine for hundreds of
    WebSockets per worker; beyond that, multiplex channels over one connection).
    Channels are prefixed so they cannot collide with other users of the same Redis.
    Pub/sub channels are global to a Redis server: the database number does not scope them.
    """

    def __init__(
        self,
        redis: Redis,
        *,
        prefix: str = "notify",
        subscribe_timeout: float = 5.0,
        poll_interval: float = 1.0,
    ) -> None:
        self.redis = redis
        self.prefix = prefix
        self.subscribe_timeout = subscribe_timeout
        self.poll_interval = poll_interval
        self._closed = False

    def _channel(self, channel: str) -> str:
        return f"{self.prefix}:{channel}"

    async def publish(self, channel: str, message: Message) -> None:
        payload = json.dumps(message)
        try:
            await self.redis.publish(self._channel(channel), payload)
        except (RedisError, OSError) as exc:
            raise NotifierError(f"publish to {channel!r} failed: {type(exc).__name__}") from exc

    @asynccontextmanager
    async def subscribe(self, channel: str) -> AsyncIterator[AsyncIterator[Message]]:
        if self._closed:
            raise NotifierError("notifier is closed")
        pubsub = self.redis.pubsub()
        try:
            try:
                await pubsub.subscribe(self._channel(channel))
                # SUBSCRIBE returns before Redis has processed it. Wait for the server's
                # confirmation: only from then on is no publish missed.
                confirmation = await pubsub.get_message(timeout=self.subscribe_timeout)
            except (RedisError, OSError) as exc:
                raise NotifierError(f"subscribe to {channel!r} failed") from exc
            if confirmation is None or confirmation.get("type") != "subscribe":
                raise NotifierError(f"subscribe to {channel!r} was not confirmed")
            yield self._listen(pubsub, channel)
        finally:
            await pubsub.aclose()  # type: ignore[no-untyped-call]  # redis-py leaves it unannotated

    async def _listen(self, pubsub: PubSub, channel: str) -> AsyncIterator[Message]:
        # A bounded wait per poll lets close() end the stream without killing connections.
        while not self._closed:
            message = await self._poll(pubsub, channel)
            if message is not None:
                yield message

    async def _poll(self, pubsub: PubSub, channel: str) -> Message | None:
        """The next message, or ``None`` after ``poll_interval`` s or for anything that is
        not a JSON object (logged and skipped: one bad publisher must not kill the stream)."""
        try:
            raw = await pubsub.get_message(
                ignore_subscribe_messages=True, timeout=self.poll_interval
            )
        except (RedisError, OSError) as exc:
            raise NotifierError(f"subscription to {channel!r} lost") from exc
        if raw is None or raw.get("type") != "message":
            return None
        try:
            message = json.loads(raw["data"])
        except (TypeError, ValueError):
            log.warning("notification_not_json", channel=channel)
            return None
        if not isinstance(message, dict):
            log.warning("notification_not_an_object", channel=channel)
            return None
        return message

    async def close(self) -> None:
        """Stop every subscription within ``poll_interval``; the lifespan closes Redis."""
        self._closed = True
