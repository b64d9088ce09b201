"""Dependencies of the ``orders`` feature: the service, and WebSocket authentication.

A WebSocket route cannot use the HTTP dependencies that take a ``Request`` (FastAPI only
fills ``Request`` parameters for HTTP), nor ``OAuth2PasswordBearer``, and a browser
cannot set an ``Authorization`` header on a WebSocket. So the token arrives either in the
``Sec-WebSocket-Protocol`` header (preferred: ``["bearer", "<token>"]``) or in the
``?token=`` query parameter (simplest; but query strings end up in access logs and
proxies, so use short-lived access tokens only).

A token, not a cookie, is also what makes the socket safe from cross-site WebSocket
hijacking: browsers send cookies with a WebSocket handshake from any origin (CORS does not
apply to WebSockets), but a hostile page cannot know the user's token.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Final

from fastapi import Depends, Path, Query
from starlette.websockets import WebSocket

from course_app.core.errors import AuthenticationError
from course_app.dependencies import DatabaseDep, NotifierDep, SessionDep, SettingsDep
from course_app.features.auth.service import authenticate_access_token
from course_app.features.orders.schemas import MAX_ID
from course_app.features.orders.service import OrderService
from course_app.features.users.models import User

#: The subprotocol a client offers, followed by its token: ``["bearer", "<jwt>"]``.
BEARER_SUBPROTOCOL: Final = "bearer"
MAX_TOKEN_LENGTH: Final = 4096

OrderId = Annotated[int, Path(ge=1, le=MAX_ID, description="The order's id")]


async def get_order_service(session: SessionDep, notifier: NotifierDep) -> OrderService:
    return OrderService(session, notifier)


OrderServiceDep = Annotated[OrderService, Depends(get_order_service)]


@dataclass(frozen=True)
class WebSocketAuth:
    """Who is on the other end (``None``: no valid token) and which subprotocol to accept.

    The handler, not this dependency, refuses unauthenticated clients: it must accept and
    then close with 1008, which a dependency cannot do cleanly.
    """

    user: User | None
    subprotocol: str | None


def _offered_token(websocket: WebSocket, query_token: str | None) -> tuple[str | None, str | None]:
    """``(token, subprotocol to accept)``: from ``Sec-WebSocket-Protocol``, else the query.

    The server must echo one of the offered subprotocols (browsers drop the connection
    otherwise), and that must be ``bearer``, never the token itself.
    """
    offered: list[str] = list(websocket.scope.get("subprotocols", []))
    if BEARER_SUBPROTOCOL in offered:
        position = offered.index(BEARER_SUBPROTOCOL) + 1
        token = offered[position] if position < len(offered) else None
        return token, BEARER_SUBPROTOCOL
    return query_token, None


async def get_websocket_auth(
    websocket: WebSocket,
    settings: SettingsDep,
    database: DatabaseDep,
    token: Annotated[
        str | None, Query(max_length=MAX_TOKEN_LENGTH, description="Access token")
    ] = None,
) -> WebSocketAuth:
    """Verify the access token the same way as ``get_current_user`` does for HTTP.

    The user is read in a session of its own, closed before the handler starts waiting:
    a WebSocket can stay open for hours and must not pin a database connection.
    """
    raw, subprotocol = _offered_token(websocket, token)
    if not raw:
        return WebSocketAuth(None, subprotocol)
    try:
        async with database.sessions() as session:
            user = await authenticate_access_token(session, settings, raw)
    except AuthenticationError:
        return WebSocketAuth(None, subprotocol)
    return WebSocketAuth(user, subprotocol)


WebSocketAuthDep = Annotated[WebSocketAuth, Depends(get_websocket_auth)]
