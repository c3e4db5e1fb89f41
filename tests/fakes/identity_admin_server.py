"""A local identity provider's admin API: `DELETE /users/{subject}`, answering like a real one.

It records every request (path, bearer key), answers 503 to the first `failures` requests (an
outage the Celery task must ride out), 401 to a wrong key, and 204 (or 404 for a subject it
already forgot) otherwise.
"""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import unquote


class IdentityAdminServer:
    def __init__(self, key: str, failures: int = 0) -> None:
        self.key = key
        self.failures = failures
        self.requests: list[tuple[str, str]] = []  # (subject, authorization header)
        self.forgotten: list[str] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_DELETE(self) -> None:
                subject = unquote(self.path.removeprefix("/admin/users/"))
                server.requests.append((subject, self.headers.get("Authorization", "")))
                self.send_response(server.answer(subject, self.headers.get("Authorization")))
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *_: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/admin"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def answer(self, subject: str, authorization: str | None) -> int:
        if self.failures > 0:
            self.failures -= 1
            return 503
        if authorization != f"Bearer {self.key}":
            return 401
        if subject in self.forgotten:
            return 404
        self.forgotten.append(subject)
        return 204

    def __enter__(self) -> IdentityAdminServer:
        self.thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
