"""A small OpenAI-compatible chat-completions server on 127.0.0.1 for tests.

Each POST to ``/v1/chat/completions`` takes the next step of a script: ``("ok", text)``,
``("status", code)``, ``("sleep", seconds)`` (then answers ok), ``("raw", body)`` (a 200 with
that body). With the script used up it answers ``ok``. Every request is recorded (headers and
JSON body) so tests can check what tunelens sent.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

DEFAULT_TEXT = "A kite drifts through a wide blue sky, so the music floats and soars."


@dataclass
class FakeLlm:
    base_url: str
    script: list[tuple[str, Any]] = field(default_factory=list)
    requests: list[dict[str, Any]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def next_step(self) -> tuple[str, Any]:
        with self.lock:
            return self.script.pop(0) if self.script else ("ok", DEFAULT_TEXT)


def _reply(text: str) -> bytes:
    return json.dumps(
        {
            "id": "chatcmpl-test",
            "object": "chat.completion",
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": text},
                    "finish_reason": "stop",
                }
            ],
        }
    ).encode()


@contextmanager
def fake_llm_server() -> Iterator[FakeLlm]:
    fake = FakeLlm(base_url="")

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:  # quiet
            return

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            raw = self.rfile.read(length)
            with fake.lock:
                fake.requests.append(
                    {"path": self.path, "headers": dict(self.headers), "json": json.loads(raw)}
                )
            if self.path != "/v1/chat/completions":
                self._send(404, b'{"error": "not found"}')
                return
            kind, value = fake.next_step()
            if kind == "sleep":
                time.sleep(float(value))
                kind, value = "ok", DEFAULT_TEXT
            if kind == "status":
                self._send(int(value), b'{"error": {"message": "server error"}}')
            elif kind == "raw":
                self._send(200, value if isinstance(value, bytes) else str(value).encode())
            else:
                self._send(200, _reply(str(value)))

        def _send(self, status: int, body: bytes) -> None:
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):  # the client gave up (timeout)
                pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    fake.base_url = f"http://127.0.0.1:{server.server_address[1]}/v1"
    thread = threading.Thread(target=server.serve_forever, name="fake-llm", daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
