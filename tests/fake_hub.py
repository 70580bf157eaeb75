"""A small Hugging Face hub on 127.0.0.1: real HTTP, answering the download API as
``huggingface_hub`` calls it, so tests run tunelens's real download code with ``HF_ENDPOINT``
pointing here.

What it answers (read from huggingface_hub 2.x's ``file_download.py`` and ``utils/_http.py``):

* ``HEAD /{repo}/resolve/{revision}/{path}`` — small ("git") files: 200 with ``ETag``,
  ``Content-Length`` and ``X-Repo-Commit``; ``.onnx`` ("LFS") files: 302 to a CDN URL on another
  host name (``localhost``), carrying ``X-Linked-Etag`` (the sha256), ``X-Linked-Size`` and
  ``X-Repo-Commit`` as the hub does, so the client takes the metadata from the redirect itself.
* ``GET`` of either, honouring ``Range: bytes=N-`` with ``206 Partial Content``.
* ``GET /api/models/{repo}/revision/{revision}`` — the repository listing (``sha``,
  ``siblings``) ``snapshot_download`` asks for.
* Errors as the hub signals them: 404 with ``X-Error-Code`` ``RepoNotFound``,
  ``RevisionNotFound`` or ``EntryNotFound``.

A test can make the server cut the connection once in the middle of a file
(:meth:`FakeHub.drop_once`) and read every request it got (:attr:`FakeHub.requests`).
"""

from __future__ import annotations

import hashlib
import json
import re
import socket
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import unquote

_RESOLVE = re.compile(r"^/(?P<repo>[^/]+/[^/]+)/resolve/(?P<rev>[^/]+)/(?P<path>.+)$")
_API = re.compile(r"^/api/models/(?P<repo>[^/]+/[^/]+)(?:/revision/(?P<rev>[^/]+))?$")
_CDN = re.compile(r"^/cdn/(?P<sha>[0-9a-f]{64})$")


@dataclass
class Request:
    method: str
    path: str
    range: str | None


@dataclass
class FakeRepo:
    """Commits (commit -> {path: bytes}) and refs (branch/tag -> commit)."""

    commits: dict[str, dict[str, bytes]] = field(default_factory=dict)
    refs: dict[str, str] = field(default_factory=dict)

    def add_commit(
        self, files: Mapping[str, bytes], *, ref: str | None = "main", commit: str | None = None
    ) -> str:
        if commit is None:
            digest = hashlib.sha1()
            for name in sorted(files):
                digest.update(name.encode() + b"\0" + hashlib.sha256(files[name]).digest())
            digest.update(str(len(self.commits)).encode())
            commit = digest.hexdigest()
        self.commits[commit] = dict(files)
        if ref is not None:
            self.refs[ref] = commit
        return commit

    def resolve(self, revision: str) -> str | None:
        if revision in self.commits:
            return revision
        return self.refs.get(revision)


def folder_files(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` by its relative path (a model folder as a commit)."""
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


class FakeHub:
    """The server; ``endpoint`` is what ``HF_ENDPOINT`` should be."""

    def __init__(self) -> None:
        self.repos: dict[str, FakeRepo] = {}
        self.requests: list[Request] = []
        self._drops: dict[str, int] = {}
        self._blobs: dict[str, bytes] = {}
        self._connections: list[socket.socket] = []
        self._lock = threading.Lock()
        handler = type("Handler", (_Handler,), {"hub": self})
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._server.daemon_threads = True
        self.port = int(self._server.server_address[1])
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def start(self) -> FakeHub:
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close every open connection (keep-alive ones too): the hub is gone."""
        self._server.shutdown()
        self._server.server_close()
        for connection in self._connections:
            with suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)

    def repo(self, repo_id: str) -> FakeRepo:
        return self.repos.setdefault(repo_id, FakeRepo())

    def publish(
        self,
        repo_id: str,
        files: Mapping[str, bytes],
        *,
        ref: str | None = "main",
        commit: str | None = None,
    ) -> str:
        """A new commit of ``repo_id`` holding ``files`` (with that hash, if given); returns
        its hash."""
        for content in files.values():
            self._blobs[hashlib.sha256(content).hexdigest()] = content
        return self.repo(repo_id).add_commit(files, ref=ref, commit=commit)

    def drop_once(self, path: str, after_bytes: int) -> None:
        """Cut the connection after ``after_bytes`` of the next full GET of ``path``."""
        self._drops[path] = after_bytes

    def gets(self, path: str) -> list[Request]:
        """The GET requests that fetched bytes of the file ``path`` (by its name or its sha)."""
        return [r for r in self.requests if r.method == "GET" and r.path.endswith(path)]

    def _take_drop(self, key: str) -> int | None:
        with self._lock:
            return self._drops.pop(key, None)


class _Handler(BaseHTTPRequestHandler):
    hub: FakeHub
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        return

    def setup(self) -> None:
        super().setup()
        self.hub._connections.append(self.connection)

    def do_HEAD(self) -> None:
        self._answer(head=True)

    def do_GET(self) -> None:
        self._answer(head=False)

    # ----------------------------------------------------------------------------- routing
    def _answer(self, *, head: bool) -> None:
        path = unquote(self.path.split("?", 1)[0])
        self.hub.requests.append(Request(self.command, path, self.headers.get("Range")))
        if m := _RESOLVE.match(path):
            self._resolve(m["repo"], m["rev"], m["path"], head=head)
        elif m := _CDN.match(path):
            blob = self.hub._blobs.get(m["sha"])
            if blob is None:
                self._error(404, "EntryNotFound")
            else:
                self._bytes(blob, f"sha:{m['sha']}", head=head, headers={})
        elif m := _API.match(path):
            self._listing(m["repo"], m["rev"] or "main")
        else:
            self._error(404, "RepoNotFound")

    def _resolve(self, repo_id: str, rev: str, rel: str, *, head: bool) -> None:
        repo = self.hub.repos.get(repo_id)
        if repo is None:
            self._error(404, "RepoNotFound")
            return
        commit = repo.resolve(rev)
        if commit is None:
            self._error(404, "RevisionNotFound")
            return
        content = repo.commits[commit].get(rel)
        if content is None:
            self._error(404, "EntryNotFound", commit=commit)
            return
        sha = hashlib.sha256(content).hexdigest()
        if rel.endswith(".onnx"):  # an LFS file: the hub redirects to its CDN
            self.send_response(302)
            self.send_header("Location", f"http://localhost:{self.hub.port}/cdn/{sha}")
            self.send_header("X-Repo-Commit", commit)
            self.send_header("X-Linked-Etag", f'"{sha}"')
            self.send_header("X-Linked-Size", str(len(content)))
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        git_etag = hashlib.sha1(b"blob %d\0" % len(content) + content).hexdigest()
        headers = {"X-Repo-Commit": commit, "ETag": f'"{git_etag}"'}
        self._bytes(content, rel, head=head, headers=headers)

    def _listing(self, repo_id: str, rev: str) -> None:
        repo = self.hub.repos.get(repo_id)
        commit = repo.resolve(rev) if repo is not None else None
        if repo is None or commit is None:
            self._error(404, "RepoNotFound" if repo is None else "RevisionNotFound")
            return
        body = json.dumps(
            {
                "id": repo_id,
                "modelId": repo_id,
                "sha": commit,
                "private": False,
                "siblings": [
                    {"rfilename": name, "size": len(data)}
                    for name, data in sorted(repo.commits[commit].items())
                ],
            }
        ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    # ----------------------------------------------------------------------------- bodies
    def _bytes(self, content: bytes, key: str, *, head: bool, headers: dict[str, str]) -> None:
        start = 0
        wanted = self.headers.get("Range")
        if wanted and (m := re.fullmatch(r"bytes=(\d+)-", wanted.strip())):
            start = int(m[1])
        status = 206 if start else 200
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Accept-Ranges", "bytes")
        self.send_header("Content-Length", str(len(content) - start))
        if start:
            self.send_header("Content-Range", f"bytes {start}-{len(content) - 1}/{len(content)}")
        self.end_headers()
        if head:
            return
        cut = None if start else self._drop_for(key)
        if cut is not None:
            self.wfile.write(content[:cut])
            self.wfile.flush()
            self.connection.shutdown(socket.SHUT_RDWR)  # mid-body: the client sees a cut
            self.close_connection = True
            return
        self.wfile.write(content[start:])

    def _drop_for(self, key: str) -> int | None:
        name = key.removeprefix("sha:")
        found = self.hub._take_drop(name)
        if found is None:  # also by file name, for files served from the CDN
            for rel in list(self.hub._drops):
                data = next(
                    (
                        c[rel]
                        for r in self.hub.repos.values()
                        for c in r.commits.values()
                        if rel in c
                    ),
                    None,
                )
                if data is not None and hashlib.sha256(data).hexdigest() == name:
                    found = self.hub._take_drop(rel)
                    break
        return found

    def _error(self, status: int, code: str, *, commit: str | None = None) -> None:
        body = json.dumps({"error": code}).encode()
        self.send_response(status)
        self.send_header("X-Error-Code", code)
        self.send_header("X-Error-Message", code)
        if commit is not None:
            self.send_header("X-Repo-Commit", commit)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)


@contextmanager
def running_hub() -> Iterator[FakeHub]:
    hub = FakeHub().start()
    try:
        yield hub
    finally:
        hub.stop()
