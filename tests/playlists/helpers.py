"""Readers for the playlist files tunelens writes, shared by the playlist, web, CLI and e2e tests."""

from __future__ import annotations

from urllib.parse import urlparse


def parse_m3u8(text: str) -> tuple[str, list[tuple[int, str, str]]]:
    """(title, [(seconds, 'artist - title', url)]) — a strict reader of what we write."""
    lines = text.splitlines()
    assert lines[0] == "#EXTM3U"
    assert lines[1].startswith("#PLAYLIST:")
    entries = []
    rest = lines[2:]
    assert len(rest) % 2 == 0
    for info, url in zip(rest[::2], rest[1::2], strict=True):
        assert info.startswith("#EXTINF:")
        seconds, _, name = info.removeprefix("#EXTINF:").partition(",")
        assert urlparse(url).scheme == "https"
        entries.append((int(seconds), name, url))
    return lines[1].removeprefix("#PLAYLIST:"), entries
