"""Every failure has the same envelope; a 500 leaks nothing."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from asgi_lifespan import LifespanManager
from fastapi import FastAPI, Query

from course_app.config import Settings
from course_app.core.errors import AppError, NotFoundError
from course_app.main import create_app

pytestmark = pytest.mark.anyio


class PaymentRequiredError(AppError):
    status_code = 402
    code = "PAYMENT_REQUIRED"


@pytest.fixture
def app(settings: Settings) -> FastAPI:
    app = create_app(settings)

    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError("secret path /etc/app/db.conf and SELECT * FROM users")

    @app.get("/items/{item_id}")
    async def item(item_id: int, limit: int = Query(10, ge=1, le=100)) -> dict[str, int]:
        if item_id == 0:
            raise NotFoundError("Item", item_id)
        if item_id == 402:
            raise PaymentRequiredError("Pay first", details={"price": 5}, headers={"X-Price": "5"})
        return {"id": item_id, "limit": limit}

    return app


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with (
        LifespanManager(app) as manager,
        httpx.AsyncClient(
            # the unhandled-error test needs the 500 response, not the re-raised exception
            transport=httpx.ASGITransport(app=manager.app, raise_app_exceptions=False),
            base_url="http://testserver",
        ) as http,
    ):
        yield http


def envelope(response: httpx.Response) -> dict[str, object]:
    body = response.json()
    assert set(body) == {"error"}
    error = body["error"]
    assert set(error) == {"code", "message", "details", "request_id"}
    return error  # type: ignore[no-any-return]


async def test_happy_path_is_untouched(client: httpx.AsyncClient) -> None:
    response = await client.get("/items/3?limit=5")
    assert response.json() == {"id": 3, "limit": 5}


async def test_app_error_uses_its_status_code_details_and_headers(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get("/items/402")
    assert response.status_code == 402
    assert response.headers["X-Price"] == "5"
    error = envelope(response)
    assert error["code"] == "PAYMENT_REQUIRED"
    assert error["details"] == {"price": 5}


async def test_not_found_error(client: httpx.AsyncClient) -> None:
    response = await client.get("/items/0")
    assert response.status_code == 404
    error = envelope(response)
    assert error["code"] == "NOT_FOUND"
    assert error["message"] == "Item not found: 0"
    assert error["details"] == {"resource": "Item", "identifier": "0"}


async def test_unknown_route_is_404_envelope(client: httpx.AsyncClient) -> None:
    response = await client.get("/no/such/route")
    assert response.status_code == 404
    assert envelope(response)["code"] == "NOT_FOUND"


async def test_wrong_method_is_405_envelope(client: httpx.AsyncClient) -> None:
    response = await client.delete("/items/1")
    assert response.status_code == 405
    assert envelope(response)["code"] == "METHOD_NOT_ALLOWED"


@pytest.mark.parametrize(
    ("path", "field"),
    [
        ("/items/abc", "item_id"),
        ("/items/1?limit=0", "limit"),
        ("/items/1?limit=101", "limit"),
        ("/items/1?limit=2e3", "limit"),
    ],
)
async def test_invalid_input_is_422_envelope_naming_the_field(
    client: httpx.AsyncClient, path: str, field: str
) -> None:
    response = await client.get(path)
    assert response.status_code == 422
    error = envelope(response)
    assert error["code"] == "VALIDATION_ERROR"
    errors = error["details"]["errors"]  # type: ignore[index]
    assert any(e["loc"][-1] == field for e in errors)


async def test_unhandled_exception_is_a_generic_500(client: httpx.AsyncClient) -> None:
    response = await client.get("/boom")
    assert response.status_code == 500
    error = envelope(response)
    assert error["code"] == "INTERNAL_ERROR"
    for leak in ("RuntimeError", "/etc/app", "SELECT", "Traceback"):
        assert leak not in response.text


async def test_a_500_carries_the_request_id_header_too(client: httpx.AsyncClient) -> None:
    response = await client.get("/boom", headers={"X-Request-ID": "trace-500-abcdef"})
    assert response.status_code == 500
    assert response.headers["X-Request-ID"] == "trace-500-abcdef"
    assert envelope(response)["request_id"] == "trace-500-abcdef"


def test_app_error_defaults() -> None:
    error = AppError("boom")
    assert error.status_code == 500
    assert error.code == "INTERNAL_ERROR"
    assert error.details == {}
    assert error.headers is None
