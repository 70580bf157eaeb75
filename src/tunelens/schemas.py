"""Pydantic models shared by the CLI's ``--json``, the REST API and the web page.

One schema for all three front ends means a field renamed here is renamed everywhere, and the
OpenAPI document describes exactly what the CLI prints.
"""

from __future__ import annotations

from pydantic import BaseModel, Field


class EncoderInfo(BaseModel):
    """Which model produced a reading, and whether its answers can be trusted."""

    name: str
    pretrained: bool = Field(
        description="False for the weight-free colour fallback or random weights"
    )
    fallback: bool = Field(description="True when `auto` fell back to the colour encoder")
    model_id: str


class ScoredLabel(BaseModel):
    name: str
    score: float


class ColourSummary(BaseModel):
    """Colour and light statistics of the picture (always computed; explanations quote them)."""

    brightness: float
    saturation: float
    colourfulness: float
    warmth: float
    contrast: float
    edge_density: float
    dominant_hue: str


class Reading(BaseModel):
    """What tunelens read from one picture."""

    emotions: dict[str, float] = Field(description="probabilities over the 8 Mikels emotions")
    top_emotion: str
    valence: float = Field(ge=-1, le=1, description="unpleasant (-1) … pleasant (+1)")
    arousal: float = Field(ge=-1, le=1, description="calm (-1) … excited (+1)")
    genres: dict[str, float] = Field(description="probabilities over vibe genres")
    scenes: list[ScoredLabel] = Field(description="top scene tags, best first (empty offline)")
    colour: ColourSummary
    encoder: EncoderInfo
    context: str | None = None


class AudioTarget(BaseModel):
    """The audio profile the picture asks for, in Spotify feature units, with each weight."""

    features: dict[str, float]
    weights: dict[str, float]


class TrackOut(BaseModel):
    id: str
    title: str
    artist: str
    album: str | None = None
    genre: str | None = None
    subgenre: str | None = None
    popularity: float | None = None
    features: dict[str, float] = Field(default_factory=dict)
    emotion: str | None = Field(default=None, description="the song's emotion by DyLuMo's rule")
    links: dict[str, str] = Field(default_factory=dict)


class RecommendedTrack(BaseModel):
    rank: int
    score: float = Field(description="overall score in [0, 1]; higher fits better")
    parts: dict[str, float] = Field(description="the weighted parts that add up to `score`")
    reasons: list[str]
    track: TrackOut


class Recommendation(BaseModel):
    """One picture's full answer."""

    image: str | None = Field(default=None, description="file name or label of the picture")
    image_sha256: str
    reading: Reading
    target: AudioTarget
    tracks: list[RecommendedTrack]
    notices: list[str] = Field(default_factory=list)
    timings_ms: dict[str, float] = Field(default_factory=dict)
    catalogue_size: int
