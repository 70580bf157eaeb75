"""Small builders shared by the storage tests."""

from __future__ import annotations

import hashlib
import io
from collections.abc import Sequence

from PIL import Image

from tunelens.core.types import (
    AudioTarget,
    ColourSummary,
    EncoderInfo,
    Reading,
    Recommendation,
    RecommendedTrack,
    TrackOut,
)

EMOTIONS = (
    "amusement",
    "awe",
    "contentment",
    "excitement",
    "anger",
    "disgust",
    "fear",
    "sadness",
)


def make_reading(top_emotion: str = "contentment", top_genre: str = "pop") -> Reading:
    emotions = {e: (0.51 if e == top_emotion else 0.07) for e in EMOTIONS}
    genres = {g: (0.6 if g == top_genre else 0.1) for g in ("pop", "rock", "jazz", top_genre)}
    return Reading(
        emotions=emotions,
        top_emotion=top_emotion,
        valence=0.4,
        arousal=-0.1,
        genres=genres,
        scenes=[],
        colour=ColourSummary(
            brightness=0.5,
            saturation=0.3,
            colourfulness=0.4,
            warmth=0.1,
            contrast=0.4,
            edge_density=0.1,
            dominant_hue="blue",
        ),
        encoder=EncoderInfo(name="colour", pretrained=False, fallback=True, model_id="colour-v1"),
    )


def make_recommendation(
    tracks: Sequence[tuple[str, str, str | None]],
    *,
    top_emotion: str = "contentment",
    top_genre: str = "pop",
    image: bytes = b"picture",
    timings: dict[str, float] | None = None,
) -> Recommendation:
    """``tracks``: (track id, artist, genre) in rank order."""
    return Recommendation(
        image="photo.jpg",
        image_sha256=hashlib.sha256(image).hexdigest(),
        reading=make_reading(top_emotion, top_genre),
        target=AudioTarget(features={"valence": 0.6}, weights={"valence": 3.0}),
        tracks=[
            RecommendedTrack(
                rank=rank,
                score=round(1.0 - rank / 100, 3),
                parts={"mood": 0.5},
                reasons=["test"],
                track=TrackOut(id=track_id, title=f"Song {track_id}", artist=artist, genre=genre),
            )
            for rank, (track_id, artist, genre) in enumerate(tracks, start=1)
        ],
        timings_ms=timings if timings is not None else {"decode": 5.0, "read": 20.0, "rank": 3.0},
        catalogue_size=100,
    )


def jpeg_with_gps(
    size: tuple[int, int] = (64, 48),
    orientation: int = 6,
    colour: tuple[int, int, int] = (200, 60, 30),
) -> bytes:
    """A JPEG carrying GPS coordinates, camera make/model, an orientation and an ICC profile."""
    from PIL import ImageCms

    img = Image.new("RGB", size, colour)
    # a marker in the top-left corner, so orientation handling can be checked
    img.paste((0, 255, 0), (0, 0, size[0] // 4, size[1] // 4))
    exif = Image.Exif()
    exif[0x010F] = "ACME Cameras"  # Make
    exif[0x0110] = "Spy 3000"  # Model
    exif[0x0112] = orientation
    exif[0x8825] = {  # GPSInfo IFD
        1: "N",
        2: (52.0, 31.0, 12.5),
        3: "E",
        4: (13.0, 24.0, 36.0),
    }
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    buffer = io.BytesIO()
    img.save(buffer, "JPEG", exif=exif.tobytes(), icc_profile=icc, comment=b"secret note")
    return buffer.getvalue()
