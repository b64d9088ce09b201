"""HTTP and WebSocket layer of the ``orders`` feature: thin handlers over the service.

Authorisation is *object-level*: every route first asks "may this user see this order?",
and "no" is the same 404 as "there is no such order", so ids of other people's orders
cannot be probed. That includes the WebSocket, which closes with 1008 in both cases.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Annotated, Any

import anyio
from fastapi import APIRouter, BackgroundTasks, FastAPI, Query, status
from pydantic import ValidationError
from starlette.websockets import WebSocket, WebSocketDisconnect

from course_app.core.errors import ErrorResponse
from course_app.core.logging import get_logger
from course_app.core.notifications import NotifierError
from course_app.dependencies import DatabaseDep, NotifierDep
from course_app.features.auth.dependencies import CurrentUser
from course_app.features.orders.dependencies import (
    OrderId,
    OrderServiceDep,
    WebSocketAuthDep,
)
from course_app.features.orders.exceptions import OrderNotFoundError
from course_app.features.orders.models import TERMINAL_STATUSES, OrderStatus
from course_app.features.orders.schemas import (
    MAX_ID,
    OrderCreate,
    OrderResponse,
    OrderSort,
    OrderStatusEvent,
    OrderStatusUpdate,
)
from course_app.features.orders.service import (
    OrderConfirmation,
    OrderService,
    order_channel,
    send_order_confirmation,
)
from course_app.shared.pagination import Page, PageDep

log = get_logger(__name__)

OrderPage = Page[OrderResponse]

router = APIRouter(prefix="/api/orders", tags=["orders"])

# Every route documents its errors with the real envelope (FastAPI's default 422 schema
# is not what the error handlers send).
_AUTH_ERRORS: dict[int | str, dict[str, Any]] = {
    status.HTTP_401_UNAUTHORIZED: {"model": ErrorResponse, "description": "Not authenticated"},
    status.HTTP_422_UNPROCESSABLE_CONTENT: {
        "model": ErrorResponse,
        "description": "Invalid parameters or body (VALIDATION_ERROR)",
    },
}
_NOT_FOUND: dict[int | str, dict[str, Any]] = {
    status.HTTP_404_NOT_FOUND: {
        "model": ErrorResponse,
        "description": "No such order, or not yours (the two are indistinguishable)",
    },
}


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="Place an order",
    responses={
        **_AUTH_ERRORS,
        status.HTTP_409_CONFLICT: {"model": ErrorResponse, "description": "OUT_OF_STOCK"},
        status.HTTP_422_UNPROCESSABLE_CONTENT: {
            "model": ErrorResponse,
            "description": "Invalid body, or PRODUCT_UNAVAILABLE (unknown or inactive)",
        },
    },
)
async def create_order(
    body: OrderCreate, user: CurrentUser, service: OrderServiceDep, tasks: BackgroundTasks
) -> OrderResponse:
    order = await service.create(user, body)  # committed before we answer 201
    tasks.add_task(
        send_order_confirmation,
        OrderConfirmation(
            order_id=order.id,
            user_id=order.user_id,
            total_cents=order.total_cents,
            item_count=len(order.items),
        ),
    )
    return OrderResponse.model_validate(order)


@router.get("", summary="List orders (yours; every order for admins)", responses=_AUTH_ERRORS)
async def list_orders(
    user: CurrentUser,
    service: OrderServiceDep,
    page: PageDep,
    status_filter: Annotated[OrderStatus | None, Query(alias="status")] = None,
    user_id: Annotated[
        int | None, Query(ge=1, le=MAX_ID, description="Admins: one user's orders")
    ] = None,
    sort: Annotated[OrderSort, Query(description="Field, '-' for descending")] = "-created_at",
) -> OrderPage:
    orders, total = await service.list_orders(
        user,
        status=status_filter,
        user_id=user_id,
        sort=sort,
        offset=page.offset,
        limit=page.limit,
    )
    # One validation call for the whole page of records (dicts), not one per order.
    return OrderPage.model_validate(
        {"items": orders, "total": total, "page": page.page, "page_size": page.page_size}
    )


@router.get("/{order_id}", summary="One order", responses={**_AUTH_ERRORS, **_NOT_FOUND})
async def get_order(
    order_id: OrderId, user: CurrentUser, service: OrderServiceDep
) -> OrderResponse:
    return OrderResponse.model_validate(await service.get(user, order_id))


@router.patch(
    "/{order_id}/status",
    summary="Move an order along its workflow",
    description=(
        "pending → paid → shipped → delivered; pending or paid → cancelled. "
        "Customers may only cancel (403 otherwise); cancelling puts the items back in stock."
    ),
    responses={
        **_AUTH_ERRORS,
        **_NOT_FOUND,
        status.HTTP_403_FORBIDDEN: {
            "model": ErrorResponse,
            "description": "A customer asked for anything but a cancellation",
        },
        status.HTTP_409_CONFLICT: {
            "model": ErrorResponse,
            "description": "INVALID_TRANSITION (details: from, to, allowed) or ORDER_CHANGED",
        },
    },
)
async def change_order_status(
    order_id: OrderId, body: OrderStatusUpdate, user: CurrentUser, service: OrderServiceDep
) -> OrderResponse:
    order = await service.change_status(user, order_id, body.status)
    return OrderResponse.model_validate(order)


@router.websocket("/{order_id}/ws")
async def watch_order(
    websocket: WebSocket,
    order_id: OrderId,
    auth: WebSocketAuthDep,
    database: DatabaseDep,
    notifier: NotifierDep,
) -> None:
    """Push an order's status: the current one on connect, then every change as
    ``{"order_id", "status", "at"}``. Closes with 1000 once the order reaches a final
    status, 1008 for a missing or bad token or an order that is not the caller's.

    Subscribe first, read the current status second: the other way round, a change
    committed between the two would be lost.
    """
    if auth.user is None:
        await _refuse(websocket, auth.subprotocol, "Not authenticated")
        return
    try:
        async with notifier.subscribe(order_channel(order_id)) as messages:
            # A short session of its own: never hold a DB connection while we wait.
            async with database.sessions() as session:
                current = await OrderService(session, notifier).current_status(auth.user, order_id)
            await websocket.accept(subprotocol=auth.subprotocol)
            await _stream(websocket, current, messages)
    except OrderNotFoundError:
        await _refuse(websocket, auth.subprotocol, "Order not found")
    except NotifierError as exc:  # could not subscribe (a lost stream is handled in _forward)
        log.warning("order_watch_unavailable", order_id=order_id, error=str(exc))
        await websocket.accept(subprotocol=auth.subprotocol)
        await websocket.close(
            code=status.WS_1011_INTERNAL_ERROR, reason="Notifications unavailable"
        )


async def _refuse(websocket: WebSocket, subprotocol: str | None, reason: str) -> None:
    """Accept, then close with 1008. Closing *before* accepting turns into a bare HTTP 403
    on the wire: a browser then only reports 1006, with no code and no reason."""
    await websocket.accept(subprotocol=subprotocol)
    await websocket.close(code=status.WS_1008_POLICY_VIOLATION, reason=reason)


async def _stream(
    websocket: WebSocket, current: OrderStatusEvent, messages: AsyncIterator[dict[str, Any]]
) -> None:
    """Forward events until the order is final, the client leaves, or the server stops.

    Two tasks: one forwards events, one reads from the client only to notice that it
    has gone (otherwise a dead connection would stay subscribed until the next event).
    Whichever finishes first cancels the other.
    """
    close_code: int | None = None  # stays None when the client left first

    async def forward() -> None:
        nonlocal close_code
        close_code = await _forward(websocket, current, messages)
        group.cancel_scope.cancel()

    async def watch_client() -> None:
        while (await websocket.receive())["type"] != "websocket.disconnect":
            pass  # this socket is one-way: anything the client sends is ignored
        group.cancel_scope.cancel()

    async with anyio.create_task_group() as group:
        group.start_soon(forward)
        group.start_soon(watch_client)
    if close_code is not None:
        with contextlib.suppress(WebSocketDisconnect):  # it may leave while we close
            await websocket.close(code=close_code)


async def _forward(
    websocket: WebSocket, current: OrderStatusEvent, messages: AsyncIterator[dict[str, Any]]
) -> int | None:
    """Send ``current``, then each new status; return the close code to use.

    Events are validated (a message from Redis is input) and de-duplicated against the
    last status sent: subscribing before reading the current status can deliver the
    same change twice, and a status never legitimately repeats.
    """
    last = current.status
    try:
        await websocket.send_text(current.model_dump_json())
        if last in TERMINAL_STATUSES:
            return status.WS_1000_NORMAL_CLOSURE
        async for message in messages:
            try:
                event = OrderStatusEvent.model_validate(message)
            except ValidationError:
                log.warning("order_event_invalid", order_id=current.order_id)
                continue
            if event.order_id != current.order_id or event.status is last:
                continue
            await websocket.send_text(event.model_dump_json())
            last = event.status
            if last in TERMINAL_STATUSES:
                return status.WS_1000_NORMAL_CLOSURE
    except WebSocketDisconnect:
        return None
    except NotifierError as exc:
        log.warning("order_watch_lost", order_id=current.order_id, error=str(exc))
        return status.WS_1011_INTERNAL_ERROR
    # The notifier closed the stream: the server is shutting down. 1012 tells the client
    # to reconnect (to another worker, or to this one after the restart).
    return status.WS_1012_SERVICE_RESTART


def include_orders(app: FastAPI) -> None:
    app.include_router(router)
