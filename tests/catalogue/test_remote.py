"""Catalogues in S3-compatible storage (moto's server on 127.0.0.1): push, sync, verify, switch."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.catalogue.helpers import random_catalogue
from tests.catalogue.s3_server import S3Server, free_port, start_s3_server
from tunelens.catalogue.index import CatalogueIndex
from tunelens.catalogue.remote import (
    RemoteCatalogue,
    S3Location,
    local_catalogue_dir,
    remote_url,
)
from tunelens.core.errors import CatalogError, ConfigError
from tunelens.core.settings import Settings

pytestmark = pytest.mark.s3


@pytest.fixture(scope="module")
def s3() -> Iterator[S3Server]:
    yield from start_s3_server()


@pytest.fixture
def bucket(s3: S3Server) -> str:
    name = f"cat-{uuid.uuid4().hex[:10]}"
    s3.client().create_bucket(Bucket=name)
    return name


def _settings(s3: S3Server, tmp_path: Path, name: str = "cache") -> Settings:
    env = s3.env()
    return Settings(
        cache_dir=tmp_path / name,
        s3_endpoint_url=env["TUNELENS_S3_ENDPOINT_URL"],
        s3_access_key_id=env["TUNELENS_S3_ACCESS_KEY_ID"],
        s3_secret_access_key=env["TUNELENS_S3_SECRET_ACCESS_KEY"],
    )


def _built(directory: Path, seed: int = 0, n: int = 120) -> Path:
    CatalogueIndex.build(random_catalogue(n, seed=seed)).save(directory)
    return directory


def test_remote_url_survives_a_path_option() -> None:
    # typer turns `--catalog s3://b/p` into Path('s3:/b/p'); it must still mean the bucket
    assert remote_url(Path("s3://bucket/some/prefix")) == "s3://bucket/some/prefix"
    assert remote_url("s3://bucket") == "s3://bucket"
    assert remote_url(Path("/srv/catalog")) is None
    assert S3Location.parse("s3://b/a/b/") == S3Location("b", "a/b/")
    with pytest.raises(ConfigError) as info:
        S3Location.parse("s3:///prefix")
    assert info.value.code == "catalog_url_invalid"


def test_pushed_catalogue_opens_identically_on_another_machine(
    s3: S3Server, bucket: str, tmp_path: Path
) -> None:
    local = _built(tmp_path / "built")
    url = f"s3://{bucket}/prod/songs"
    pushed = RemoteCatalogue.from_settings(url, _settings(s3, tmp_path, "publisher")).push(local)
    assert pushed.uploaded == pushed.files >= 2
    again = RemoteCatalogue.from_settings(url, _settings(s3, tmp_path, "publisher")).push(local)
    assert (again.version, again.uploaded) == (pushed.version, 0)  # nothing new to send

    opened = local_catalogue_dir(url, _settings(s3, tmp_path, "server"))
    assert opened.name == pushed.version
    original, copy = CatalogueIndex.load(local), CatalogueIndex.load(opened)
    assert copy.meta["catalogue_hash"] == original.meta["catalogue_hash"]
    assert [t.id for t in copy.catalogue] == [t.id for t in original.catalogue]
    keys = {o["Key"] for o in s3.client().list_objects_v2(Bucket=bucket)["Contents"]}
    assert "prod/songs/meta.json" in keys
    assert all(k.startswith("prod/songs/objects/") for k in keys - {"prod/songs/meta.json"})


def test_a_new_version_is_picked_up_and_old_files_are_reused(
    s3: S3Server, bucket: str, tmp_path: Path
) -> None:
    url = f"s3://{bucket}/cat"
    publisher = RemoteCatalogue.from_settings(url, _settings(s3, tmp_path, "publisher"))
    server = RemoteCatalogue.from_settings(url, _settings(s3, tmp_path, "server"))
    first = publisher.push(_built(tmp_path / "v1", seed=1))
    assert server.sync().name == first.version
    assert server.sync().name == first.version  # unchanged: nothing downloaded, same dir
    second = publisher.push(_built(tmp_path / "v2", seed=2, n=150))
    assert second.version != first.version
    assert server.current_version() == second.version
    now = server.sync()
    assert now.name == second.version
    assert server.cache.current() == now
    assert len(CatalogueIndex.load(now)) == 150
    # the previous version stays for a reader that resolved it before the switch
    assert server.cache.installed(first.version) is not None


def test_missing_bucket_or_catalogue_has_a_clear_code(
    s3: S3Server, bucket: str, tmp_path: Path
) -> None:
    settings = _settings(s3, tmp_path)
    for url in (f"s3://no-such-bucket-{uuid.uuid4().hex[:6]}/x", f"s3://{bucket}/nothing/here"):
        with pytest.raises(CatalogError) as info:
            local_catalogue_dir(url, settings)
        assert info.value.code == "catalog_remote_missing"
        assert url in info.value.message


def test_unreachable_store_serves_the_cached_version_or_says_so(
    s3: S3Server, bucket: str, tmp_path: Path
) -> None:
    url = f"s3://{bucket}/cat"
    settings = _settings(s3, tmp_path)
    RemoteCatalogue.from_settings(url, settings).push(_built(tmp_path / "v1"))
    cached = local_catalogue_dir(url, settings)
    dead = settings.model_copy(update={"s3_endpoint_url": f"http://127.0.0.1:{free_port()}"})
    assert local_catalogue_dir(url, dead) == cached  # a restart during an outage still serves
    fresh = dead.model_copy(update={"cache_dir": tmp_path / "empty-cache"})
    with pytest.raises(CatalogError) as info:
        local_catalogue_dir(url, fresh)
    assert info.value.code == "catalog_remote_unreachable"


def test_a_tampered_object_is_refused_and_never_made_current(
    s3: S3Server, bucket: str, tmp_path: Path
) -> None:
    url = f"s3://{bucket}/cat"
    settings = _settings(s3, tmp_path)
    remote = RemoteCatalogue.from_settings(url, settings)
    remote.push(_built(tmp_path / "v1"))
    meta = json.loads(remote.read_manifest())
    victim = meta["files"][0]
    key = f"cat/objects/{victim['sha256']}"
    s3.client().put_object(Bucket=bucket, Key=key, Body=b"x" * victim["size"])
    with pytest.raises(CatalogError) as info:
        remote.sync()
    assert info.value.code == "catalog_remote_corrupt"
    assert remote.cache.current() is None
    assert not list(remote.cache.versions.iterdir())  # the staging copy is gone too


def test_a_prefix_copied_by_hand_is_read_by_file_name(
    s3: S3Server, bucket: str, tmp_path: Path
) -> None:
    local = _built(tmp_path / "built")
    client = s3.client()
    for path in sorted(local.iterdir()):  # like `aws s3 sync DIR s3://bucket/plain`
        client.upload_file(str(path), bucket, f"plain/{path.name}")
    opened = local_catalogue_dir(f"s3://{bucket}/plain", _settings(s3, tmp_path))
    assert len(CatalogueIndex.load(opened)) == len(CatalogueIndex.load(local))


def test_push_refuses_what_a_server_could_not_open_and_publishes_nothing(
    s3: S3Server, bucket: str, tmp_path: Path
) -> None:
    remote = RemoteCatalogue.from_settings(f"s3://{bucket}/p", _settings(s3, tmp_path))
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(CatalogError) as missing:
        remote.push(empty)
    assert missing.value.code == "catalog_missing"
    damaged = _built(tmp_path / "damaged")
    (damaged / "meta.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(CatalogError) as corrupt:
        remote.push(damaged)
    assert corrupt.value.code == "index_corrupt"
    assert "Contents" not in s3.client().list_objects_v2(Bucket=bucket)
