"""Pydantic models shared by the CLI's ``--json``, the REST API and the web page.

One schema for all three front ends means a field renamed here is renamed everywhere, and the
OpenAPI document describes exactly what the CLI prints.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, Field, PrivateAttr


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


class FaceOut(BaseModel):
    """One face found in the picture and its expression (the optional ``faces`` extra)."""

    box: list[float] = Field(
        description="[x, y, width, height] as fractions of the picture's width and height"
    )
    expressions: dict[str, float] = Field(
        description="probabilities of angry, disgust, fear, happy, sad, surprise, neutral"
    )
    top_expression: str
    area_share: float = Field(description="the face's share of the picture's area")
    weight: float = Field(description="how much this face moved the reading (0 = not at all)")


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
    faces: list[FaceOut] | None = Field(
        default=None,
        description="faces and their expressions, blended into the emotions (null when faces "
        "were not read: the `faces` extra is missing or turned off)",
    )


class AudioTarget(BaseModel):
    """The audio profile the picture asks for, in Spotify feature units, with each weight."""

    features: dict[str, float]
    weights: dict[str, float]
    genres: dict[str, float] = Field(
        default_factory=dict,
        description="the picture's vibe over the genres the catalogue has (shares summing to "
        "1): the genres the songs were chosen from; empty when the mapping had no catalogue",
    )


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
    #: each part's own value before weighting, which the reasons are written from; kept so the
    #: same songs can be worded again in another language (never serialised)
    _part_values: dict[str, float] = PrivateAttr(default_factory=dict)


class HotRegionOut(BaseModel):
    """A region of the picture that carried the mood, from the heatmap."""

    row: str | None = Field(description="`upper`, `middle`, `lower`, or null for a whole column")
    col: str | None = Field(description="`left`, `centre`, `right`, or null for a whole row")
    share: float = Field(description="share of the heatmap's weight inside this region")
    content: str | None = Field(
        default=None, description="what the region shows: a scene tag, a feature or a hue"
    )
    content_kind: str | None = Field(default=None, description="`scene`, `feature` or `hue`")
    label: str = Field(description="the region in words, e.g. `upper third: sky`")


class Explanation(BaseModel):
    """Why the picture reads as it does, in words (and, on request, as a heatmap)."""

    text: str = Field(description="the template explanation (deterministic, offline)")
    lang: str = Field(description="language of `text` and of the region labels")
    mood: str = Field(
        description="playlist mood of the reading: happy, energetic, calm, sad, intense"
    )
    hot_regions: list[HotRegionOut] = Field(
        default_factory=list, description="regions that mattered (empty without a heatmap)"
    )
    heatmap: str | None = Field(
        default=None, description="the overlay as a `data:image/png;base64,…` URL"
    )
    heatmap_method: str | None = Field(default=None, description="`occlusion` or `gradcam`")
    heatmap_target: str | None = Field(
        default=None, description="what the heatmap explains, e.g. `emotion:awe`"
    )


class Labels(BaseModel):
    """The shown names, in the answer's language, of the ids in one answer (the ids
    themselves stay English and stable: clients branch on them)."""

    lang: str = Field(description="language of these names")
    emotions: dict[str, str] = Field(description="emotion id → name")
    genres: dict[str, str] = Field(description="vibe genre id → name")
    scenes: dict[str, str] = Field(default_factory=dict, description="scene tag → name")
    mood: str | None = Field(default=None, description="the playlist mood's name")


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
    explanation: Explanation | None = None
    labels: Labels | None = Field(
        default=None, description="shown names of the answer's emotions, genres, scenes, mood"
    )
    #: the decoded picture (a ``LoadedImage``) for in-process follow-ups such as the LLM
    #: commentary; never serialised
    _image: Any = PrivateAttr(default=None)


@dataclass(frozen=True)
class ReadingScale:
    """Where a reader's valence and arousal fall over photos people rated: (mean, sd) per axis.

    People's own mean ratings spread wider than any reader's predictions of them (a fitted
    reader predicts the expected rating, which shrinks towards the middle). The mapping places a
    reading by its rank on its reader's scale, so the photo a reader finds brightest asks for
    the brightest songs, whatever the reader's spread."""

    valence: tuple[float, float]
    arousal: tuple[float, float]
