"""Plausible wrong answers for lab 04: each must be rejected by its checker.

Each string replaces the body of the exercise's ``### BEGIN SOLUTION`` region.
"""

from __future__ import annotations

MUTANTS: dict[str, list[str]] = {
    "4.1": [
        # a plain Exception with the right attributes: the AppError handler never sees it
        """
        class ServiceUnavailableError(Exception):
            status_code = 503
            code = "SERVICE_UNAVAILABLE"

            def __init__(self, service, retry_after):
                super().__init__(f"The {service} service is unavailable")
                self.message = f"The {service} service is unavailable"
                self.details = {"service": service, "retry_after": retry_after}
                self.headers = {"Retry-After": str(retry_after)}
        """,
        # forgot status_code: inherits AppError's 500
        """
        class ServiceUnavailableError(AppError):
            code = "SERVICE_UNAVAILABLE"

            def __init__(self, service: str, retry_after: int) -> None:
                super().__init__(
                    f"The {service} service is unavailable; retry in {retry_after} seconds",
                    details={"service": service, "retry_after": retry_after},
                    headers={"Retry-After": str(retry_after)},
                )
        """,
        # the header value as an int: the handler crashes building the response
        """
        class ServiceUnavailableError(AppError):
            status_code = status.HTTP_503_SERVICE_UNAVAILABLE
            code = "SERVICE_UNAVAILABLE"

            def __init__(self, service: str, retry_after: int) -> None:
                super().__init__(
                    f"The {service} service is unavailable; retry in {retry_after} seconds",
                    details={"service": service, "retry_after": retry_after},
                    headers={"Retry-After": retry_after},
                )
        """,
        # no Retry-After header: the client has nothing to act on
        """
        class ServiceUnavailableError(AppError):
            status_code = status.HTTP_503_SERVICE_UNAVAILABLE
            code = "SERVICE_UNAVAILABLE"

            def __init__(self, service: str, retry_after: int) -> None:
                super().__init__(
                    f"The {service} service is unavailable",
                    details={"service": service, "retry_after": retry_after},
                )
        """,
    ],
    "4.2": [
        # the seed's style: HTTPException in the service
        """
        from fastapi import HTTPException

        def redeem(vouchers, code, today):
            voucher = vouchers.get(code)
            if voucher is None:
                raise HTTPException(404, "Voucher not found")
            if voucher.expires_on < today:
                raise HTTPException(409, "expired")
            if voucher.uses >= voucher.max_uses:
                raise HTTPException(409, "Voucher used up")
            voucher.uses += 1
            return voucher
        """,
        # off by one: a voucher is refused on its last valid day
        """
        class VoucherExpiredError(ConflictError):
            code = "VOUCHER_EXPIRED"

            def __init__(self, voucher, expires_on):
                super().__init__(f"Voucher {voucher} expired on {expires_on.isoformat()}",
                                 details={"voucher": voucher, "expired_on": expires_on.isoformat()})


        class VoucherUsedUpError(ConflictError):
            code = "VOUCHER_USED_UP"

            def __init__(self, voucher, max_uses):
                super().__init__(f"Voucher {voucher} is used up",
                                 details={"voucher": voucher, "max_uses": max_uses})


        def redeem(vouchers, code, today):
            voucher = vouchers.get(code)
            if voucher is None:
                raise NotFoundError("Voucher", code)
            if voucher.expires_on <= today:
                raise VoucherExpiredError(code, voucher.expires_on)
            if voucher.uses >= voucher.max_uses:
                raise VoucherUsedUpError(code, voucher.max_uses)
            voucher.uses += 1
            return voucher
        """,
        # counts the use first, then checks: a refused voucher is used up anyway
        """
        class VoucherExpiredError(ConflictError):
            code = "VOUCHER_EXPIRED"

            def __init__(self, voucher, expires_on):
                super().__init__(f"Voucher {voucher} expired on {expires_on.isoformat()}",
                                 details={"voucher": voucher, "expired_on": expires_on.isoformat()})


        class VoucherUsedUpError(ConflictError):
            code = "VOUCHER_USED_UP"

            def __init__(self, voucher, max_uses):
                super().__init__(f"Voucher {voucher} is used up",
                                 details={"voucher": voucher, "max_uses": max_uses})


        def redeem(vouchers, code, today):
            voucher = vouchers.get(code)
            if voucher is None:
                raise NotFoundError("Voucher", code)
            voucher.uses += 1
            if voucher.expires_on < today:
                raise VoucherExpiredError(code, voucher.expires_on)
            if voucher.uses > voucher.max_uses:
                raise VoucherUsedUpError(code, voucher.max_uses)
            return voucher
        """,
        # plain ConflictError: right status, but the client cannot tell the two cases apart
        """
        def redeem(vouchers, code, today):
            voucher = vouchers.get(code)
            if voucher is None:
                raise NotFoundError("Voucher", code)
            if voucher.expires_on < today:
                raise ConflictError(f"Voucher {code} expired")
            if voucher.uses >= voucher.max_uses:
                raise ConflictError(f"Voucher {code} is used up")
            voucher.uses += 1
            return voucher
        """,
    ],
    "4.3": [
        # the exception's text in the response: internal host and port leak
        """
        async def upstream_timeout(request: Request, exc: Exception) -> JSONResponse:
            log.warning("upstream_timeout", error=str(exc))
            return error_response(request, 504, "UPSTREAM_TIMEOUT", f"Upstream timed out: {exc}")

        app.add_exception_handler(TimeoutError, upstream_timeout)
        """,
        # FastAPI's default body instead of the envelope
        """
        async def upstream_timeout(request: Request, exc: Exception) -> JSONResponse:
            log.warning("upstream_timeout", error=str(exc))
            return JSONResponse(status_code=504, content={"detail": "Gateway timeout"})

        app.add_exception_handler(TimeoutError, upstream_timeout)
        """,
        # registered for Exception: every bug becomes a "time-out"
        """
        async def upstream_timeout(request: Request, exc: Exception) -> JSONResponse:
            log.warning("upstream_timeout", error=str(exc))
            return error_response(request, 504, "UPSTREAM_TIMEOUT", "Upstream timed out")

        app.add_exception_handler(Exception, upstream_timeout)
        """,
        # registered for OSError (TimeoutError's base): a refused connection becomes a 504
        """
        async def upstream_timeout(request: Request, exc: Exception) -> JSONResponse:
            log.warning("upstream_timeout", error=str(exc))
            return error_response(request, 504, "UPSTREAM_TIMEOUT", "Upstream timed out")

        app.add_exception_handler(OSError, upstream_timeout)
        """,
        # nothing logged: the operator never learns which upstream failed
        """
        async def upstream_timeout(request: Request, exc: Exception) -> JSONResponse:
            return error_response(request, 504, "UPSTREAM_TIMEOUT", "Upstream timed out")

        app.add_exception_handler(TimeoutError, upstream_timeout)
        """,
    ],
    "4.4": [
        # status and code only, indexing without checking: KeyError, extra keys accepted
        """
        assert response.status_code == status_code
        error = response.json()["error"]
        assert error["code"] == code
        return error
        """,
        # everything but the request id is checked
        """
        assert response.status_code == status_code, response.status_code
        assert response.headers.get("content-type", "").startswith("application/json")
        try:
            body = response.json()
        except ValueError as exc:
            raise AssertionError("not JSON") from exc
        assert isinstance(body, dict) and set(body) == {"error"}
        error = body["error"]
        assert isinstance(error, dict) and set(error) == ENVELOPE_KEYS
        assert error["code"] == code
        assert isinstance(error["message"], str) and error["message"]
        assert isinstance(error["details"], dict)
        if status_code >= 500:
            assert "Traceback" not in response.text
        return error
        """,
        # response.json() unguarded: a text 500 fails with JSONDecodeError, not AssertionError
        """
        assert response.status_code == status_code, response.status_code
        body = response.json()
        assert isinstance(body, dict) and set(body) == {"error"}
        error = body["error"]
        assert isinstance(error, dict) and set(error) == ENVELOPE_KEYS
        assert error["code"] == code
        assert isinstance(error["message"], str) and error["message"]
        assert isinstance(error["details"], dict)
        assert error["request_id"] and error["request_id"] == response.headers.get("x-request-id")
        if status_code >= 500:
            assert "Traceback" not in response.text
        return error
        """,
        # keys checked as a subset: extra keys (a traceback!) slip through
        """
        assert response.status_code == status_code, response.status_code
        assert response.headers.get("content-type", "").startswith("application/json")
        try:
            body = response.json()
        except ValueError as exc:
            raise AssertionError("not JSON") from exc
        assert "error" in body
        error = body["error"]
        assert ENVELOPE_KEYS <= set(error)
        assert error["code"] == code
        assert isinstance(error["message"], str) and error["message"]
        assert isinstance(error["details"], dict)
        assert error["request_id"] and error["request_id"] == response.headers.get("x-request-id")
        if status_code >= 500:
            assert "Traceback" not in response.text
        return error
        """,
    ],
}
