"""Regional playlists: regions → vibe genre / mood → playlist entries, from a TOML file.

The built-in file (``tunelens/data/playlists.toml``) has Global and Khaleeji playlists for the
five Image2Genre genres — the real YouTube ids from Image2Genre's source — and search entries
for everything else. Operators add regions, genres, moods and verified ids in their own file
(``TUNELENS_PLAYLISTS_FILE``) without touching code. A broken file is refused with the line it
breaks on: TOML syntax errors give tomllib's line and column, schema errors name the entry
(``regions.global.genre.rock[1].playlist_id``) and the line its table starts on.

An entry with a ``playlist_id`` is played in an embed (``youtube-nocookie.com`` or Spotify's
player, loaded only on click); an entry with a ``query`` is a search link, which always
resolves — so nobody has to invent an id to cover a region.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any, ClassVar, Literal
from urllib.parse import quote, quote_plus

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from tunelens.core import vocab
from tunelens.core.errors import ConfigError, InvalidRequest

#: playlist moods, each a quadrant (or half-quadrant) of Russell's circumplex
MOODS = ("happy", "energetic", "calm", "sad", "intense")
Provider = Literal["youtube", "spotify"]

YOUTUBE_EMBED = "https://www.youtube-nocookie.com/embed/videoseries?list={id}"
YOUTUBE_PLAYLIST = "https://www.youtube.com/playlist?list={id}"
YOUTUBE_SEARCH = "https://www.youtube.com/results?search_query={q}"
SPOTIFY_EMBED = "https://open.spotify.com/embed/playlist/{id}"
SPOTIFY_PLAYLIST = "https://open.spotify.com/playlist/{id}"
SPOTIFY_SEARCH = "https://open.spotify.com/search/{q}"

_ID_PATTERNS: dict[str, re.Pattern[str]] = {
    # YouTube playlist ids: PL…, RDCLAK5uy_…, OLAK5uy_…, UU… — letters, digits, _ and -
    "youtube": re.compile(r"^[A-Za-z0-9_-]{12,64}$"),
    # Spotify ids: 22 base-62 characters
    "spotify": re.compile(r"^[A-Za-z0-9]{22}$"),
}


class PlaylistEntry(BaseModel):
    """One playlist: a verified id to embed, or a search query to link."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    title: str = Field(min_length=1, max_length=200)
    provider: Provider
    playlist_id: str | None = None
    query: str | None = Field(default=None, min_length=1, max_length=200)

    @field_validator("playlist_id")
    @classmethod
    def _valid_id(cls, value: str | None, info: ValidationInfo) -> str | None:
        provider = info.data.get("provider")
        if (
            value is not None
            and provider in _ID_PATTERNS
            and not _ID_PATTERNS[provider].match(value)
        ):
            hint = " (22 letters and digits)" if provider == "spotify" else ""
            raise ValueError(f"{value!r} is not a {provider} playlist id{hint}")
        return value

    @model_validator(mode="after")
    def _id_or_query(self) -> PlaylistEntry:
        if (self.playlist_id is None) == (self.query is None):
            raise ValueError("give exactly one of playlist_id and query")
        return self

    @property
    def kind(self) -> Literal["playlist", "search"]:
        return "playlist" if self.playlist_id else "search"

    @property
    def url(self) -> str:
        if self.playlist_id:
            pattern = YOUTUBE_PLAYLIST if self.provider == "youtube" else SPOTIFY_PLAYLIST
            return pattern.format(id=self.playlist_id)
        assert self.query is not None
        if self.provider == "youtube":
            return YOUTUBE_SEARCH.format(q=quote_plus(self.query))
        return SPOTIFY_SEARCH.format(q=quote(self.query, safe=""))

    @property
    def embed_url(self) -> str | None:
        if not self.playlist_id:
            return None
        pattern = YOUTUBE_EMBED if self.provider == "youtube" else SPOTIFY_EMBED
        return pattern.format(id=self.playlist_id)


class Region(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    label: str = Field(min_length=1, max_length=80)
    genre: dict[str, list[PlaylistEntry]] = Field(default_factory=dict)
    mood: dict[str, list[PlaylistEntry]] = Field(default_factory=dict)


class PlaylistConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    version: Literal[1] = 1
    default_region: str = "global"
    regions: dict[str, Region] = Field(min_length=1)

    KEY: ClassVar[re.Pattern[str]] = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")


@dataclass(frozen=True)
class PlaylistGroup:
    kind: Literal["genre", "mood"]
    name: str
    entries: tuple[PlaylistEntry, ...]


class PlaylistError(ConfigError):
    """The playlists file cannot be read or does not follow the schema."""

    default_code = "playlists_invalid"


# --- loading and validation ----------------------------------------------------------------------

_HEADER = re.compile(r"^\s*(\[\[?)\s*(.+?)\s*\]\]?\s*(#.*)?$")
_KEY_PART = re.compile(r'\s*("(?:[^"\\]|\\.)*"|\'[^\']*\'|[A-Za-z0-9_-]+)\s*(?:\.|$)')


def _split_key(dotted: str) -> list[str]:
    parts = []
    for match in _KEY_PART.finditer(dotted):
        token = match.group(1)
        parts.append(token[1:-1] if token[:1] in "\"'" else token)
    return parts


def _headers(text: str) -> list[tuple[int, list[str]]]:
    out = []
    for number, line in enumerate(text.splitlines(), start=1):
        match = _HEADER.match(line)
        if match and not line.lstrip().startswith("#"):
            out.append((number, _split_key(match.group(2))))
    return out


def locate(text: str, loc: Sequence[str | int]) -> int | None:
    """The line an error location (``regions.global.genre.rock[1].title``) points at, if any."""
    lines = text.splitlines()
    headers = _headers(text)
    keys = [str(p) for p in loc if not isinstance(p, int)]
    for n in range(len(keys), 0, -1):
        prefix = keys[:n]
        matches = [number for number, parts in headers if parts == prefix]
        if not matches:
            continue
        position = loc.index(prefix[-1]) if prefix[-1] in loc else -1
        following = loc[position + 1] if 0 <= position < len(loc) - 1 else None
        index = following if isinstance(following, int) else 0
        start = matches[min(index, len(matches) - 1)]
        if n < len(keys):  # a key inside that table
            following_headers = [h for h, _ in headers if h > start]
            end = following_headers[0] if following_headers else len(lines) + 1
            field = re.compile(rf"^\s*[\"']?{re.escape(keys[n])}[\"']?\s*=")
            for number in range(start + 1, end):
                if field.match(lines[number - 1]):
                    return number
        return start
    if keys:  # a top-level key, above the first table
        end = headers[0][0] if headers else len(lines) + 1
        field = re.compile(rf"^\s*[\"']?{re.escape(keys[0])}[\"']?\s*=")
        for number in range(1, end):
            if field.match(lines[number - 1]):
                return number
    return None


def _dotted(loc: Sequence[str | int]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            name = part if re.fullmatch(r"[A-Za-z0-9_-]+", part) else f'"{part}"'
            out += ("." if out else "") + name
    return out


def _problem(source: str, text: str, loc: Sequence[str | int], message: str) -> PlaylistError:
    line = locate(text, loc)
    where = f"{source}, line {line}" if line else source
    entry = _dotted(loc)
    return PlaylistError(
        f"Playlists file {where}: {entry}: {message}",
        details={"path": source, "line": line, "entry": entry},
    )


def _check_names(config: PlaylistConfig, source: str, text: str) -> None:
    genres = vocab.genres().names
    for region_id, region in config.regions.items():
        if not PlaylistConfig.KEY.match(region_id):
            raise _problem(
                source,
                text,
                ["regions", region_id],
                "region ids are lower-case letters, digits, - and _ (at most 40)",
            )
        for name in region.genre:
            if name not in genres:
                raise _problem(
                    source,
                    text,
                    ["regions", region_id, "genre", name],
                    f"unknown genre {name!r}; tunelens's vibe genres are {', '.join(genres)}",
                )
        for name in region.mood:
            if name not in MOODS:
                raise _problem(
                    source,
                    text,
                    ["regions", region_id, "mood", name],
                    f"unknown mood {name!r}; moods are {', '.join(MOODS)}",
                )
    if config.default_region not in config.regions:
        raise _problem(
            source,
            text,
            ["default_region"],
            f"{config.default_region!r} is not one of the regions ({', '.join(config.regions)})",
        )


def parse_playlists(text: str, source: str = "<playlists>") -> PlaylistConfig:
    """Parse and validate a playlists TOML document, or raise :class:`PlaylistError`."""
    try:
        raw: dict[str, Any] = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        position = re.search(r"\(at line (\d+), column (\d+)\)", str(exc))
        reason = re.sub(r"\s*\(at line \d+, column \d+\)", "", str(exc)) or "invalid TOML"
        line = int(position.group(1)) if position else None
        where = f"line {line}, column {position.group(2)}" if position else "somewhere"
        raise PlaylistError(
            f"Playlists file {source} is not valid TOML: {where}: {reason}.",
            details={"path": source, "line": line, "entry": None},
        ) from None
    try:
        config = PlaylistConfig.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = [p for p in first["loc"] if isinstance(p, str | int)]
        # pydantic adds the failing model's name for "after" validators: not part of the path
        message = str(first["msg"]).removeprefix("Value error, ")
        raise _problem(source, text, loc, message) from None
    _check_names(config, source, text)
    return config


@cache
def _default_text() -> str:
    return resources.files("tunelens").joinpath("data", "playlists.toml").read_text("utf-8")


def load_playlists(path: Path | None = None) -> PlaylistConfig:
    """The operator's file (``TUNELENS_PLAYLISTS_FILE``) or the built-in defaults."""
    if path is None:
        return parse_playlists(_default_text(), "tunelens/data/playlists.toml")
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise PlaylistError(
            f"Cannot read the playlists file {path}: {getattr(exc, 'strerror', None) or exc}.",
            code="playlists_unreadable",
            details={"path": str(path), "line": None, "entry": None},
        ) from None
    return parse_playlists(text, str(path))


def check_filters(genre: str | None, mood: str | None) -> None:
    """``InvalidRequest`` for a genre or mood no playlist can be filed under (the API's 422,
    the CLI's usage error): an unknown name is a typo, not a group that happens to be empty."""
    genres = vocab.genres().names
    if genre is not None and genre not in genres:
        raise InvalidRequest(
            f"genre must be one of {', '.join(genres)}, got {genre!r}.",
            details={"genre": genre, "known": genres},
        )
    if mood is not None and mood not in MOODS:
        raise InvalidRequest(
            f"mood must be one of {', '.join(MOODS)}, got {mood!r}.",
            details={"mood": mood, "known": list(MOODS)},
        )


def groups(
    config: PlaylistConfig,
    region: str,
    *,
    genre: str | None = None,
    mood: str | None = None,
) -> list[PlaylistGroup]:
    """A region's playlists, genre groups then mood groups, optionally only one genre/mood."""
    chosen = config.regions[region]
    out = []
    for name, entries in chosen.genre.items():
        if (genre is None and mood is None) or name == genre:
            out.append(PlaylistGroup("genre", name, tuple(entries)))
    for name, entries in chosen.mood.items():
        if (genre is None and mood is None) or name == mood:
            out.append(PlaylistGroup("mood", name, tuple(entries)))
    return out


class PlaylistStore:
    """The playlists a server answers with, loaded once (a broken file: the same error each
    time, so ``/api/v1/playlists`` explains it instead of the server failing to start)."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path
        self._config: PlaylistConfig | None = None
        self._error: PlaylistError | None = None

    def get(self) -> PlaylistConfig:
        if self._config is None and self._error is None:
            try:
                self._config = load_playlists(self.path)
            except PlaylistError as exc:
                self._error = exc
        if self._error is not None:
            raise self._error
        assert self._config is not None
        return self._config
