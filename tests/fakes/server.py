"""What every fake upstream shares: a real HTTP server on 127.0.0.1, a log of the
calls it got, and faults that can be injected into any call."""

from __future__ import annotations

import json
import re
import socket
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse


@dataclass
class Fault:
    method: str
    path: re.Pattern[str]
    kind: str  # "timeout", "hang", "500", "502", "400", "reset"
    times: int = 1


@dataclass
class FakeService:
    """Subclasses answer `route(method, path, query, body, headers) -> (status, payload)`."""

    calls: list[tuple[str, str, Any]] = field(default_factory=list)
    faults: list[Fault] = field(default_factory=list)
    timeout_seconds: float = 3.0
    # A "hang" answers nothing for this long, or until the server stops.
    hang_seconds: float = 60.0
    url: str = ""
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _stopping: threading.Event = field(default_factory=threading.Event)

    def inject(self, method: str, path: str, kind: str, times: int = 1) -> None:
        """Make the next `times` calls of `method` to a path matching `path` fail:
        "timeout" (answer too late), "hang" (answer nothing until the server stops or
        `hang_seconds` pass, then drop the connection), "500"/"502" (an HTML error
        page), "400", or "reset" (drop the connection without an answer)."""
        self.faults.append(Fault(method, re.compile(path), kind, times))

    def calls_to(self, method: str, fragment: str) -> list[tuple[str, str, Any]]:
        return [c for c in self.calls if c[0] == method and fragment in c[1]]

    def take_fault(self, method: str, path: str) -> Fault | None:
        with self._lock:
            for fault in self.faults:
                if fault.times > 0 and fault.method == method and fault.path.search(path):
                    fault.times -= 1
                    return fault
        return None

    def handle(
        self, method: str, path: str, query: dict[str, str], body: Any, headers: Any
    ) -> tuple[int, Any]:
        self.calls.append((method, path, body))
        with self._lock:
            return self.route(method, path, query, body, headers)

    def route(
        self, method: str, path: str, query: dict[str, str], body: Any, headers: Any
    ) -> tuple[int, Any]:
        raise NotImplementedError


class _Handler(BaseHTTPRequestHandler):
    fake: FakeService

    def log_message(self, format: str, *args: Any) -> None:
        pass  # quiet tests

    def _serve(self, method: str) -> None:
        parsed = urlparse(self.path)
        query = {k: v[0] for k, v in parse_qs(parsed.query).items()}
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        fault = self.fake.take_fault(method, parsed.path)
        if fault is not None and self._fault(fault):
            return
        try:
            if self.headers.get("Content-Type", "").startswith("application/x-www-form-urlencoded"):
                # OAuth token requests are form-encoded.
                body = {k: v[0] for k, v in parse_qs(raw.decode()).items()}
            else:
                body = json.loads(raw) if raw else None
        except ValueError:
            self._reply(400, {"detail": "JSON parse error."})
            return
        status, payload = self.fake.handle(method, parsed.path, query, body, self.headers)
        self._reply(status, payload)

    def _fault(self, fault: Fault) -> bool:
        if fault.kind == "timeout":
            time.sleep(self.fake.timeout_seconds)
            return False  # then answer, too late for the client
        if fault.kind == "hang":
            self.fake._stopping.wait(self.fake.hang_seconds)
            self.close_connection = True
            return True
        if fault.kind == "reset":
            self.connection.shutdown(socket.SHUT_RDWR)
            self.close_connection = True
            return True
        if fault.kind in ("500", "502"):
            self.send_response(int(fault.kind))
            self.send_header("Content-Type", "text/html")
            self.end_headers()
            self.wfile.write(b"<h1>Server Error</h1>")
            return True
        if fault.kind == "400":
            self._reply(400, {"non_field_errors": ["Injected validation failure."]})
            return True
        raise ValueError(fault.kind)

    def _reply(self, status: int, payload: Any) -> None:
        data = b"" if payload is None else json.dumps(payload).encode()
        self.send_response(status)
        if data:
            self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        self._serve("GET")

    def do_POST(self) -> None:
        self._serve("POST")

    def do_DELETE(self) -> None:
        self._serve("DELETE")

    def do_PATCH(self) -> None:
        self._serve("PATCH")


class FakeServer:
    def __init__(self, fake: FakeService) -> None:
        handler = type("Handler", (_Handler,), {"fake": fake})
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.httpd.daemon_threads = True
        fake.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.fake = fake
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    def __enter__(self) -> Any:
        self.thread.start()
        return self.fake

    def __exit__(self, *exc: object) -> None:
        self.fake._stopping.set()  # let hung handlers go, so closing does not wait on them
        self.httpd.shutdown()
        self.httpd.server_close()
