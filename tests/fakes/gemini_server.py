"""A local stand-in for the Gemini REST API, driven through the real `google-genai` SDK.

It speaks `models/{model}:generateContent`, `:embedContent` and `:batchEmbedContents` on
127.0.0.1 (random port). Tests script the replies in order: a JSON answer with usage metadata, an
error status, or a stall longer than the client's timeout. Unscripted generate calls answer a
plain text reply, or, with `answer_schemas=True`, the smallest JSON document valid under the
request's `responseJsonSchema` (so a whole platform can generate insights through it); embed calls
always answer deterministic vectors derived from the text.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

ERROR_STATUS = {400: "INVALID_ARGUMENT", 429: "RESOURCE_EXHAUSTED", 503: "UNAVAILABLE"}


@dataclass
class Reply:
    status: int = 200
    body: dict[str, Any] = field(default_factory=dict)
    delay_s: float = 0.0


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: dict[str, Any]


class GeminiServer:
    def __init__(self, *, answer_schemas: bool = False) -> None:
        self.answer_schemas = answer_schemas
        self.received: list[Received] = []
        self._script: deque[Reply] = deque()
        self._lock = threading.Lock()
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self.base_url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    def __enter__(self) -> GeminiServer:
        self.thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    # --- scripting ----------------------------------------------------------------------------

    def answer_text(self, text: str, **details: Any) -> None:
        """Queue an answer; `details` are `generate_body` options (token counts, finish reason)."""
        self._script.append(Reply(body=generate_body(text, **details)))

    def answer_json(self, data: Any, **details: Any) -> None:
        self.answer_text(json.dumps(data), **details)

    def fail(self, status: int, times: int = 1) -> None:
        body = {
            "error": {
                "code": status,
                "message": "scripted failure",
                "status": ERROR_STATUS.get(status, "INTERNAL"),
            }
        }
        self._script.extend(Reply(status=status, body=body) for _ in range(times))

    def stall(self, seconds: float, times: int = 1) -> None:
        self._script.extend(
            Reply(body=generate_body("late"), delay_s=seconds) for _ in range(times)
        )

    def calls_to(self, suffix: str) -> list[Received]:
        return [request for request in self.received if request.path.endswith(suffix)]

    # --- serving ------------------------------------------------------------------------------

    def respond(self, path: str, headers: dict[str, str], body: dict[str, Any]) -> Reply:
        with self._lock:
            self.received.append(Received(path, headers, body))
            if path.endswith(":batchEmbedContents"):
                return Reply(body={"embeddings": [_embed(r) for r in body["requests"]]})
            if path.endswith(":embedContent"):
                return Reply(body={"embedding": _embed(body)})
            if self._script:
                return self._script.popleft()
            schema = body.get("generationConfig", {}).get("responseJsonSchema")
            if self.answer_schemas and schema:
                return Reply(body=generate_body(json.dumps(instance_of(schema))))
            return Reply(body=generate_body("ok"))


def instance_of(schema: dict[str, Any]) -> Any:
    """A small document valid under `schema` (the subset of JSON Schema the catalogue uses)."""
    if "enum" in schema:
        return schema["enum"][0]
    kind = schema.get("type")
    if kind == "object":
        properties = schema.get("properties", {})
        return {name: instance_of(properties[name]) for name in schema.get("required", [])}
    if kind == "array":
        return [instance_of(schema["items"]) for _ in range(max(1, schema.get("minItems", 0)))]
    if kind in ("number", "integer"):
        low, high = schema.get("minimum", 0), schema.get("maximum", 10)
        return (low + high) // 2 if kind == "integer" else (low + high) / 2
    if kind == "boolean":
        return True
    return "x" * max(1, schema.get("minLength", 1))


def generate_body(
    text: str,
    prompt_tokens: int = 120,
    output_tokens: int = 40,
    thinking_tokens: int | None = 15,
    model_version: str = "gemini-2.5-flash-fake",
    finish_reason: str = "STOP",
) -> dict[str, Any]:
    usage = {
        "promptTokenCount": prompt_tokens,
        "candidatesTokenCount": output_tokens,
        "totalTokenCount": prompt_tokens + output_tokens + (thinking_tokens or 0),
    }
    if thinking_tokens is not None:
        usage["thoughtsTokenCount"] = thinking_tokens
    return {
        "candidates": [
            {
                "content": {"role": "model", "parts": [{"text": text}]},
                "finishReason": finish_reason,
                "index": 0,
            }
        ],
        "usageMetadata": usage,
        "modelVersion": model_version,
    }


def _embed(request: dict[str, Any]) -> dict[str, list[float]]:
    text = "".join(part.get("text", "") for part in request["content"]["parts"])
    size = request.get("outputDimensionality") or 8
    digest = hashlib.sha256(text.encode()).digest()
    return {"values": [digest[i % len(digest)] / 255 for i in range(size)]}


def _handler_for(server: GeminiServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length) or b"{}")
            reply = server.respond(self.path, dict(self.headers), body)
            time.sleep(reply.delay_s)
            payload = json.dumps(reply.body).encode()
            try:
                self.send_response(reply.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up waiting (a timeout test): nothing to answer

        def log_message(self, *_: Any) -> None:
            pass

    return Handler
