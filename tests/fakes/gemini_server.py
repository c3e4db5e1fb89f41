"""A local stand-in for the Gemini REST API, driven through the real `google-genai` SDK.

It speaks `models/{model}:generateContent`, `:streamGenerateContent?alt=sse` (server-sent
events, one `GenerateContentResponse` per event, usage on the last), `:embedContent` and
`:batchEmbedContents` on 127.0.0.1 (random port). Tests script the replies in order: a JSON answer
with usage metadata, a streamed answer in pieces (optionally pausing or failing part-way), an error
status, or a stall longer than the client's timeout. Unscripted generate calls answer a plain text
reply (streamed word by word on the streaming route), or, with `answer_schemas=True`, the smallest
JSON document valid under the request's `responseJsonSchema` (so a whole platform can generate
insights through it); embed calls always answer deterministic vectors derived from the text.
"""

from __future__ import annotations

import hashlib
import json
import re
import select
import socket
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from relivchats.adapters.llm.gemini import GeminiConnection

ERROR_STATUS = {400: "INVALID_ARGUMENT", 429: "RESOURCE_EXHAUSTED", 503: "UNAVAILABLE"}
DEFAULT_STREAM = ["ok, ", "streamed ", "from ", "the ", "fake."]
STREAMING = re.compile(r":streamGenerateContent(\?|$)")


@dataclass
class Reply:
    status: int = 200
    body: dict[str, Any] = field(default_factory=dict)
    delay_s: float = 0.0  # before the status line: the client is still waiting for headers
    events: list[dict[str, Any]] | None = None  # server-sent events instead of one JSON body
    pause_after: int | None = None  # events sent before a pause of `pause_s` (mid-stream stall)
    pause_s: float = 0.0


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: dict[str, Any]


class GeminiServer:
    def __init__(self, *, answer_schemas: bool = False) -> None:
        self.answer_schemas = answer_schemas
        self.received: list[Received] = []
        self.hung_up = 0  # streams whose client closed the connection before the end
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

    def connection(self, **overrides: Any) -> GeminiConnection:
        """A connection to this server with fast, jitter-free retries (override any option)."""
        options: dict[str, Any] = {
            "timeout_s": 5.0,
            "attempts": 3,
            "initial_backoff_s": 0.01,
            "max_backoff_s": 0.05,
            "jitter_s": 0.0,
            **overrides,
        }
        return GeminiConnection("test-key", self.base_url, **options)

    # --- scripting ----------------------------------------------------------------------------

    def answer_text(self, text: str, **details: Any) -> None:
        """Queue an answer; `details` are `generate_body` options (token counts, finish reason)."""
        self._script.append(Reply(body=generate_body(text, **details)))

    def answer_json(self, data: Any, **details: Any) -> None:
        self.answer_text(json.dumps(data), **details)

    def fail(self, status: int, times: int = 1) -> None:
        self._script.extend(Reply(status=status, body=error_body(status)) for _ in range(times))

    def stall(self, seconds: float, times: int = 1) -> None:
        self._script.extend(
            Reply(body=generate_body("late"), delay_s=seconds, events=stream_events(["late"]))
            for _ in range(times)
        )

    def stream_text(self, pieces: list[str], **details: Any) -> None:
        """Queue a streamed answer: one event per piece, usage and finish reason on the last."""
        self._script.append(Reply(events=stream_events(pieces, **details)))

    def stream_then_fail(self, pieces: list[str], status: int = 503) -> None:
        """Queue a stream that sends `pieces`, then an error event (as Gemini does mid-stream)."""
        events = stream_events(pieces, finish_reason=None)
        self._script.append(Reply(events=[*events, error_body(status)]))

    def stream_then_stall(self, pieces: list[str], seconds: float) -> None:
        """Queue a stream that sends `pieces`, then goes quiet for `seconds` before finishing."""
        events = [*stream_events(pieces, finish_reason=None), *stream_events([""])]
        self._script.append(Reply(events=events, pause_after=len(pieces), pause_s=seconds))

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
            return Reply(body=generate_body("ok"), events=stream_events(DEFAULT_STREAM))


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
    finish_reason: str | None = "STOP",
) -> dict[str, Any]:
    usage = {
        "promptTokenCount": prompt_tokens,
        "candidatesTokenCount": output_tokens,
        "totalTokenCount": prompt_tokens + output_tokens + (thinking_tokens or 0),
    }
    if thinking_tokens is not None:
        usage["thoughtsTokenCount"] = thinking_tokens
    candidate: dict[str, Any] = {
        "content": {"role": "model", "parts": [{"text": text}]},
        "index": 0,
    }
    if finish_reason is not None:
        candidate["finishReason"] = finish_reason
    return {"candidates": [candidate], "usageMetadata": usage, "modelVersion": model_version}


def stream_events(
    pieces: list[str], finish_reason: str | None = "STOP", **details: Any
) -> list[dict[str, Any]]:
    """The events of a streamed answer: text pieces, the last carrying usage and finish reason."""
    events = []
    for position, piece in enumerate(pieces):
        last = position == len(pieces) - 1
        event = generate_body(piece, finish_reason=finish_reason if last else None, **details)
        if not last:
            del event["usageMetadata"]
        events.append(event)
    return events


def error_body(status: int) -> dict[str, Any]:
    return {
        "error": {
            "code": status,
            "message": "scripted failure",
            "status": ERROR_STATUS.get(status, "INTERNAL"),
        }
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
            try:
                if STREAMING.search(self.path) and reply.status == 200:
                    self._send_events(reply)
                else:
                    self._send_json(reply)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up waiting (a timeout test): nothing to answer

        def _send_json(self, reply: Reply) -> None:
            payload = json.dumps(reply.body).encode()
            self.send_response(reply.status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def _send_events(self, reply: Reply) -> None:
            events = reply.events if reply.events is not None else [reply.body]
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.end_headers()  # no length: the stream ends when the connection closes
            for position, event in enumerate(events):
                if position == reply.pause_after and self._client_left_within(reply.pause_s):
                    server.hung_up += 1
                    return
                self.wfile.write(b"data: " + json.dumps(event).encode() + b"\r\n\r\n")
                self.wfile.flush()

        def _client_left_within(self, seconds: float) -> bool:
            """Wait `seconds`, or less if the client closes the connection meanwhile."""
            deadline = time.monotonic() + seconds
            while (left := deadline - time.monotonic()) > 0:
                readable, _, _ = select.select([self.connection], [], [], min(left, 0.05))
                if readable and self.connection.recv(1, socket.MSG_PEEK) == b"":
                    return True
            return False

        def log_message(self, *_: Any) -> None:
            pass

    return Handler
