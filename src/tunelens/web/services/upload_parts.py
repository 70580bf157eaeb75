"""Reading one uploaded file part: its declared type and size are checked before a byte is read.

``image/*`` and ``application/octet-stream`` are accepted; ``text/plain`` or no type at all are
passed on (browsers and curl label unknown files that way), so imaging's sniffing names what
they really are; any other declared type is 415 ``unsupported_media_type``. The whole body was
already bounded by :mod:`tunelens.web.middleware.body_limit`; :mod:`tunelens.vision.imaging`
then checks the bytes, the header's pixel count and only then decodes.
"""

from __future__ import annotations

from fastapi import UploadFile

from tunelens.core.errors import InvalidImage
from tunelens.core.settings import Settings
from tunelens.web.errors import UnsupportedMediaType
from tunelens.web.middleware.body_limit import megabytes

#: declared part types passed on to imaging, which sniffs the bytes themselves
SNIFFED_PART_TYPES = frozenset({"", "text/plain", "application/octet-stream"})
ACCEPTED_PART_TYPES_HUMAN = ["image/*", "application/octet-stream"]


def part_media_type(upload: UploadFile) -> str:
    return (upload.content_type or "").split(";")[0].strip().lower()


def check_part(upload: UploadFile, settings: Settings) -> None:
    """Refuse a file part by its declared type and size, before reading it."""
    media_type = part_media_type(upload)
    if not (media_type.startswith("image/") or media_type in SNIFFED_PART_TYPES):
        raise UnsupportedMediaType(
            f"The file was sent as {media_type}, which is not a picture. Send a JPEG, PNG, "
            "WebP, GIF, BMP or TIFF image.",
            code="unsupported_media_type",
            details={"content_type": media_type, "accepted": ACCEPTED_PART_TYPES_HUMAN},
        )
    limit = settings.max_image_bytes
    if upload.size is not None and upload.size > limit:
        raise InvalidImage(
            f"The file is {megabytes(upload.size)} ({upload.size:,} bytes); the limit is "
            f"{megabytes(limit)} ({limit:,} bytes).",
            code="too_large",
            details={"limit": limit, "actual": upload.size},
        )


async def read_part(upload: UploadFile, settings: Settings) -> bytes:
    """The bytes of an accepted file part (never more than the image limit plus one)."""
    check_part(upload, settings)
    await upload.seek(0)
    data = await upload.read(settings.max_image_bytes + 1)
    if len(data) > settings.max_image_bytes:
        raise InvalidImage(
            f"The file is larger than the limit of {megabytes(settings.max_image_bytes)}.",
            code="too_large",
            details={"limit": settings.max_image_bytes, "actual": None},
        )
    return data
