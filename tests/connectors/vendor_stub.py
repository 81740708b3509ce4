"""A JSON API stub on 127.0.0.1 for the sync tests: routes, an auth header check, injected faults."""
from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit


class Reply:
    """An answer with response headers (e.g. the next page's cursor in a header)."""

    def __init__(self, body, headers: dict):
        self.body, self.headers = body, headers


class Stub:
    """route(method, path, query, body) -> a JSON-able answer, a Reply, or None (404). faults: path -> list of
    (status, headers) answered by the next requests to that path, in order (None: answered normally)."""

    def __init__(self, route, header: str, value: str):
        self.route, self.header, self.value = route, header, value
        self.faults: dict[str, list] = {}
        self.log: list[tuple[str, str, dict, object]] = []
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                stub.handle(self, "GET")

            def do_POST(self):
                stub.handle(self, "POST")

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def handle(self, h: BaseHTTPRequestHandler, method: str) -> None:
        parts = urlsplit(h.path)
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        size = int(h.headers.get("Content-Length") or 0)
        body = json.loads(h.rfile.read(size)) if size else None
        self.log.append((method, parts.path, query, body))
        fault = self.faults[parts.path].pop(0) if self.faults.get(parts.path) else None
        if fault is not None:  # None in the list: that request is answered normally
            code, headers = fault
            return self.send(h, code, {"status": "error", "message": "fault"}, headers)
        if h.headers.get(self.header) != self.value:
            return self.send(h, 401, {"status": "error", "message": "Authentication credentials not found"})
        answer = self.route(method, parts.path, query, body)
        if isinstance(answer, Reply):
            return self.send(h, 200, answer.body, answer.headers)
        return self.send(h, 404, {"message": "not found"}) if answer is None else self.send(h, 200, answer)

    def send(self, h, code: int, body, headers: dict | None = None) -> None:
        data = json.dumps(body).encode()
        h.send_response(code)
        h.send_header("Content-Type", "application/json")
        h.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            h.send_header(k, v)
        h.end_headers()
        h.wfile.write(data)
