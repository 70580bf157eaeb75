"""Download a catalogue source (by known name or URL), verified by sha256.

This is the only catalogue module that touches the network. Downloads stream to a temporary
file beside the destination, are hashed while they arrive, and are renamed into place only
when the checksum matches — a truncated or tampered download never looks like a catalogue.
A file already present with the right checksum is reused without a request.

Every known source's URL can be redirected with ``TUNELENS_CATALOG_URL_<NAME>`` (name
upper-cased, ``-`` → ``_``; e.g. ``TUNELENS_CATALOG_URL_SPOTIFY_30K``) or the ``url_override``
argument: for a mirror, an air-gapped copy, or a test server on 127.0.0.1. The checksum stays
the known one, so a redirected download must still deliver the same bytes.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO
from urllib.parse import urlparse

import httpx

from tunelens.core.digest import sha256_file
from tunelens.core.errors import CatalogError, DownloadError

_CHUNK = 1 << 16
DEFAULT_MAX_BYTES = 1 << 30


@dataclass(frozen=True, slots=True)
class Source:
    """A downloadable catalogue: where it lives, what its bytes hash to, and its terms."""

    url: str
    sha256: str
    filename: str
    licence: str
    attribution: str
    description: str = ""


KNOWN_SOURCES: dict[str, Source] = {
    "spotify-30k": Source(
        url=(
            "https://raw.githubusercontent.com/rfordatascience/tidytuesday/master/data/"
            "2020/2020-01-21/spotify_songs.csv"
        ),
        sha256="9902920cfe4940f0914ebb6716801a42f7f19ac88fbd6693eaae7e2822b16845",
        filename="spotify_songs.csv",
        licence=(
            "MIT License, Copyright (c) 2018 R for Data Science online learning community "
            "(rfordatascience/tidytuesday); the audio features come from the Spotify Web API "
            "via spotifyr, so Spotify's terms may also apply"
        ),
        attribution=(
            "TidyTuesday 2020-01-21 'Spotify Songs' (rfordatascience/tidytuesday), collected "
            "with the R package spotifyr after Kaylin Pavlik's genre-classification post"
        ),
        description=(
            "32,833 (track, playlist) rows, ~28k unique tracks in 6 genres (EDM, Latin, Pop, "
            "R&B, Rap, Rock) with Spotify audio features"
        ),
    ),
}


def env_var_for(name: str) -> str:
    """The environment variable that overrides a known source's URL."""
    return "TUNELENS_CATALOG_URL_" + re.sub(r"[^A-Z0-9]", "_", name.upper())


def is_url(value: str) -> bool:
    """True for http(s) URLs, the only schemes fetch_source accepts."""
    return urlparse(value).scheme in ("http", "https")


def _filename_from_url(url: str) -> str:
    name = Path(urlparse(url).path).name
    name = re.sub(r"[^A-Za-z0-9._-]", "_", name).lstrip(".")
    return name or "catalogue.csv"


@dataclass(frozen=True, slots=True)
class DownloadPolicy:
    """How a download is checked and bounded."""

    #: the sha256 the bytes must have; for a known source it replaces the known checksum, for
    #: a URL it turns the check on (a URL without one is taken as it comes)
    expected_sha256: str | None = None
    timeout: float = 60.0
    max_bytes: int = DEFAULT_MAX_BYTES


@dataclass(frozen=True, slots=True)
class _Target:
    """What to fetch and how to check it: URL, expected sha256 ('' = no check), file name."""

    url: str
    sha256: str
    filename: str


def _target(name_or_url: str, url_override: str | None, expected_sha256: str | None) -> _Target:
    if name_or_url in KNOWN_SOURCES:
        known = KNOWN_SOURCES[name_or_url]
        url = url_override or os.environ.get(env_var_for(name_or_url)) or known.url
        target = _Target(url, (expected_sha256 or known.sha256).lower(), known.filename)
    elif is_url(name_or_url):
        sha256 = expected_sha256.lower() if expected_sha256 else ""
        target = _Target(url_override or name_or_url, sha256, _filename_from_url(name_or_url))
    else:
        raise CatalogError(
            f"unknown catalogue source {name_or_url!r}; known sources: "
            f"{', '.join(sorted(KNOWN_SOURCES))} (or give an http(s) URL or a local path)",
            code="unknown_source",
            details={"known": sorted(KNOWN_SOURCES)},
        )
    if not is_url(target.url):
        raise DownloadError(f"not an http(s) URL: {target.url!r}", code="download_failed")
    return target


def _stream(url: str, out: BinaryIO, policy: DownloadPolicy, name: str) -> tuple[str, int]:
    """Stream ``url`` into ``out``; returns (sha256 hex, bytes received)."""
    digest = hashlib.sha256()
    received = 0
    try:
        with (
            httpx.Client(timeout=policy.timeout, follow_redirects=True) as client,
            client.stream("GET", url) as response,
        ):
            if response.status_code != 200:
                raise DownloadError(
                    f"downloading {url} failed: HTTP {response.status_code} "
                    f"{response.reason_phrase}",
                    code="download_failed",
                    details={"url": url, "status": response.status_code},
                )
            for chunk in response.iter_bytes(_CHUNK):
                received += len(chunk)
                if received > policy.max_bytes:
                    raise DownloadError(
                        f"downloading {url} stopped: more than {policy.max_bytes:,} bytes",
                        code="download_failed",
                        details={"url": url},
                    )
                digest.update(chunk)
                out.write(chunk)
    except httpx.TimeoutException as exc:
        raise DownloadError(
            f"downloading {url} timed out after {policy.timeout:g} s; check the network or "
            f"set {env_var_for(name)} to a reachable mirror",
            code="download_failed",
            details={"url": url},
        ) from exc
    except httpx.HTTPError as exc:
        raise DownloadError(
            f"could not download {url}: cannot reach {urlparse(url).netloc} "
            f"({type(exc).__name__}: {exc}). tunelens needs network access for this, or a "
            "local copy: `tunelens catalog build PATH/TO/spotify_songs.csv`",
            code="download_failed",
            details={"url": url},
        ) from exc
    return digest.hexdigest(), received


def fetch_source(
    name_or_url: str,
    dest_dir: str | Path,
    *,
    url_override: str | None = None,
    policy: DownloadPolicy | None = None,
    progress: Callable[[str], None] | None = None,
) -> Path:
    """Download a known source (``spotify-30k``) or an http(s) URL into ``dest_dir``.

    Returns the path of the verified file. Raises CatalogError ``unknown_source`` for a
    name that is neither known nor a URL, DownloadError ``checksum_mismatch`` when the bytes
    differ from the expected sha256 (the partial file is removed), and DownloadError
    ``download_failed`` for network errors, HTTP errors or a body over ``policy.max_bytes``.
    """
    policy = policy or DownloadPolicy()
    target = _target(name_or_url, url_override, policy.expected_sha256)
    url, sha256 = target.url, target.sha256
    dest = Path(dest_dir).expanduser()
    dest.mkdir(parents=True, exist_ok=True)
    final = dest / target.filename
    if sha256 and final.is_file() and sha256_file(final) == sha256:
        if progress is not None:
            progress(f"using cached {final} (sha256 verified)")
        return final

    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.filename}.", suffix=".part", dir=dest)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as out:
            if progress is not None:
                progress(f"downloading {url}")
            actual, received = _stream(url, out, policy, name_or_url)
            out.flush()
            os.fsync(out.fileno())
        if sha256 and actual != sha256:
            raise DownloadError(
                f"the file downloaded from {url} has sha256 {actual}, expected {sha256}; "
                "it was deleted. The server sent different bytes (a changed upstream file, "
                "a proxy error page, or tampering)",
                code="checksum_mismatch",
                details={"url": url, "expected": sha256, "actual": actual, "bytes": received},
            )
        tmp.replace(final)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    if progress is not None:
        progress(f"saved {final} ({received:,} bytes)")
    return final
