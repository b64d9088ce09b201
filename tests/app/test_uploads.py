"""Product image uploads: size limits while streaming, type from content, generated
names (path traversal shown and blocked), and serving the file back."""

from __future__ import annotations

import re
import struct
import zlib
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from course_app.config import Settings, load_settings
from course_app.core.database import build_engine
from course_app.features.products.router import MULTIPART_OVERHEAD_BYTES
from course_app.features.products.storage import (
    GIF,
    JPEG,
    PNG,
    WEBP,
    AsyncReader,
    ImageStorage,
    StoredImage,
    UnsafePathError,
    sniff_image_type,
)
from course_app.features.users.models import Role
from tests.app.conftest import STRONG_SECRET
from tests.app.factories import auth_headers, create_product, create_user
from tests.app.test_errors import envelope

pytestmark = pytest.mark.anyio

MAX_UPLOAD = 1024  # the smallest limit Settings accepts: keeps the oversize bodies small
BOUNDARY = "course-test-boundary"
STORED_NAME = re.compile(r"^products/[0-9a-f]{32}\.(png|jpg|gif|webp)$")


def png_bytes(width: int = 1, height: int = 1) -> bytes:
    """A real, valid PNG (red pixels), built by hand: signature, IHDR, IDAT, IEND."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # 8-bit RGB
    rows = b"".join(b"\x00" + b"\xff\x00\x00" * width for _ in range(height))
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


JPEG_BYTES = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 32
GIF_BYTES = b"GIF89a\x01\x00\x01\x00\x00\x00\x00;"
WEBP_BYTES = b"RIFF" + struct.pack("<I", 26) + b"WEBPVP8 " + b"\x00" * 18


def multipart_body(filename: str, content: bytes) -> bytes:
    head = (
        f"--{BOUNDARY}\r\n"
        f'Content-Disposition: form-data; name="file"; filename="{filename}"\r\n'
        "Content-Type: image/png\r\n\r\n"
    ).encode()
    return head + content + f"\r\n--{BOUNDARY}--\r\n".encode()


async def in_chunks(data: bytes, size: int = 4096) -> AsyncIterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]


def stored_files(root: Path) -> list[str]:
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())


def untouched(root: Path) -> bool:
    """The upload directory was never even created: the request died before storage."""
    return not root.exists()


def names_outside(tmp_path: Path, upload_dir: Path) -> set[str]:
    return {p.name for p in tmp_path.rglob("*") if upload_dir not in p.parents}


@pytest.fixture
def upload_dir(tmp_path: Path) -> Path:
    return tmp_path / "uploads"


@pytest.fixture
def settings(database_url: str, upload_dir: Path) -> Settings:
    return load_settings(
        _env_file=None,
        environment="test",
        database_url=database_url,
        jwt_secret=STRONG_SECRET,
        upload_dir=str(upload_dir),
        max_upload_bytes=MAX_UPLOAD,
    )


@pytest.fixture
async def admin(database_url: str, settings: Settings, client: httpx.AsyncClient) -> dict[str, str]:
    return auth_headers(settings, await create_user(database_url, role=Role.ADMIN))


@pytest.fixture
async def product_id(database_url: str, client: httpx.AsyncClient) -> int:
    return (await create_product(database_url)).id


async def upload(
    client: httpx.AsyncClient,
    product: int,
    content: bytes,
    headers: dict[str, str],
    *,
    filename: str = "photo.png",
    content_type: str = "image/png",
) -> httpx.Response:
    return await client.post(
        f"/api/products/{product}/image",
        files={"file": (filename, content, content_type)},
        headers=headers,
    )


# --- the happy path --------------------------------------------------------------------


async def test_png_is_stored_under_a_generated_name_and_served_back_identical(
    client: httpx.AsyncClient, admin: dict[str, str], product_id: int, upload_dir: Path
) -> None:
    image = png_bytes(3, 2)
    response = await upload(client, product_id, image, admin)
    assert response.status_code == 200, response.text
    assert response.json()["image_url"] == f"/api/products/{product_id}/image"
    [name] = stored_files(upload_dir)
    assert STORED_NAME.match(name)
    assert (upload_dir / name).read_bytes() == image

    served = await client.get(f"/api/products/{product_id}/image")
    assert served.status_code == 200
    assert served.content == image
    assert served.headers["content-type"] == "image/png"
    assert served.headers["x-content-type-options"] == "nosniff"
    assert served.headers["cache-control"] == "no-cache"
    assert "etag" in served.headers


async def test_type_comes_from_the_bytes_not_from_the_client(
    client: httpx.AsyncClient, admin: dict[str, str], product_id: int, upload_dir: Path
) -> None:
    """Each file lies about itself (``text/plain``, ``.txt``); the first bytes decide."""
    for content, expected in ((JPEG_BYTES, JPEG), (GIF_BYTES, GIF), (WEBP_BYTES, WEBP)):
        response = await upload(
            client, product_id, content, admin, filename="notes.txt", content_type="text/plain"
        )
        assert response.status_code == 200, expected
        served = await client.get(f"/api/products/{product_id}/image")
        assert served.headers["content-type"] == expected.media_type
        assert served.content == content
        [name] = stored_files(upload_dir)  # the previous image was deleted
        assert name.endswith(f".{expected.extension}")


async def test_replacing_an_image_deletes_the_old_file(
    client: httpx.AsyncClient, admin: dict[str, str], product_id: int, upload_dir: Path
) -> None:
    assert (await upload(client, product_id, png_bytes(1, 1), admin)).status_code == 200
    [first] = stored_files(upload_dir)
    second_image = png_bytes(2, 2)
    assert (await upload(client, product_id, second_image, admin)).status_code == 200
    [second] = stored_files(upload_dir)
    assert second != first
    assert (await client.get(f"/api/products/{product_id}/image")).content == second_image


async def test_a_chunked_body_without_content_length_is_accepted_under_the_limit(
    client: httpx.AsyncClient, admin: dict[str, str], product_id: int
) -> None:
    image = png_bytes(4, 4)
    request = client.build_request(
        "POST",
        f"/api/products/{product_id}/image",
        content=in_chunks(multipart_body("a.png", image), size=64),
        headers={**admin, "Content-Type": f"multipart/form-data; boundary={BOUNDARY}"},
    )
    assert "content-length" not in request.headers
    response = await client.send(request)
    assert response.status_code == 200, response.text
    assert (await client.get(f"/api/products/{product_id}/image")).content == image


async def test_deleting_the_product_deletes_its_image(
    client: httpx.AsyncClient, admin: dict[str, str], product_id: int, upload_dir: Path
) -> None:
    assert (await upload(client, product_id, png_bytes(), admin)).status_code == 200
    assert len(stored_files(upload_dir)) == 1
    assert (await client.delete(f"/api/products/{product_id}", headers=admin)).status_code == 204
    assert stored_files(upload_dir) == []


# --- path traversal ------------------------------------------------------------------------


async def test_a_traversal_filename_cannot_escape_the_upload_directory(
    client: httpx.AsyncClient,
    admin: dict[str, str],
    product_id: int,
    upload_dir: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The seed saved to ``uploads/{id}/{file.filename}``: these names would have
    written outside it. The filename reaches the storage layer and is ignored."""
    seen: list[str | None] = []
    original_save = ImageStorage.save

    async def spy(self: ImageStorage, source: AsyncReader) -> StoredImage:
        seen.append(getattr(source, "filename", None))
        return await original_save(self, source)

    monkeypatch.setattr(ImageStorage, "save", spy)
    evil = [
        "../../etc/passwd",
        "..\\x.png",
        "/etc/cron.d/evil.png",
        "....//....//x.png",
        "a/../../b.png",
    ]
    for filename in evil:
        response = await upload(client, product_id, png_bytes(), admin, filename=filename)
        assert response.status_code == 200, filename
        assert filename not in response.text
        [name] = stored_files(upload_dir)
        assert STORED_NAME.match(name), filename
    assert seen == evil  # the server really received the hostile names
    assert not {"passwd", "x.png", "b.png", "evil.png"} & names_outside(tmp_path, upload_dir)


async def test_a_tampered_image_path_is_never_served(
    client: httpx.AsyncClient, product_id: int, database_url: str
) -> None:
    """Defence in depth: even a database row pointing outside is refused (404)."""
    engine = build_engine(database_url)
    try:
        async with engine.begin() as connection:
            await connection.execute(
                text("UPDATE products SET image_path = '../../../etc/passwd' WHERE id = :id"),
                {"id": product_id},
            )
    finally:
        await engine.dispose()
    response = await client.get(f"/api/products/{product_id}/image")
    assert response.status_code == 404
    assert envelope(response)["details"]["resource"] == "Product image"  # type: ignore[index]


# --- sizes ---------------------------------------------------------------------------------


async def test_oversized_file_with_content_length_is_413_and_leaves_nothing(
    client: httpx.AsyncClient, admin: dict[str, str], product_id: int, upload_dir: Path
) -> None:
    """The request fits the body limit (file + multipart overhead) but the file is one
    byte over ``max_upload_bytes``: the chunked copy stops and deletes its partial file."""
    content = png_bytes() + b"\x00" * (MAX_UPLOAD + 1 - len(png_bytes()))
    response = await upload(client, product_id, content, admin)
    assert response.status_code == 413
    error = envelope(response)
    assert error["code"] == "PAYLOAD_TOO_LARGE"
    assert error["details"] == {"max_bytes": MAX_UPLOAD}
    assert stored_files(upload_dir) == []
    exactly = await upload(client, product_id, content[:MAX_UPLOAD], admin)
    assert exactly.status_code == 200


async def test_declared_oversized_body_is_refused_before_it_is_read(
    client: httpx.AsyncClient, admin: dict[str, str], product_id: int, upload_dir: Path
) -> None:
    body_limit = MAX_UPLOAD + MULTIPART_OVERHEAD_BYTES
    response = await upload(client, product_id, png_bytes() + b"\x00" * body_limit, admin)
    assert response.status_code == 413
    assert envelope(response)["details"] == {"max_bytes": body_limit}
    assert untouched(upload_dir)  # refused before the storage was even touched
    absurd = await client.post(
        f"/api/products/{product_id}/image",
        content=multipart_body("a.png", png_bytes()),
        headers={
            **admin,
            "Content-Type": f"multipart/form-data; boundary={BOUNDARY}",
            "Content-Length": "9" * 5000,  # int() of this would raise, not compare
        },
    )
    assert absurd.status_code == 413


async def test_streamed_oversized_body_without_content_length_is_413(
    client: httpx.AsyncClient, admin: dict[str, str], product_id: int, upload_dir: Path
) -> None:
    """No Content-Length to check up front: the bytes are counted as they arrive and
    the request is cut off at the limit (the rest of the 200 KiB is never read)."""
    body = multipart_body("big.png", png_bytes() + b"\x00" * 200_000)
    request = client.build_request(
        "POST",
        f"/api/products/{product_id}/image",
        content=in_chunks(body),
        headers={**admin, "Content-Type": f"multipart/form-data; boundary={BOUNDARY}"},
    )
    assert "content-length" not in request.headers
    assert request.headers["transfer-encoding"] == "chunked"
    response = await client.send(request)
    assert response.status_code == 413
    error = envelope(response)
    assert error["code"] == "PAYLOAD_TOO_LARGE"
    assert error["details"] == {"max_bytes": MAX_UPLOAD + MULTIPART_OVERHEAD_BYTES}
    assert untouched(upload_dir)  # cut off before the storage was reached


# --- types and form shape ----------------------------------------------------------------


async def test_a_text_file_named_png_is_415(
    client: httpx.AsyncClient, admin: dict[str, str], product_id: int, upload_dir: Path
) -> None:
    for content in (b"just some text, honest\n", b"<svg onload='alert(1)'/>", b""):
        response = await upload(client, product_id, content, admin, filename="cat.png")
        assert response.status_code == 415, content
        error = envelope(response)
        assert error["code"] == "UNSUPPORTED_MEDIA_TYPE"
        assert error["details"] == {
            "accepted": ["image/png", "image/jpeg", "image/webp", "image/gif"]
        }
    assert untouched(upload_dir)
    assert (await client.get(f"/api/products/{product_id}")).json()["image_url"] is None


async def test_the_form_must_hold_exactly_one_file(
    client: httpx.AsyncClient, admin: dict[str, str], product_id: int
) -> None:
    url = f"/api/products/{product_id}/image"
    missing = await client.post(url, files={"other": ("a.png", png_bytes())}, headers=admin)
    assert missing.status_code == 422
    assert envelope(missing)["code"] == "VALIDATION_ERROR"
    two = await client.post(
        url,
        files=[("file", ("a.png", png_bytes())), ("file", ("b.png", png_bytes()))],
        headers=admin,
    )
    assert two.status_code == 400
    assert envelope(two)["code"] == "BAD_REQUEST"
    with_field = await client.post(
        url, files={"file": ("a.png", png_bytes())}, data={"note": "hi"}, headers=admin
    )
    assert with_field.status_code == 400


# --- who may upload, and what is there to serve ----------------------------------------


async def test_upload_needs_an_admin(
    client: httpx.AsyncClient,
    product_id: int,
    database_url: str,
    settings: Settings,
    upload_dir: Path,
) -> None:
    anonymous = await upload(client, product_id, png_bytes(), {})
    assert anonymous.status_code == 401
    shopper = auth_headers(settings, await create_user(database_url))
    forbidden = await upload(client, product_id, png_bytes(), shopper)
    assert forbidden.status_code == 403
    assert envelope(forbidden)["code"] == "FORBIDDEN"
    assert untouched(upload_dir)


async def test_upload_to_an_unknown_product_is_404_and_stores_nothing(
    client: httpx.AsyncClient, admin: dict[str, str], upload_dir: Path
) -> None:
    response = await upload(client, 987_654, png_bytes(), admin)
    assert response.status_code == 404
    assert envelope(response)["code"] == "NOT_FOUND"
    assert untouched(upload_dir)


async def test_serving_an_image_that_is_not_there_is_404(
    client: httpx.AsyncClient,
    admin: dict[str, str],
    product_id: int,
    upload_dir: Path,
    database_url: str,
) -> None:
    none_yet = await client.get(f"/api/products/{product_id}/image")
    assert none_yet.status_code == 404
    assert envelope(none_yet)["details"] == {
        "resource": "Product image",
        "identifier": str(product_id),
    }
    assert (await client.get("/api/products/999999/image")).status_code == 404

    assert (await upload(client, product_id, png_bytes(), admin)).status_code == 200
    [name] = stored_files(upload_dir)
    (upload_dir / name).unlink()  # the file vanished from the disk
    assert (await client.get(f"/api/products/{product_id}/image")).status_code == 404

    hidden = await create_product(database_url, is_active=False)
    assert (await upload(client, hidden.id, png_bytes(), admin)).status_code == 200
    assert (await client.get(f"/api/products/{hidden.id}/image")).status_code == 404


async def test_a_failed_commit_removes_the_new_file(
    client: httpx.AsyncClient,
    admin: dict[str, str],
    product_id: int,
    upload_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async def broken_commit(_self: AsyncSession) -> None:
        raise RuntimeError("database went away")

    monkeypatch.setattr(AsyncSession, "commit", broken_commit)
    with pytest.raises(RuntimeError, match="database went away"):
        await upload(client, product_id, png_bytes(), admin)
    assert stored_files(upload_dir) == []


# --- the storage on its own ------------------------------------------------------------


class ChunkedReader:
    """An ``AsyncReader`` over bytes that can fail part-way, like a dropped connection."""

    def __init__(self, data: bytes, *, fail_after: int | None = None) -> None:
        self.data = data
        self.position = 0
        self.fail_after = fail_after

    async def read(self, size: int = -1) -> bytes:
        if self.fail_after is not None and self.position >= self.fail_after:
            raise ConnectionError("client went away")
        end = len(self.data) if size < 0 else self.position + size
        chunk = self.data[self.position : end]
        self.position += len(chunk)
        return chunk


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        (png_bytes(), PNG),
        (JPEG_BYTES, JPEG),
        (b"GIF87a....", GIF),
        (GIF_BYTES, GIF),
        (WEBP_BYTES, WEBP),
        (b"RIFF\x00\x00\x00\x00WAVE", None),  # RIFF, but audio
        (b"RIFF", None),
        (b"\x89PNG", None),  # truncated signature
        (b"%PDF-1.7", None),
        (b"<svg xmlns='http://www.w3.org/2000/svg'/>", None),
        (b"", None),
    ],
)
async def test_sniff_image_type(head: bytes, expected: object) -> None:
    assert sniff_image_type(head) is expected


async def test_storage_copies_in_chunks_and_cleans_up_on_failure(tmp_path: Path) -> None:
    storage = ImageStorage(tmp_path, max_bytes=100, chunk_size=16)
    image = png_bytes(2, 2)
    assert len(image) <= 100
    stored = await storage.save(ChunkedReader(image))
    assert (tmp_path / stored.key).read_bytes() == image
    assert (stored.size, stored.image_type) == (len(image), PNG)

    with pytest.raises(ConnectionError):
        await storage.save(ChunkedReader(image, fail_after=32))
    assert stored_files(tmp_path) == [stored.key]  # no .part file left behind


async def test_storage_refuses_keys_it_did_not_generate(tmp_path: Path) -> None:
    storage = ImageStorage(tmp_path, max_bytes=100)
    for key in (
        "../etc/passwd",
        "products/../../etc/passwd",
        "/etc/passwd",
        "products/evil.png",
        "products/" + "a" * 32 + ".svg",
    ):
        with pytest.raises(UnsafePathError):
            await storage.path_of(key, must_exist=False)
        await storage.delete(key)  # a no-op, never an escape
    await storage.delete(None)
    assert storage.media_type_of("products/" + "a" * 32 + ".webp") == "image/webp"


async def test_storage_refuses_a_symlink_that_leads_outside(tmp_path: Path) -> None:
    root, outside = tmp_path / "root", tmp_path / "outside"
    root.mkdir()
    outside.mkdir()
    (root / "products").symlink_to(outside, target_is_directory=True)
    storage = ImageStorage(root, max_bytes=100)
    with pytest.raises(UnsafePathError, match="outside"):
        await storage.save(ChunkedReader(png_bytes()))
    assert list(outside.iterdir()) == []
