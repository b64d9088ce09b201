"""Business rules of the ``orders`` feature: who may see and change which order, the
status workflow, stock, and what happens after a change.

Every write follows the same shape: check, write with atomic statements, ``commit()``,
*then* side effects (notifications, background work). Committing here, before the
router returns, means a 201 or 200 is only ever sent for a change that is durable.
Publishing after the commit means no watcher ever hears of a change that was rolled back.
"""

from __future__ import annotations

from dataclasses import dataclass
from operator import attrgetter

from sqlalchemy.ext.asyncio import AsyncSession

from course_app.core.database import utcnow
from course_app.core.errors import AppError
from course_app.core.logging import get_logger
from course_app.core.notifications import Notifier, NotifierError
from course_app.features.orders.exceptions import (
    InvalidTransitionError,
    OrderChangedError,
    OrderNotFoundError,
    OutOfStockError,
    OwnerMayOnlyCancelError,
    ProductUnavailableError,
)
from course_app.features.orders.models import TRANSITIONS, Order, OrderItem, OrderStatus
from course_app.features.orders.repository import ListedOrder, OrderFilters, OrderRepository
from course_app.features.orders.schemas import OrderCreate, OrderSort, OrderStatusEvent
from course_app.features.users.models import Role, User

log = get_logger(__name__)


def order_channel(order_id: int) -> str:
    """The notifier channel carrying one order's status changes."""
    return f"orders:{order_id}"


@dataclass(frozen=True)
class OrderConfirmation:
    """What the post-order background task needs: plain values, never the ORM object or
    the request's session (both are gone by the time a background task runs)."""

    order_id: int
    user_id: int
    total_cents: int
    item_count: int


async def send_order_confirmation(confirmation: OrderConfirmation) -> None:
    """Runs after the response is sent (FastAPI ``BackgroundTasks``).

    A stand-in for e-mail or a message queue: here it writes a structured event. Keep such
    work short and best-effort; anything that must not be lost belongs in a real queue.
    """
    log.info(
        "order_confirmation",
        order_id=confirmation.order_id,
        user_id=confirmation.user_id,
        total_cents=confirmation.total_cents,
        item_count=confirmation.item_count,
    )


class OrderService:
    def __init__(self, session: AsyncSession, notifier: Notifier) -> None:
        self.session = session
        self.notifier = notifier
        self.orders = OrderRepository(session)

    # --- reads ------------------------------------------------------------------------
    async def get(self, user: User, order_id: int) -> Order:
        """The order if ``user`` may see it (owner or admin); otherwise 404, never 403."""
        owner_id = None if user.role is Role.ADMIN else user.id
        order = await self.orders.get(order_id, owner_id=owner_id)
        if order is None:
            raise OrderNotFoundError(order_id)
        return order

    async def list_orders(
        self,
        user: User,
        *,
        status: OrderStatus | None,
        user_id: int | None,
        sort: OrderSort,
        offset: int,
        limit: int,
    ) -> tuple[list[ListedOrder], int]:
        """Admins see every order and may filter by ``user_id``. Customers see their own:
        for them ``user_id`` can only narrow further (another id gives an empty page)."""
        if user.role is not Role.ADMIN and user_id not in (None, user.id):
            return [], 0
        scope = user_id if user.role is Role.ADMIN else user.id
        filters = OrderFilters(user_id=scope, status=status)
        return await self.orders.find_page(filters, sort=sort, offset=offset, limit=limit)

    async def current_status(self, user: User, order_id: int) -> OrderStatusEvent:
        order = await self.get(user, order_id)
        return OrderStatusEvent(order_id=order.id, status=order.status, at=order.updated_at)

    # --- writes -----------------------------------------------------------------------
    async def create(self, user: User, data: OrderCreate) -> Order:
        """Reserve stock for every line, record the prices, commit.

        Lines are processed in ``product_id`` order. Every order therefore locks product
        rows in the same order, so two orders for the same products wait for each other
        instead of deadlocking (PostgreSQL would abort one of them).
        """
        items: list[OrderItem] = []
        for line in sorted(data.items, key=attrgetter("product_id")):
            price = await self.orders.reserve_stock(line.product_id, line.quantity)
            if price is None:
                # Undo the lines reserved so far and release the write lock at once,
                # then find out which answer to give.
                await self.session.rollback()
                raise await self._why_unavailable(line.product_id, line.quantity)
            items.append(
                OrderItem(
                    product_id=line.product_id, quantity=line.quantity, unit_price_cents=price
                )
            )
        order = Order(
            user_id=user.id,
            status=OrderStatus.PENDING,
            total_cents=sum(item.unit_price_cents * item.quantity for item in items),
            items=items,
        )
        self.orders.add(order)
        await self.session.commit()
        log.info("order_created", order_id=order.id, user_id=user.id, total=order.total_cents)
        return order

    async def _why_unavailable(self, product_id: int, requested: int) -> AppError:
        """The error for a reservation that matched no row: 422 or 409, and why."""
        product = await self.orders.product_stock(product_id)
        if product is None or not product.is_active:
            return ProductUnavailableError(product_id)
        return OutOfStockError(product_id, requested, product.stock)

    async def change_status(self, user: User, order_id: int, target: OrderStatus) -> Order:
        """Move an order along the workflow.

        Order of checks: visibility (404) → permission (403: customers may only cancel)
        → workflow (409). A cancellation puts the items back in stock in the same
        transaction. Watchers are notified after the commit.
        """
        order = await self.get(user, order_id)
        if user.role is not Role.ADMIN and target is not OrderStatus.CANCELLED:
            raise OwnerMayOnlyCancelError
        current = order.status
        if target not in TRANSITIONS[current]:
            raise InvalidTransitionError(current, target)

        now = utcnow()
        if not await self.orders.set_status(order, expected=current, new=target, at=now):
            await self.session.rollback()
            raise OrderChangedError(order_id)
        if target is OrderStatus.CANCELLED:
            for item in sorted(order.items, key=attrgetter("product_id")):
                await self.orders.release_stock(item.product_id, item.quantity)
        await self.session.commit()
        log.info("order_status_changed", order_id=order_id, old=current.value, new=target.value)

        await self._publish(OrderStatusEvent(order_id=order_id, status=target, at=now))
        return order

    async def _publish(self, event: OrderStatusEvent) -> None:
        """Best effort: the change is committed; a notifier outage must not turn it into
        an error response (the client would retry a change that already happened)."""
        try:
            await self.notifier.publish(
                order_channel(event.order_id), event.model_dump(mode="json")
            )
        except NotifierError as exc:
            log.warning("order_notification_failed", order_id=event.order_id, error=str(exc))
