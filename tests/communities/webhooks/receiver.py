"""A real HTTP receiver on 127.0.0.1 (http.server in a thread) that records every request
and answers each path as the test scripts it."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    at: float
    # The client's (address, port): one per connection, so kept-alive reuse shows.
    peer: tuple = ()

    def json(self) -> dict:
        return json.loads(self.body)


@dataclass
class Answer:
    status: int = 200
    body: bytes = b"ok"
    headers: dict[str, str] = field(default_factory=dict)
    # Seconds to wait before answering (a receiver that hangs).
    delay: float = 0.0


class Receiver:
    """Scripts answers per path: `script("/flaky", [Answer(500), Answer(500), Answer()])`
    answers the n-th request with the n-th answer (the last one from then on)."""

    def __init__(self) -> None:
        self.received: list[Received] = []
        self._scripts: dict[str, list[Answer] | Callable[[int], Answer]] = {}
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:  # noqa: N802 - http.server's API
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                answer = receiver._record(
                    self.path, dict(self.headers.items()), body, self.client_address
                )
                if answer.delay:
                    time.sleep(answer.delay)
                try:
                    self.send_response(answer.status)
                    for name, value in answer.headers.items():
                        self.send_header(name, value)
                    self.send_header("Content-Length", str(len(answer.body)))
                    self.end_headers()
                    self.wfile.write(answer.body)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def start(self) -> Receiver:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def script(self, path: str, answers: list[Answer] | Callable[[int], Answer]) -> None:
        with self._lock:
            self._scripts[path] = answers

    def _record(self, path: str, headers: dict[str, str], body: bytes, peer: tuple) -> Answer:
        with self._lock:
            self.received.append(Received(path, headers, body, time.monotonic(), tuple(peer)))
            count = sum(1 for r in self.received if r.path == path)
            script = self._scripts.get(path)
        if script is None:
            return Answer()
        if callable(script):
            return script(count)
        return script[min(count, len(script)) - 1]

    def to(self, path: str) -> list[Received]:
        with self._lock:
            return [r for r in self.received if r.path == path]

    def wait_for(self, path: str, *, count: int = 1, timeout: float = 60) -> list[Received]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = self.to(path)
            if len(found) >= count:
                return found
            time.sleep(0.05)
        return self.to(path)
