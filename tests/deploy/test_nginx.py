"""The shipped nginx site: ``nginx -t`` as shipped, body limits equal to the app's, and a real
nginx (a non-daemon child on a free loopback port, with its own prefix, pid and logs) in
front of ``tunelens serve --workers 2``: a photo posted through it, metrics summed over the
workers, request ids shared by both logs, a rolling reload without a failed request."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import PHOTOS_DIR, REPO_ROOT, require_shared
from tunelens.core.settings import Settings
from tunelens.web.app import STATIC_DIR
from tunelens.web.middleware.body_limit import UploadLimits
from tunelens.web.settings import WebSettings

SITE = REPO_ROOT / "deploy" / "nginx" / "tunelens.conf"
SYSTEM_MIME_TYPES = Path("/etc/nginx/mime.types")
MIB = 1024 * 1024
#: in the foreground, as a child of the test: no system service, no root-only paths
DAEMON_OFF = "daemon off;"


def nginx_binary() -> str:
    found = shutil.which("nginx") or next(
        (p for p in ("/usr/sbin/nginx", "/usr/local/sbin/nginx") if Path(p).exists()), None
    )
    if found is None:
        pytest.skip("nginx is not installed (Debian: apt-get install nginx)")
    return found


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wrapper_conf(prefix: Path, site: Path) -> Path:
    """A minimal nginx.conf whose http {} includes ``site``, with every path under ``prefix``."""
    mime = (
        f"include {SYSTEM_MIME_TYPES};"
        if SYSTEM_MIME_TYPES.exists()
        else "types { text/html html; text/css css; application/javascript js; image/svg+xml svg; }"
    )
    temps = "\n".join(
        f"    {name}_temp_path {prefix / 'temp' / name};"
        for name in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    conf = prefix / "nginx.conf"
    conf.write_text(
        f"pid {prefix / 'nginx.pid'};\n"
        f"error_log {prefix / 'error.log'} info;\n"
        "worker_processes 1;\n"
        "events { worker_connections 256; }\n"
        "http {\n"
        f"    {mime}\n"
        "    default_type application/octet-stream;\n"
        f"    access_log {prefix / 'default-access.log'};\n"
        f"{temps}\n"
        f"    include {site};\n"
        "}\n"
    )
    return conf


def make_prefix() -> Path:
    """A prefix the unprivileged nginx worker (``nobody`` when started as root) can enter."""
    prefix = Path(tempfile.mkdtemp(prefix="tunelens-nginx-", dir="/tmp"))
    prefix.chmod(0o755)
    (prefix / "temp").mkdir()
    return prefix


def nginx_test(conf: Path, prefix: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [nginx_binary(), "-t", "-p", str(prefix), "-e", str(prefix / "error.log"), "-c", str(conf)],
        capture_output=True,
        text=True,
        timeout=60,
    )


def render_site(text: str, *, listen: int, app_port: int, static: Path, access_log: Path) -> str:
    """The shipped site with this test's port, upstream, static files and log path."""
    replacements = [
        ("    listen 80;\n", f"    listen 127.0.0.1:{listen};\n"),
        ("    listen [::]:80;\n", ""),
        ("server 127.0.0.1:8000 ", f"server 127.0.0.1:{app_port} "),
        ("alias /opt/tunelens/static/;", f"alias {static}/;"),
        (
            "access_log /var/log/nginx/tunelens.access.log tunelens_json;",
            f"access_log {access_log} tunelens_json;",
        ),
    ]
    for old, new in replacements:
        assert text.count(old) == 1, f"deploy/nginx/tunelens.conf no longer has {old!r} once"
        text = text.replace(old, new)
    return text


# --- the config as shipped --------------------------------------------------------------------


def test_shipped_config_passes_nginx_t() -> None:
    nginx_binary()
    log_dir = Path("/var/log/nginx")
    if not os.access(log_dir, os.W_OK):
        pytest.skip(f"{log_dir} is not writable here; the shipped access_log lives there")
    prefix = make_prefix()
    try:
        done = nginx_test(wrapper_conf(prefix, SITE), prefix)
        assert done.returncode == 0, done.stderr
        assert "test is successful" in done.stderr
    finally:
        shutil.rmtree(prefix, ignore_errors=True)


def test_nginx_t_catches_a_broken_site() -> None:
    """The check above can fail: a broken copy of the site is refused."""
    nginx_binary()
    prefix = make_prefix()
    try:
        broken = prefix / "broken.conf"
        broken.write_text(
            SITE.read_text().replace("proxy_read_timeout 120s;", "proxy_read_timeout;")
        )
        done = nginx_test(wrapper_conf(prefix, broken), prefix)
        assert done.returncode != 0
        assert "proxy_read_timeout" in done.stderr
    finally:
        shutil.rmtree(prefix, ignore_errors=True)


def _size(value: str) -> int:
    number, unit = re.fullmatch(r"(\d+)([kKmMgG]?)", value).groups()  # type: ignore[union-attr]
    return int(number) * {"": 1, "k": 1024, "m": MIB, "g": 1024 * MIB}[unit.lower()]


def test_body_limits_match_the_apps() -> None:
    text = SITE.read_text()
    server_default = re.search(r"^    client_max_body_size (\S+);", text, re.MULTILINE)
    assert server_default is not None
    limits = UploadLimits(Settings(_env_file=None), WebSettings(_env_file=None))
    assert _size(server_default.group(1)) == limits.default.limit
    for path in ("/recommend", "/api/v1/recommend", "/api/v1/recommend/batch"):
        block = re.search(rf"location = {re.escape(path)} \{{(.*?)\}}", text, re.DOTALL)
        assert block is not None, f"no location for {path}"
        size = re.search(r"client_max_body_size (\S+);", block.group(1))
        assert size is not None, f"{path} has no client_max_body_size"
        assert _size(size.group(1)) == limits.rule_for("POST", path).limit, path


# --- nginx in front of tunelens serve --workers 2 --------------------------------------------


@dataclass
class Stack:
    base: str  # nginx
    app_base: str  # tunelens serve itself (its two workers share the socket)
    app_log: Path
    nginx_log: Path
    app: subprocess.Popen[bytes]

    def app_lines(self) -> list[dict[str, Any]]:
        return [
            json.loads(line)
            for line in self.app_log.read_text().splitlines()
            if line.startswith("{")
        ]

    def access_line(self, request_id: str) -> dict[str, Any]:
        """The app's access line for ``request_id`` (written just after the response is sent,
        so it may lag the response by a moment)."""
        deadline = time.perf_counter() + 10
        while time.perf_counter() < deadline:
            for line in reversed(self.app_lines()):
                if line.get("request_id") == request_id and line["logger"].endswith("access"):
                    return line
            time.sleep(0.05)
        raise AssertionError(f"no access line for request {request_id}")

    def engines_ready(self) -> int:
        return sum(line["msg"].startswith("engine ready") for line in self.app_lines())


def wait_for(url: str, deadline_s: float, what: str, logs: list[Path]) -> None:
    start = time.perf_counter()
    while time.perf_counter() - start < deadline_s:
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    shown = "\n".join(f"--- {p}\n{p.read_text()[-4000:]}" for p in logs if p.exists())
    pytest.fail(f"{what} did not answer 200 at {url} within {deadline_s}s\n{shown}")


@pytest.fixture(scope="module")
def stack(spotify_catalog: Path) -> Iterator[Stack]:
    binary = nginx_binary()
    prefix = make_prefix()
    app_port, nginx_port = free_port(), free_port()
    shutil.copytree(STATIC_DIR, prefix / "static")  # readable by nginx's worker user
    app_log, nginx_log = prefix / "app.log", prefix / "tunelens.access.log"
    site = prefix / "tunelens.conf"
    site.write_text(
        render_site(
            SITE.read_text(),
            listen=nginx_port,
            app_port=app_port,
            static=prefix / "static",
            access_log=nginx_log,
        )
    )
    conf = wrapper_conf(prefix, site)
    env = {
        **os.environ,
        "TUNELENS_DATA_DIR": str(prefix / "data"),
        "TUNELENS_CACHE_DIR": str(prefix / "cache"),
        "TUNELENS_ALLOW_DOWNLOAD": "0",
        "TUNELENS_LOG_JSON": "1",
        "HF_HUB_OFFLINE": "1",
        # nginx on the same machine, as deploy/systemd/tunelens.service sets it (the setting
        # trusts no proxy by default)
        "TUNELENS_TRUSTED_PROXIES": "127.0.0.1,::1",
    }
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    serve = [
        sys.executable,
        "-m",
        "tunelens.cli",
        "serve",
        "--port",
        str(app_port),
        "--workers",
        "2",
        "--catalog",
        str(spotify_catalog),
        "--encoder",
        "colour",
    ]
    with app_log.open("wb") as out:
        app = subprocess.Popen(serve, env=env, stdout=out, stderr=subprocess.STDOUT, cwd=prefix)
    nginx = subprocess.Popen(
        [
            binary,
            "-p",
            str(prefix),
            "-e",
            str(prefix / "error.log"),
            "-c",
            str(conf),
            "-g",
            DAEMON_OFF,
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{nginx_port}"
    try:
        wait_for(f"{base}/ready", 120, "tunelens through nginx", [app_log, prefix / "error.log"])
        yield Stack(
            base=base,
            app_base=f"http://127.0.0.1:{app_port}",
            app_log=app_log,
            nginx_log=nginx_log,
            app=app,
        )
    finally:
        nginx.send_signal(signal.SIGQUIT)  # graceful stop
        if app.poll() is None:
            app.terminate()
        try:
            nginx.wait(timeout=20)
        finally:
            if nginx.poll() is None:
                nginx.kill()
        try:
            app.wait(timeout=40)
        finally:
            if app.poll() is None:
                app.kill()
        shutil.rmtree(prefix, ignore_errors=True)


@pytest.fixture(scope="module")
def photo_bytes() -> bytes:
    return require_shared(PHOTOS_DIR / "kite_blue_sky_clouds_01.jpg").read_bytes()


def stage_counts(base: str) -> dict[str, float]:
    response = httpx.get(f"{base}/metrics", timeout=10)
    assert response.status_code == 200
    counts = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            if sample.name == "tunelens_stage_duration_seconds_count":
                counts[sample.labels["stage"]] = sample.value
    return counts


@pytest.mark.slow
def test_a_photo_posted_through_nginx(stack: Stack, photo_bytes: bytes) -> None:
    response = httpx.post(
        f"{stack.base}/recommend",
        files={"image": ("photo.jpg", photo_bytes, "image/jpeg")},
        headers={"X-Request-ID": "client-chosen-id", "X-Forwarded-For": "198.51.100.77"},
        timeout=60,
    )
    assert response.status_code == 200, response.text
    assert len(response.json()["recommendations"]) == 10
    request_id = response.headers["x-request-id"]
    assert re.fullmatch(r"[0-9a-f]{32}", request_id), "nginx's $request_id, not the client's"
    for header in ("x-content-type-options", "x-frame-options", "referrer-policy"):
        assert len(response.headers.get_list(header)) == 1, header

    # one id in both logs; the app saw the client nginx saw (nginx is a trusted proxy)
    access = stack.access_line(request_id)
    assert access["path"] == "/recommend" and access["status"] == 200
    assert access["client"] == "198.51.100.77"
    deadline = time.perf_counter() + 10  # nginx writes its line after the response, too
    while True:
        nginx_lines = [json.loads(line) for line in stack.nginx_log.read_text().splitlines()]
        if any(line["request_id"] == request_id for line in nginx_lines):
            break
        assert time.perf_counter() < deadline, f"{request_id} not in nginx's log"
        time.sleep(0.05)
    line = next(line for line in nginx_lines if line["request_id"] == request_id)
    assert line["status"] == 200 and line["path"] == "/recommend"


def pid_of(stack: Stack, response: httpx.Response) -> int:
    """The worker that answered."""
    return int(stack.access_line(response.headers["x-request-id"])["pid"])


def test_the_commentary_follow_up_works_on_every_worker(stack: Stack, photo_bytes: bytes) -> None:
    """The page asks for the commentary in a second request, which may reach the other worker;
    the shared predictions folder lets that worker answer too. nginx keeps one upstream
    connection alive (one worker), so the follow-ups go to the app on fresh connections until
    both workers have answered."""
    response = httpx.post(
        f"{stack.base}/api/v1/recommend",
        files={"image": ("photo.jpg", photo_bytes, "image/jpeg")},
        timeout=60,
    )
    assert response.status_code == 200, response.text
    path = f"/api/v1/predictions/{response.json()['prediction_id']}/commentary"
    assert httpx.get(stack.base + path, timeout=30).status_code == 200
    answered_by: set[int] = set()
    for _ in range(40):
        follow_up = httpx.get(stack.app_base + path, timeout=30)
        assert follow_up.status_code == 200, follow_up.text
        answered_by.add(pid_of(stack, follow_up))
        if len(answered_by) == 2:
            break
    assert len(answered_by) == 2, f"40 follow-ups all went to worker(s) {answered_by}"


@pytest.mark.slow
def test_metrics_sum_every_workers_observations(stack: Stack, photo_bytes: bytes) -> None:
    before = stage_counts(stack.base)
    for _ in range(3):
        response = httpx.post(
            f"{stack.base}/api/v1/recommend", files={"image": ("p.jpg", photo_bytes)}, timeout=60
        )
        assert response.status_code == 200
    through_nginx = stage_counts(stack.base)
    for stage in ("decode", "encode", "rank", "explain"):
        assert through_nginx[stage] - before.get(stage, 0) == 3, (stage, before, through_nginx)

    # nginx keeps one upstream connection alive, so it tends to reach one worker: post on
    # fresh connections to the app until both workers have answered some
    served: dict[int, int] = {}
    posted = 0
    while len(served) < 2:
        assert posted < 40, f"40 posts all went to worker(s) {served}; cannot check the sum"
        response = httpx.post(
            f"{stack.app_base}/api/v1/recommend", files={"image": ("p.jpg", photo_bytes)}
        )
        assert response.status_code == 200
        posted += 1
        pid = pid_of(stack, response)
        served[pid] = served.get(pid, 0) + 1
    expected = through_nginx["decode"] + posted
    scraped_by: set[int] = set()
    for _ in range(40):  # whichever worker answers the scrape reports everyone's pictures
        response = httpx.get(f"{stack.app_base}/metrics", timeout=10)
        counts = {
            sample.labels["stage"]: sample.value
            for family in text_string_to_metric_families(response.text)
            for sample in family.samples
            if sample.name == "tunelens_stage_duration_seconds_count"
        }
        assert counts["decode"] == expected, (served, counts)
        scraped_by.add(pid_of(stack, response))
        if scraped_by == set(served):
            break
    print(f"pictures per worker {served}; scrapes answered by {sorted(scraped_by)}")
    assert stack.engines_ready() >= 2  # each worker loaded the models once


@pytest.mark.slow
def test_nginx_refuses_oversized_uploads_in_the_apps_error_shape(stack: Stack) -> None:
    host, port = stack.base.removeprefix("http://").split(":")
    for path, dylumo in (("/api/v1/recommend", False), ("/recommend", True)):
        with socket.create_connection((host, int(port)), timeout=10) as sock:
            sock.sendall(
                f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Length: {22 * MIB}\r\n"
                "Content-Type: multipart/form-data; boundary=b\r\nConnection: close\r\n\r\n".encode()
            )
            raw = b""
            while chunk := sock.recv(65536):
                raw += chunk
        head, _, body = raw.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 413"), head
        assert b"application/json" in head
        payload = json.loads(body)
        assert payload["error"]["code"] == "too_large"
        assert ("status" in payload) is dylumo


@pytest.mark.slow
def test_static_files_are_served_by_nginx_cached_and_gzipped(stack: Stack) -> None:
    response = httpx.get(
        f"{stack.base}/static/style.css", headers={"Accept-Encoding": "gzip"}, timeout=10
    )
    assert response.status_code == 200
    assert response.headers["content-encoding"] == "gzip"
    assert "max-age=604800" in response.headers["cache-control"]
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.text == (STATIC_DIR / "style.css").read_text()
    access = [line for line in stack.app_lines() if line.get("path") == "/static/style.css"]
    assert access == [], "static files must not reach the app"


@pytest.mark.slow
def test_sighup_reloads_workers_without_a_failed_request(stack: Stack, photo_bytes: bytes) -> None:
    ready_before = stack.engines_ready()
    stack.app.send_signal(signal.SIGHUP)
    statuses: list[int] = []
    start = time.perf_counter()
    while stack.engines_ready() < ready_before + 2:
        assert time.perf_counter() - start < 180, "workers were not replaced in 180 s"
        statuses.append(httpx.get(f"{stack.base}/ready", timeout=10).status_code)
        time.sleep(0.1)
    time.sleep(1.0)  # the last old worker finishes and exits
    statuses.append(httpx.get(f"{stack.base}/ready", timeout=10).status_code)
    assert statuses and set(statuses) == {200}, statuses
    response = httpx.post(
        f"{stack.base}/recommend", files={"image": ("p.jpg", photo_bytes)}, timeout=60
    )
    assert response.status_code == 200
    assert stack.app.poll() is None
