"""Photo sources: which files a folder offers, how a vanished photo is reported, how a
command-line source is resolved, and that an S3 source travels without its client."""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest

from tunelens.batch.sources import LocalFolder, PhotoMissing, S3Prefix, open_source
from tunelens.core.errors import InvalidRequest
from tunelens.core.settings import Settings


def test_a_folder_offers_photo_suffixes_and_skips_hidden_files(tmp_path: Path) -> None:
    for name in ("b.JPG", "a.png", "deep/c.webp", "notes.txt", ".hidden.jpg", ".cache/d.jpg"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(b"x")
    folder = LocalFolder(tmp_path)
    assert folder.list_photos() == ["a.png", "b.JPG", "deep/c.webp"]
    assert folder.read("a.png") == tmp_path / "a.png"
    with pytest.raises(PhotoMissing):
        folder.read("gone.jpg")
    assert folder.label == str(tmp_path)


def test_open_source_resolves_folders_and_s3_prefixes(tmp_path: Path) -> None:
    settings = Settings(
        _env_file=None,
        s3_endpoint_url="http://127.0.0.1:9",
        s3_access_key_id="key",
        s3_secret_access_key="secret",
    )
    assert open_source(tmp_path, settings) == LocalFolder(tmp_path)
    source = open_source("s3://library/albums/2024", settings)
    assert isinstance(source, S3Prefix)
    assert (source.bucket, source.prefix, source.endpoint_url) == (
        "library",
        "albums/2024/",
        "http://127.0.0.1:9",
    )
    assert source.label == "s3://library/albums/2024/"
    assert "secret" not in repr(source)
    whole = open_source("s3://library", settings)
    assert isinstance(whole, S3Prefix) and whole.prefix == ""


@pytest.mark.parametrize(
    ("text", "code", "words"),
    [
        ("ftp://host/photos", "unsupported_source", "not supported"),
        ("s3://", "unsupported_source", "no bucket"),
        ("nowhere", "source_not_found", "not a folder"),
    ],
)
def test_bad_sources_are_refused(tmp_path: Path, text: str, code: str, words: str) -> None:
    raw = text if "://" in text else str(tmp_path / text)
    with pytest.raises(InvalidRequest) as caught:
        open_source(raw, Settings(_env_file=None))
    assert caught.value.code == code and words in caught.value.message


def test_an_s3_source_pickles_without_its_client() -> None:
    source = S3Prefix("library", "albums/", endpoint_url="http://127.0.0.1:9")
    source._client_store = object()  # type: ignore[assignment]
    copy = pickle.loads(pickle.dumps(source))
    assert copy == source and copy._client_store is None
