"""Hostile uploads through the real HTTP app: every refused file gets a 4xx with a documented
code on both recommend routes, nothing crashes, and nothing is written outside the data dir.

The corpus is ``tests/unit/bad_images.py`` (shared with the imaging and CLI tests), sent under
hostile file names and content types; hand-built multipart bodies cover broken forms. Files that
*are* valid pictures despite a hostile wrapping (a ZIP or HTML tail, a 64 KB or looping EXIF
block, a lying extension) must be read normally — refusing them would be a bug too — and their
stored copy, when consent is given, must be the re-encoded picture without the payload.
"""

from __future__ import annotations

import io
import tempfile
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.security.conftest import AppFactory, assert_documented_error
from tests.unit.bad_images import (
    BAD_IMAGE_CASES,
    BadImageCase,
    jpeg_with_exif_loop,
    jpeg_with_huge_exif,
    sample_jpeg,
    sample_png,
)
from tests.web.conftest import multipart_body

ROUTES = ("/recommend", "/api/v1/recommend")
MARKER = "tunelens-pwned"
#: file names that try to escape a directory, hide an extension or break a header
HOSTILE_NAMES = [
    f"../../../../../../tmp/{MARKER}.jpg",
    f"..\\..\\..\\{MARKER}.jpg",
    f"/etc/{MARKER}.jpg",
    f"%2e%2e%2f%2e%2e%2f{MARKER}.jpg",
    f"{MARKER}.jpg\x00.php",
    f"фото-照片-{MARKER}-🎵.jpg",
    f"{MARKER}\u202egpj.exe",  # right-to-left override: shows as "...exe.jpg"
    "CON.jpg",
    "a" * 1000 + ".jpg",
    "",
]


def snapshot(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*")} if root.exists() else set()


@pytest.fixture
def watched(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A private temp dir for the duration (multipart spools big parts there): after the test
    it must be empty again — a leaked spool file is a disk-filling bug."""
    spool = tmp_path / "spool"
    spool.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(spool))
    yield spool
    assert snapshot(spool) == set(), "temporary upload files were left behind"


@pytest.fixture
def client(make_client: AppFactory) -> TestClient:
    return make_client(web={"rate_limit_per_minute": 0})


def _data_dir(client: TestClient) -> Path:
    return Path(client.app.state.tunelens.settings.data_dir)  # type: ignore[attr-defined]


def _no_escape(client: TestClient, before_cwd: set[str], cwd: Path) -> None:
    """No new file outside the data dir, and no file named after the attack anywhere."""
    data = _data_dir(client)
    new = {
        p
        for p in snapshot(cwd) - before_cwd
        if not (cwd / p).resolve().is_relative_to(data.resolve()) and not p.startswith("spool")
    }
    assert not new, f"files written outside the data dir: {sorted(new)[:10]}"
    for directory in (cwd, data, Path(tempfile.gettempdir()), Path("/tmp"), Path("/etc")):
        assert not list(directory.glob(f"*{MARKER}*")), directory
    for path in data.rglob("*"):
        assert MARKER not in path.name and "\x00" not in path.name


def test_the_corpus_is_large_and_varied() -> None:
    assert len(BAD_IMAGE_CASES) >= 50
    assert len({case.code for case in BAD_IMAGE_CASES}) >= 6


@pytest.mark.parametrize("route", ROUTES)
def test_every_hostile_file_is_a_documented_4xx_and_nothing_escapes(
    client: TestClient, route: str, watched: Path, tmp_path: Path
) -> None:
    """All 57 files, each under a rotating hostile name and declared type, with consent on."""
    cwd = Path.cwd()
    before = snapshot(cwd)
    declared = ["image/jpeg", "application/octet-stream", "text/plain", None, "image/svg+xml"]
    seen: dict[str, str] = {}
    for i, case in enumerate(BAD_IMAGE_CASES):
        name = HOSTILE_NAMES[i % len(HOSTILE_NAMES)]
        content_type = declared[i % len(declared)]
        body, header = multipart_body(
            [("image", name, case.data(), content_type), ("consent", None, b"true", None)]
        )
        response = client.post(route, content=body, headers={"content-type": header})
        assert response.status_code < 500, (case.name, response.text[:300])
        code = assert_documented_error(response)
        assert code == case.code, (case.name, response.json())
        seen[case.name] = code
    assert len(seen) == len(BAD_IMAGE_CASES)
    _no_escape(client, before, cwd)
    assert not list((_data_dir(client) / "uploads").rglob("*.*")), "a refused file was kept"


def _zip_tail() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("payload.php", "<?php system($_GET['c']); ?>")
    return buffer.getvalue()


#: valid pictures in hostile wrappings: (name, bytes, declared type, file name)
ACCEPTED = [
    ("jpeg_plus_zip_polyglot", lambda: sample_jpeg() + _zip_tail(), "image/jpeg", "x.jpg"),
    (
        "png_plus_html_after_iend",
        lambda: sample_png() + b"<html><script>alert(1)</script></html>",
        "image/png",
        "x.png",
    ),
    ("jpeg_64kb_exif_x3", lambda: jpeg_with_huge_exif(3), "image/jpeg", "x.jpg"),
    ("jpeg_exif_ifd_loop", jpeg_with_exif_loop, "image/jpeg", "x.jpg"),
    ("jpeg_named_exe", sample_jpeg, "application/octet-stream", "setup.exe"),
    ("jpeg_declared_png", sample_jpeg, "image/png", "photo.png"),
    ("jpeg_declared_text", sample_jpeg, "text/plain", "notes.txt"),
    ("jpeg_traversal_name", sample_jpeg, "image/jpeg", f"../../../../tmp/{MARKER}.jpg"),
]


@pytest.mark.parametrize("case", ACCEPTED, ids=[c[0] for c in ACCEPTED])
def test_valid_pictures_in_hostile_wrappings_are_read_and_stored_clean(
    client: TestClient, case: tuple[str, object, str, str], watched: Path
) -> None:
    _, build, content_type, filename = case
    data: bytes = build()  # type: ignore[operator]
    cwd = Path.cwd()
    before = snapshot(cwd)
    response = client.post(
        "/api/v1/recommend",
        files={"image": (filename, data, content_type)},
        data={"consent": "true"},
    )
    assert response.status_code == 200, response.text[:300]
    upload = response.json()["upload"]
    assert upload["kept"] is True and upload["status"] == "stored"
    stored = [p for p in (_data_dir(client) / "uploads").rglob("*") if p.is_file()]
    assert len(stored) == 1
    assert stored[0].name == upload["sha256"][2:], "stored under its hash, never its name"
    kept = stored[0].read_bytes()
    assert b"payload.php" not in kept and b"<script>" not in kept and b"PK\x03\x04" not in kept
    assert b"Exif" not in kept[:4096], "metadata survived"
    _no_escape(client, before, cwd)


def _post_raw(client: TestClient, route: str, body: bytes, content_type: str) -> object:
    return client.post(route, content=body, headers={"content-type": content_type})


BROKEN_FORMS: list[tuple[str, list[tuple[str, str | None, bytes, str | None]] | bytes, str]] = [
    ("no_fields", [], "missing_image"),
    ("only_other_fields", [("top_k", None, b"5", None)], "missing_image"),
    ("image_as_text_field", [("image", None, b"not a file", None)], "missing_image"),
    ("wrong_field_name", [("photo", "a.jpg", b"\xff\xd8\xff", "image/jpeg")], "missing_image"),
    ("empty_file_part", [("image", "a.jpg", b"", "image/jpeg")], "empty_file"),
    ("unicode_field_name", [("изображение", "a.jpg", b"\xff\xd8", "image/jpeg")], "missing_image"),
    (
        "declared_html",
        [("image", "a.html", b"<html></html>", "text/html")],
        "unsupported_media_type",
    ),
    (
        "declared_javascript",
        [("image", "a.js", b"alert(1)", "application/javascript")],
        "unsupported_media_type",
    ),
]


@pytest.mark.parametrize("route", ROUTES)
@pytest.mark.parametrize("case", BROKEN_FORMS, ids=[c[0] for c in BROKEN_FORMS])
def test_broken_forms_are_documented_4xx(
    client: TestClient, route: str, case: tuple[str, object, str]
) -> None:
    _, parts, code = case
    body, header = multipart_body(parts)  # type: ignore[arg-type]
    response = client.post(route, content=body, headers={"content-type": header})
    assert assert_documented_error(response) == code, response.json()


RAW_BODIES = [
    ("no_boundary", b"--x\r\n\r\n", "multipart/form-data"),
    ("boundary_never_used", b"garbage without any boundary", "multipart/form-data; boundary=zz"),
    (
        "unterminated_part",
        b'--zz\r\nContent-Disposition: form-data; name="image"; filename="a.jpg"\r\n\r\n\xff\xd8',
        "multipart/form-data; boundary=zz",
    ),
    (
        "header_without_disposition",
        b"--zz\r\nContent-Type: image/jpeg\r\n\r\n\xff\xd8\xff\r\n--zz--\r\n",
        "multipart/form-data; boundary=zz",
    ),
    (
        "crlf_injection_in_filename",
        b'--zz\r\nContent-Disposition: form-data; name="image"; filename="a\r\nX-Evil: 1.jpg"'
        b"\r\n\r\n\xff\xd8\xff\r\n--zz--\r\n",
        "multipart/form-data; boundary=zz",
    ),
    ("json_body", b'{"image": "aGVsbG8="}', "application/json"),
    ("urlencoded_body", b"image=hello", "application/x-www-form-urlencoded"),
    ("no_content_type", b"\xff\xd8\xff\xe0", ""),
]


@pytest.mark.parametrize("route", ROUTES)
@pytest.mark.parametrize("case", RAW_BODIES, ids=[c[0] for c in RAW_BODIES])
def test_malformed_multipart_is_a_documented_4xx(
    client: TestClient, route: str, case: tuple[str, bytes, str]
) -> None:
    _, body, content_type = case
    headers = {"content-type": content_type} if content_type else {}
    response = client.post(route, content=body, headers=headers)
    assert_documented_error(response)


def test_a_thousand_form_fields_are_refused_not_parsed(client: TestClient) -> None:
    parts: list[tuple[str, str | None, bytes, str | None]] = [
        (f"f{i}", None, b"x", None) for i in range(1200)
    ]
    body, header = multipart_body([*parts, ("image", "a.jpg", sample_jpeg(), "image/jpeg")])
    response = client.post("/api/v1/recommend", content=body, headers={"content-type": header})
    assert_documented_error(response)


def test_batch_route_survives_the_corpus(client: TestClient, watched: Path) -> None:
    """Eight hostile files per batch: each gets its own documented error, the batch a 200."""
    cases: list[BadImageCase] = [c for c in BAD_IMAGE_CASES if c.code != "too_large"]
    for start in range(0, len(cases), 8):
        chunk = cases[start : start + 8]
        files = [
            ("images", (HOSTILE_NAMES[i % 9], c.data(), "image/jpeg")) for i, c in enumerate(chunk)
        ]
        response = client.post("/api/v1/recommend/batch", files=files)
        assert response.status_code == 200, response.text[:300]
        results = response.json()["results"]
        assert [r["error"]["code"] for r in results] == [c.code for c in chunk]
    assert list(watched.iterdir()) == []
