"""Plausible wrong answers for lab 05: each must be rejected by its checker.

Each string replaces the body of the exercise's ``### BEGIN SOLUTION`` region.
"""

from __future__ import annotations

MUTANTS: dict[str, list[str]] = {
    "5.1": [
        # 401 for a known user without the role: "who are you?" instead of "no"
        """
        async def checker(user: CurrentUser) -> User:
            if user.role not in roles:
                raise AuthenticationError("Requires role: " + ", ".join(roles))
            return user

        return checker
        """,
        # only the first role counts: require_role(USER, ADMIN) locks admins out
        """
        async def checker(user: CurrentUser) -> User:
            if user.role != roles[0]:
                raise AuthorizationError(f"Requires role: {roles[0].value}")
            return user

        return checker
        """,
        # "admins may do anything": require_role(USER) lets the admin in
        """
        async def checker(user: CurrentUser) -> User:
            if user.role is not Role.ADMIN and user.role not in roles:
                raise AuthorizationError("Requires role: " + ", ".join(roles))
            return user

        return checker
        """,
        # checks, but forgets to hand the user over to the route
        """
        async def checker(user: CurrentUser) -> None:
            if user.role not in roles:
                raise AuthorizationError("Requires role: " + ", ".join(roles))

        return checker
        """,
        # trusts a role claim in the token; ours carry none, so nobody passes (and with one,
        # a demoted admin would keep the role until the token expires)
        """
        from typing import Annotated

        from fastapi import Depends

        from course_app.features.auth.dependencies import oauth2_scheme

        async def checker(
            user: CurrentUser, token: Annotated[str, Depends(oauth2_scheme)]
        ) -> User:
            claims = jwt.decode(token, options={"verify_signature": False})
            if claims.get("role") not in roles:
                raise AuthorizationError("Requires role: " + ", ".join(roles))
            return user

        return checker
        """,
    ],
    "5.2": [
        # no required claims: a token without exp (or jti, nbf…) is valid forever
        """
        try:
            claims = jwt.decode(
                token,
                settings.jwt_secret_value,
                algorithms=[settings.jwt_algorithm],
                audience=settings.jwt_audience,
                issuer=settings.jwt_issuer,
            )
        except jwt.ExpiredSignatureError as exc:
            raise AuthenticationError("Token has expired") from exc
        except jwt.PyJWTError as exc:
            raise AuthenticationError("Invalid token") from exc
        if claims.get("type", "access") != "access":
            raise AuthenticationError("Invalid token")
        return claims
        """,
        # except Exception: an outage of the secret store becomes a 401 for everybody
        """
        try:
            claims = jwt.decode(
                token,
                settings.jwt_secret_value,
                algorithms=[settings.jwt_algorithm],
                audience=settings.jwt_audience,
                issuer=settings.jwt_issuer,
                options={"require": list(REQUIRED_CLAIMS)},
            )
        except jwt.ExpiredSignatureError as exc:
            raise AuthenticationError("Token has expired") from exc
        except Exception as exc:
            raise AuthenticationError("Invalid token") from exc
        if claims["type"] != "access":
            raise AuthenticationError("Invalid token")
        return claims
        """,
        # no type check: a 7-day refresh token works as an access token
        """
        try:
            return jwt.decode(
                token,
                settings.jwt_secret_value,
                algorithms=[settings.jwt_algorithm],
                audience=settings.jwt_audience,
                issuer=settings.jwt_issuer,
                options={"require": list(REQUIRED_CLAIMS)},
            )
        except jwt.ExpiredSignatureError as exc:
            raise AuthenticationError("Token has expired") from exc
        except jwt.PyJWTError as exc:
            raise AuthenticationError("Invalid token") from exc
        """,
        # no issuer: PyJWT then does not check iss at all
        """
        try:
            claims = jwt.decode(
                token,
                settings.jwt_secret_value,
                algorithms=[settings.jwt_algorithm],
                audience=settings.jwt_audience,
                options={"require": list(REQUIRED_CLAIMS)},
            )
        except jwt.ExpiredSignatureError as exc:
            raise AuthenticationError("Token has expired") from exc
        except jwt.PyJWTError as exc:
            raise AuthenticationError("Invalid token") from exc
        if claims["type"] != "access":
            raise AuthenticationError("Invalid token")
        return claims
        """,
        # one message for everything: the client cannot tell "refresh" from "log in again"
        """
        try:
            claims = jwt.decode(
                token,
                settings.jwt_secret_value,
                algorithms=[settings.jwt_algorithm],
                audience=settings.jwt_audience,
                issuer=settings.jwt_issuer,
                options={"require": list(REQUIRED_CLAIMS)},
            )
        except jwt.PyJWTError as exc:
            raise AuthenticationError("Invalid token") from exc
        if claims["type"] != "access":
            raise AuthenticationError("Invalid token")
        return claims
        """,
        # "the header says which algorithm": accepts every HMAC variant the header names
        """
        try:
            claims = jwt.decode(
                token,
                settings.jwt_secret_value,
                algorithms=["HS256", "HS384", "HS512"],
                audience=settings.jwt_audience,
                issuer=settings.jwt_issuer,
                options={"require": list(REQUIRED_CLAIMS)},
            )
        except jwt.ExpiredSignatureError as exc:
            raise AuthenticationError("Token has expired") from exc
        except jwt.PyJWTError as exc:
            raise AuthenticationError("Invalid token") from exc
        if claims["type"] != "access":
            raise AuthenticationError("Invalid token")
        return claims
        """,
    ],
    "5.3": [
        # IDOR: any logged-in user reads any order's receipt
        """
        @app.get("/api/orders/{order_id}/receipt")
        async def read_receipt(
            order_id: OrderId, user: CurrentUser, session: SessionDep
        ) -> Receipt:
            order = await OrderRepository(session).get(order_id)
            if order is None:
                raise OrderNotFoundError(order_id)
            return Receipt(
                order_id=order.id,
                total_cents=order.total_cents,
                item_count=sum(item.quantity for item in order.items),
            )
        """,
        # owner only: the admin (support staff) gets 404 for every customer's order
        """
        @app.get("/api/orders/{order_id}/receipt")
        async def read_receipt(
            order_id: OrderId, user: CurrentUser, session: SessionDep
        ) -> Receipt:
            order = await OrderRepository(session).get(order_id, owner_id=user.id)
            if order is None:
                raise OrderNotFoundError(order_id)
            return Receipt(
                order_id=order.id,
                total_cents=order.total_cents,
                item_count=sum(item.quantity for item in order.items),
            )
        """,
        # 403 for someone else's order: confirms that the id exists
        """
        @app.get("/api/orders/{order_id}/receipt")
        async def read_receipt(
            order_id: OrderId, user: CurrentUser, session: SessionDep
        ) -> Receipt:
            order = await OrderRepository(session).get(order_id)
            if order is None:
                raise OrderNotFoundError(order_id)
            if order.user_id != user.id and user.role is not Role.ADMIN:
                raise AuthorizationError("Not your order")
            return Receipt(
                order_id=order.id,
                total_cents=order.total_cents,
                item_count=sum(item.quantity for item in order.items),
            )
        """,
        # item_count counts lines, not units
        """
        @app.get("/api/orders/{order_id}/receipt")
        async def read_receipt(
            order_id: OrderId, user: CurrentUser, session: SessionDep
        ) -> Receipt:
            owner_id = None if user.role is Role.ADMIN else user.id
            order = await OrderRepository(session).get(order_id, owner_id=owner_id)
            if order is None:
                raise OrderNotFoundError(order_id)
            return Receipt(
                order_id=order.id, total_cents=order.total_cents, item_count=len(order.items)
            )
        """,
    ],
    "5.4": [
        # rotation without reuse detection: a stolen, spent token is simply "unknown"
        """
        class RefreshStore:
            def __init__(self) -> None:
                self._live: dict[str, int] = {}

            def issue(self, user_id: int) -> str:
                token = secrets.token_urlsafe(32)
                self._live[token] = user_id
                return token

            def rotate(self, token: str) -> str:
                if token not in self._live:
                    raise UnknownTokenError("unknown refresh token")
                return self.issue(self._live.pop(token))

            def revoke(self, token: str) -> None:
                self._live.pop(token, None)

            def is_live(self, token: str) -> bool:
                return token in self._live
        """,
        # detects the reuse but leaves the thief's fresh token alive
        """
        class RefreshStore:
            def __init__(self) -> None:
                self._owner: dict[str, int] = {}
                self._live: set[str] = set()

            def issue(self, user_id: int) -> str:
                token = secrets.token_urlsafe(32)
                self._owner[token] = user_id
                self._live.add(token)
                return token

            def rotate(self, token: str) -> str:
                if token not in self._owner:
                    raise UnknownTokenError("unknown refresh token")
                if token not in self._live:
                    raise TokenReusedError("refresh token reused")
                self._live.discard(token)
                return self.issue(self._owner[token])

            def revoke(self, token: str) -> None:
                self._live.discard(token)

            def is_live(self, token: str) -> bool:
                return token in self._live
        """,
        # ends everyone's sessions on one user's reuse
        """
        class RefreshStore:
            def __init__(self) -> None:
                self._owner: dict[str, int] = {}
                self._live: set[str] = set()

            def issue(self, user_id: int) -> str:
                token = secrets.token_urlsafe(32)
                self._owner[token] = user_id
                self._live.add(token)
                return token

            def rotate(self, token: str) -> str:
                if token not in self._owner:
                    raise UnknownTokenError("unknown refresh token")
                if token not in self._live:
                    self._live.clear()
                    raise TokenReusedError("refresh token reused")
                self._live.discard(token)
                return self.issue(self._owner[token])

            def revoke(self, token: str) -> None:
                self._live.discard(token)

            def is_live(self, token: str) -> bool:
                return token in self._live
        """,
        # counter tokens: the next token is guessable
        """
        class RefreshStore:
            def __init__(self) -> None:
                self._owner: dict[str, int] = {}
                self._live: set[str] = set()

            def issue(self, user_id: int) -> str:
                token = f"refresh-token-{len(self._owner) + 1:04d}"
                self._owner[token] = user_id
                self._live.add(token)
                return token

            def rotate(self, token: str) -> str:
                if token not in self._owner:
                    raise UnknownTokenError("unknown refresh token")
                user_id = self._owner[token]
                if token not in self._live:
                    self._live -= {t for t in self._live if self._owner[t] == user_id}
                    raise TokenReusedError("refresh token reused")
                self._live.discard(token)
                return self.issue(user_id)

            def revoke(self, token: str) -> None:
                self._live.discard(token)

            def is_live(self, token: str) -> bool:
                return token in self._live
        """,
        # rotate forgets to spend the old token: both stay usable
        """
        class RefreshStore:
            def __init__(self) -> None:
                self._owner: dict[str, int] = {}
                self._live: set[str] = set()

            def issue(self, user_id: int) -> str:
                token = secrets.token_urlsafe(32)
                self._owner[token] = user_id
                self._live.add(token)
                return token

            def rotate(self, token: str) -> str:
                if token not in self._owner:
                    raise UnknownTokenError("unknown refresh token")
                user_id = self._owner[token]
                if token not in self._live:
                    self._live -= {t for t in self._live if self._owner[t] == user_id}
                    raise TokenReusedError("refresh token reused")
                return self.issue(user_id)

            def revoke(self, token: str) -> None:
                self._live.discard(token)

            def is_live(self, token: str) -> bool:
                return token in self._live
        """,
    ],
}
