"""``tunelens batch``: one line per photo, unreadable photos reported, resumable, an album
line last; the local pool and the Ray engine give the same lines as one process.

Uses the weight-free colour encoder (fast, deterministic) and the first 2,000 rows of the
shared Spotify CSV.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from tests.conftest import PHOTOS_DIR, SPOTIFY_CSV, require_shared
from tests.feature_synth import picture_for, synthetic_tracks
from tests.storage.conftest import MotoServer, free_port
from tunelens.batch.job import BatchJob, resolved_source, run_batch
from tunelens.batch.output import read_output
from tunelens.batch.worker import load_pipeline, process_batch
from tunelens.catalogue.build import build_catalog
from tunelens.catalogue.index import CatalogueIndex
from tunelens.catalogue.models import Catalogue
from tunelens.cli.app import main
from tunelens.heads.feature import RidgeHead, write_meta
from tunelens.heads.store import set_active, task_dir
from tunelens.storage.errors import BlobStoreUnavailable
from tunelens.vision.colour import ColourEncoder

PHOTOS = [
    "kite_blue_sky_clouds_01.jpg",
    "forest_path_01.jpg",
    "cat_closeup_chelsea_01.png",
    "sunset_lake_rowboats_01.jpg",
]


@pytest.fixture(scope="module")
def catalog(tmp_path_factory: pytest.TempPathFactory) -> Path:
    lines = require_shared(SPOTIFY_CSV).read_text(encoding="utf-8").splitlines(keepends=True)
    root = tmp_path_factory.mktemp("batch-catalog")
    (root / "songs.csv").write_text("".join(lines[:2001]), encoding="utf-8")
    build_catalog(root / "songs.csv", root / "catalog")
    return root / "catalog"


@pytest.fixture
def photos(tmp_path: Path) -> Path:
    folder = tmp_path / "photos"
    (folder / "trip").mkdir(parents=True)
    for name in PHOTOS[:3]:
        shutil.copy(require_shared(PHOTOS_DIR / name), folder / name)
    shutil.copy(PHOTOS_DIR / PHOTOS[3], folder / "trip" / PHOTOS[3])
    (folder / "notes.jpg").write_text("not a photo at all\n")
    (folder / "empty.png").write_bytes(b"")
    (folder / "readme.txt").write_text("ignored: not a photo suffix\n")
    (folder / ".hidden.jpg").write_bytes(b"ignored")
    return folder


def lines_of(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def comparable(lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Lines without timings, sorted by photo (completion order may differ)."""
    out = [{k: v for k, v in line.items() if k != "timings_ms"} for line in lines]
    return sorted(out, key=lambda line: line.get("photo", "\uffff"))


def job(photos: Path, out: Path, catalog: Path, **kw: Any) -> BatchJob:
    return BatchJob(source=photos, out=out, encoder="colour", catalog_dir=catalog, **kw)


EXPECTED = {
    "cat_closeup_chelsea_01.png",
    "empty.png",
    "forest_path_01.jpg",
    "kite_blue_sky_clouds_01.jpg",
    "notes.jpg",
    "trip/sunset_lake_rowboats_01.jpg",
}


def test_one_line_per_photo_errors_and_album(photos: Path, catalog: Path, tmp_path: Path) -> None:
    out = tmp_path / "results.jsonl"
    summary = run_batch(job(photos, out, catalog), progress=False)
    lines = lines_of(out)
    assert [line["type"] for line in lines] == ["photo"] * 6 + ["album"]
    by_photo = {line["photo"]: line for line in lines[:-1]}
    assert set(by_photo) == EXPECTED
    assert by_photo["notes.jpg"]["error"]["code"] == "not_an_image"
    assert by_photo["empty.png"]["error"]["code"] == "empty_file"
    ok = by_photo["forest_path_01.jpg"]
    assert ok["status"] == "ok" and len(ok["tracks"]) == 10 and ok["reading"]["top_emotion"]
    assert ok["tracks"][0]["rank"] == 1 and ok["sha256"]
    album = lines[-1]
    assert album["photos"] == 4 and album["errors"] == 2 and len(album["tracks"]) == 20
    assert -1 <= album["reading"]["valence"] <= 1
    assert (summary.processed, summary.ok, summary.errors, summary.skipped) == (6, 4, 2, 0)


def test_resume_after_interruption_and_torn_line(
    photos: Path, catalog: Path, tmp_path: Path
) -> None:
    out = tmp_path / "results.jsonl"
    first = run_batch(job(photos, out, catalog, limit=2), progress=False)
    assert first.processed == 2 and [line["type"] for line in lines_of(out)][-1] == "album"
    # a run killed mid-write leaves a torn last line
    with out.open("a", encoding="utf-8") as handle:
        handle.write('{"type":"photo","photo":"forest_pa')
    second = run_batch(job(photos, out, catalog), progress=False)
    assert second.skipped == 2 and second.processed == 4
    lines = lines_of(out)
    photo_lines = [line["photo"] for line in lines if line["type"] == "photo"]
    assert sorted(photo_lines) == sorted(EXPECTED)  # one line per photo, none twice
    assert [line["type"] for line in lines].count("album") == 1
    assert lines[-1]["type"] == "album" and lines[-1]["photos"] == 4
    # nothing left to do: the album is rewritten, nothing else
    third = run_batch(job(photos, out, catalog), progress=False)
    assert third.processed == 0 and len(lines_of(out)) == 7
    assert comparable(lines_of(out)) == comparable(lines)
    fresh = tmp_path / "fresh.jsonl"
    run_batch(job(photos, fresh, catalog), progress=False)
    assert comparable(lines_of(fresh)) == comparable(lines)


def test_cli_batch_and_bad_sources(
    photos: Path, catalog: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "cli.jsonl"
    args = ["batch", str(photos), "--out", str(out), "--encoder", "colour"]
    assert main([*args, "--catalog", str(catalog), "--no-progress", "-k", "5"]) == 0
    assert "6 photos" in capsys.readouterr().err
    assert len(lines_of(out)) == 7 and len(lines_of(out)[0].get("tracks", [1] * 5)) == 5
    assert main(["batch", "ftp://host/photos", "--out", str(out)]) == 1
    assert "not supported" in capsys.readouterr().err
    assert main(["batch", "s3://", "--out", str(out)]) == 1
    assert "no bucket" in capsys.readouterr().err
    assert main(["batch", str(tmp_path / "nowhere"), "--out", str(out)]) == 1
    assert "not a folder" in capsys.readouterr().err
    assert main([*args, "--engine", "spark"]) == 2


@pytest.mark.slow
def test_process_pool_gives_the_same_lines(photos: Path, catalog: Path, tmp_path: Path) -> None:
    one, two = tmp_path / "one.jsonl", tmp_path / "two.jsonl"
    run_batch(job(photos, one, catalog, batch_size=2), progress=False)
    summary = run_batch(job(photos, two, catalog, batch_size=2, workers=2), progress=False)
    assert summary.processed == 6
    assert comparable(lines_of(two)) == comparable(lines_of(one))


@pytest.mark.slow
def test_killed_run_resumes(photos: Path, catalog: Path, tmp_path: Path) -> None:
    """A real process killed with SIGKILL mid-run: every complete line survives (fsync)."""
    for i in range(40):
        shutil.copy(photos / PHOTOS[0], photos / "trip" / f"copy_{i:02d}.jpg")
    out = tmp_path / "killed.jsonl"
    cmd = [
        sys.executable,
        "-m",
        "tunelens.cli",
        "batch",
        str(photos),
        "--out",
        str(out),
        "--encoder",
        "colour",
        "--catalog",
        str(catalog),
        "--batch-size",
        "1",
        "--no-progress",
    ]
    proc = subprocess.Popen(
        cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=dict(os.environ)
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and proc.poll() is None:
        if out.exists() and out.read_bytes().count(b"\n") >= 3:
            proc.send_signal(signal.SIGKILL)
            break
        time.sleep(0.02)
    proc.wait(timeout=60)
    done, _ = read_output(out)
    assert len(done) >= 3
    summary = run_batch(job(photos, out, catalog), progress=False)
    assert summary.skipped == len(done)
    photo_lines = [line["photo"] for line in lines_of(out) if line["type"] == "photo"]
    assert len(photo_lines) == len(set(photo_lines)) == 46
    assert lines_of(out)[-1]["type"] == "album"


@pytest.mark.slow
def test_ray_engine_matches_local(photos: Path, catalog: Path, tmp_path: Path) -> None:
    ray = pytest.importorskip("ray")
    pytest.importorskip("ray.data")
    local, distributed = tmp_path / "local.jsonl", tmp_path / "ray.jsonl"
    run_batch(job(photos, local, catalog, batch_size=2), progress=False)
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        summary = run_batch(
            job(photos, distributed, catalog, batch_size=2, workers=2, engine="ray"),
            progress=False,
        )
    finally:
        ray.shutdown()
    assert summary.processed == 6 and summary.errors == 2
    assert comparable(lines_of(distributed)) == comparable(lines_of(local))


def _s3_settings(endpoint: str) -> dict[str, Any]:
    return {
        "s3_endpoint_url": endpoint,
        "s3_region": "us-east-1",
        "s3_access_key_id": "testing",
        "s3_secret_access_key": "testing",
    }


def test_s3_prefix_source_matches_local_folder(photos: Path, catalog: Path, tmp_path: Path) -> None:
    """Photos under s3://bucket/prefix on a real S3-compatible server (moto, loopback) give
    the same lines as the same files in a folder; objects outside the prefix are ignored."""
    pytest.importorskip("moto.server", reason="moto[server] is not installed (tunelens[dev])")
    boto3 = pytest.importorskip("boto3", reason="boto3 is not installed (tunelens[dev])")
    server = MotoServer(free_port())
    server.start()
    try:
        client = boto3.client("s3", endpoint_url=server.endpoint, **_credentials())
        client.create_bucket(Bucket="library")
        for path in sorted(photos.rglob("*")):
            if path.is_file():
                key = "albums/2024/" + path.relative_to(photos).as_posix()
                client.put_object(Bucket="library", Key=key, Body=path.read_bytes())
        client.put_object(Bucket="library", Key="other/ignored.jpg", Body=b"x")
        settings = _s3_settings(server.endpoint)
        local, remote = tmp_path / "local.jsonl", tmp_path / "s3.jsonl"
        run_batch(job(photos, local, catalog, batch_size=2), progress=False)
        summary = run_batch(
            BatchJob(
                source="s3://library/albums/2024",
                out=remote,
                encoder="colour",
                catalog_dir=catalog,
                batch_size=2,
                settings=settings,
            ),
            progress=False,
        )
        assert summary.processed == len(EXPECTED)
        assert comparable(lines_of(remote)) == comparable(lines_of(local))

        # the store dies between listing and reading: the read raises (no error lines that
        # would mark the photos done), and the next run picks up exactly what is missing
        def s3_job(out: Path, **kw: Any) -> BatchJob:
            return BatchJob(
                source="s3://library/albums/2024",
                out=out,
                encoder="colour",
                catalog_dir=catalog,
                batch_size=2,
                settings=settings,
                **kw,
            )

        partial = tmp_path / "partial.jsonl"
        assert run_batch(s3_job(partial, limit=2), progress=False).processed == 2
        job_ = s3_job(partial)
        source = resolved_source(job_)
        names = source.list_photos()
        engine = load_pipeline(job_.work())
        server.stop()
        with pytest.raises(BlobStoreUnavailable) as caught:
            process_batch(engine, source, names[2:4], 5)
        assert caught.value.code == "blob_store_unavailable"
        with pytest.raises(BlobStoreUnavailable):
            run_batch(s3_job(partial), progress=False)  # dead at listing: stops at once
        assert len([line for line in lines_of(partial) if line["type"] == "photo"]) == 2
        server.start()
        summary = run_batch(s3_job(partial), progress=False)
        assert summary.skipped == 2 and summary.processed == len(EXPECTED) - 2
        done = [line for line in lines_of(partial) if line["type"] == "photo"]
        assert sorted(line["photo"] for line in done) == sorted(EXPECTED)
        assert all(line.get("error", {}).get("code") != "blob_store_unavailable" for line in done)
    finally:
        server.stop()


def _credentials() -> dict[str, str]:
    return {
        "region_name": "us-east-1",
        "aws_access_key_id": "testing",
        "aws_secret_access_key": "testing",
    }


#: what the feature head below predicts for every picture: the opposite of what the bright,
#: grey test pictures read as (pleasant and calm)
HEAD_TARGET = {"valence": 0.02, "energy": 0.98}


def _activate_constant_head(heads_dir: Path) -> None:
    """A passing ridge head for the colour encoder that ignores the picture and always
    predicts :data:`HEAD_TARGET`; made by hand so its predictions are known exactly."""
    dim = ColourEncoder.dim
    names = list(HEAD_TARGET)
    folder = task_dir(heads_dir, ColourEncoder.model_id, "features")
    version = folder / "20240101T000000Z"
    version.mkdir(parents=True)
    RidgeHead(
        {
            "w_features": np.zeros((len(names), dim)),
            "b_features": np.array([HEAD_TARGET[n] for n in names]),
            "w_emotions": np.zeros((1, dim)),
            "b_emotions": np.zeros(1),
        },
        {},
    ).save(version)
    meta = {
        "kind": "features",
        "model": "ridge",
        "encoder": {"name": "colour", "model_id": ColourEncoder.model_id, "dim": dim},
        "features": names,
        "emotions": ["awe"],
    }
    write_meta(version, meta, {"passed": True, "verdict": "made for the test"})
    set_active(folder, version.name, reason="test")


def _mean_catalogue(tracks: list[dict[str, Any]], by_id: dict[str, float]) -> float:
    return float(np.mean([by_id[t["id"]] for t in tracks]))


def test_album_follows_the_active_feature_head(tmp_path: Path) -> None:
    """Photo lines record the target the pipeline ranked against, which follows the active
    feature head, and the album's target and songs follow the same head."""
    songs = synthetic_tracks(300, seed=3)
    catalog_dir = tmp_path / "catalog"
    CatalogueIndex.build(Catalogue(songs)).save(catalog_dir)
    valence_of = {song.id: song.features["valence"] for song in songs}
    folder = tmp_path / "photos"
    folder.mkdir()
    rng = np.random.default_rng(0)
    for i, valence in enumerate((0.8, 0.85, 0.9, 0.95)):
        Image.fromarray(picture_for(valence, 0.05, rng, size=48)).save(folder / f"p{i}.png")

    def album_of(home: Path, out: Path) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        settings = {
            "data_dir": str(home / "data"),
            "cache_dir": str(home / "cache"),
            "allow_download": False,
            "feature_head_blend": 1.0,
        }
        run_batch(
            BatchJob(
                source=folder, out=out, encoder="colour", catalog_dir=catalog_dir, settings=settings
            ),
            progress=False,
        )
        lines = lines_of(out)
        return lines[-1], [line for line in lines if line["type"] == "photo"]

    plain_album, plain_photos = album_of(tmp_path / "plain", tmp_path / "plain.jsonl")
    _activate_constant_head(tmp_path / "learned" / "data" / "heads")
    head_album, head_photos = album_of(tmp_path / "learned", tmp_path / "learned.jsonl")

    for album, photos in ((plain_album, plain_photos), (head_album, head_photos)):
        assert album["photos"] == 4 and all(line["status"] == "ok" for line in photos)
        for name in ("valence", "energy", "tempo"):  # the album's target: the photos' mean
            mean = np.mean([line["target"]["features"][name] for line in photos])
            assert album["target"]["features"][name] == pytest.approx(mean, abs=1e-3)
    for line in head_photos:
        assert line["target"]["features"]["valence"] == pytest.approx(0.02, abs=1e-3)
        assert line["target"]["features"]["energy"] == pytest.approx(0.98, abs=1e-3)
    assert head_album["target"]["features"]["valence"] == pytest.approx(0.02, abs=1e-3)
    assert head_album["target"]["features"]["energy"] == pytest.approx(0.98, abs=1e-3)
    # without the head, the same pictures ask for something else entirely …
    assert plain_album["target"]["features"]["valence"] > 0.3
    assert plain_album["target"]["features"]["energy"] < 0.7
    # … so the album's songs differ, and sadder songs come with the head
    assert {t["id"] for t in head_album["tracks"]} != {t["id"] for t in plain_album["tracks"]}
    assert _mean_catalogue(head_album["tracks"], valence_of) < _mean_catalogue(
        plain_album["tracks"], valence_of
    )
    # the album's reading comes from the pictures alone, so the head does not change it
    assert head_album["reading"] == plain_album["reading"]
