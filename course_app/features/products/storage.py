"""Product images on the local disk, stored the safe way.

What the seed's upload handler did, and what this module does instead:

* it trusted ``file.size`` (absent for a streamed body) and ``read()`` the whole file
  into memory → the bytes are copied in chunks and counted; past the limit the copy
  stops, the partial file is deleted and the answer is a 413;
* it trusted the client's ``Content-Type`` → the type is decided from the file's first
  bytes (magic numbers); anything that is not PNG, JPEG, WebP or GIF is a 415 (SVG is
  refused on purpose: it is a document that can carry script);
* it wrote ``uploads/{id}/{file.filename}`` → a filename of ``../../app/main.py``
  overwrites code. Here the client's filename is never used: the stored name is
  generated (``uuid4().hex`` + the extension of the *detected* type) and every path is
  resolved and checked to stay inside the upload directory.

All file-system calls go through ``anyio`` (a worker thread), so a slow disk never
blocks the event loop.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Final, Protocol

import anyio

from course_app.features.products.exceptions import ImageTooLargeError, UnsupportedImageTypeError

CHUNK_SIZE: Final = 64 * 1024
PRODUCTS_FOLDER: Final = "products"


@dataclass(frozen=True, slots=True)
class ImageType:
    """An accepted image format: the extension we store it under and its media type."""

    extension: str
    media_type: str


PNG: Final = ImageType("png", "image/png")
JPEG: Final = ImageType("jpg", "image/jpeg")
WEBP: Final = ImageType("webp", "image/webp")
GIF: Final = ImageType("gif", "image/gif")
ACCEPTED_TYPES: Final = (PNG, JPEG, WEBP, GIF)
_BY_EXTENSION: Final = {image_type.extension: image_type for image_type in ACCEPTED_TYPES}
# The only shape a stored key can have: anything else in the database is not ours.
_KEY_PATTERN: Final = re.compile(r"^products/[0-9a-f]{32}\.(png|jpg|webp|gif)$")


def sniff_image_type(head: bytes) -> ImageType | None:
    """Decide the format from the first bytes of the file, or ``None`` if not accepted."""
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if head.startswith(b"\xff\xd8\xff"):
        return JPEG
    if head.startswith((b"GIF87a", b"GIF89a")):
        return GIF
    if len(head) >= 12 and head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return WEBP
    return None


class UnsafePathError(ValueError):
    """A stored key that is malformed or resolves outside the upload directory."""


class AsyncReader(Protocol):
    """What :meth:`ImageStorage.save` reads from; ``fastapi.UploadFile`` is one."""

    async def read(self, size: int = -1) -> bytes: ...


@dataclass(frozen=True, slots=True)
class StoredImage:
    key: str  # relative to the upload directory, e.g. "products/3f2a….png"
    image_type: ImageType
    size: int


class ImageStorage:
    """Saves, locates and deletes product images below ``root``."""

    def __init__(self, root: str | Path, *, max_bytes: int, chunk_size: int = CHUNK_SIZE) -> None:
        self.root = anyio.Path(root)
        self.max_bytes = max_bytes
        self.chunk_size = chunk_size

    async def save(self, source: AsyncReader) -> StoredImage:
        """Copy ``source`` to a new, generated file name and return where it went.

        The bytes go to ``<name>.part`` first and are renamed only when complete, so a
        reader never sees half an image under its final name.
        """
        head = await source.read(self.chunk_size)
        image_type = sniff_image_type(head)
        if image_type is None:
            raise UnsupportedImageTypeError([t.media_type for t in ACCEPTED_TYPES])
        key = f"{PRODUCTS_FOLDER}/{uuid.uuid4().hex}.{image_type.extension}"
        final = await self.path_of(key, must_exist=False)
        await final.parent.mkdir(parents=True, exist_ok=True)
        partial = final.with_name(final.name + ".part")
        size = 0
        try:
            # "xb": create, never overwrite (a uuid4 collision would fail loudly).
            async with await anyio.open_file(partial, "xb") as out:
                chunk = head
                while chunk:
                    size += len(chunk)
                    if size > self.max_bytes:
                        raise ImageTooLargeError(self.max_bytes)
                    await out.write(chunk)
                    chunk = await source.read(self.chunk_size)
            await partial.rename(final)
        except BaseException:
            # Shielded: a cancelled request must still clean up after itself.
            with anyio.CancelScope(shield=True):
                await partial.unlink(missing_ok=True)
            raise
        return StoredImage(key=key, image_type=image_type, size=size)

    async def path_of(self, key: str, *, must_exist: bool = True) -> anyio.Path:
        """The absolute path of a stored key, checked twice: the key must look like one
        we generated, and the resolved path must stay inside ``root`` (defence in depth
        against a tampered database row or a symlink)."""
        if not _KEY_PATTERN.fullmatch(key):
            raise UnsafePathError(f"not a stored image key: {key!r}")
        root = await self.root.resolve()
        path = await (root / key).resolve(strict=must_exist)
        if not path.is_relative_to(root):
            raise UnsafePathError(f"{key!r} resolves outside the upload directory")
        return path

    async def delete(self, key: str | None) -> None:
        """Remove a stored image; a missing file or an unsafe key is left alone."""
        if key is None:
            return
        try:
            path = await self.path_of(key, must_exist=False)
        except UnsafePathError:
            return
        await path.unlink(missing_ok=True)

    @staticmethod
    def media_type_of(key: str) -> str:
        """The media type of a stored key, from the extension we chose when saving."""
        return _BY_EXTENSION[key.rsplit(".", 1)[-1]].media_type
