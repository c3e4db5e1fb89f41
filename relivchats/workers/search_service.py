"""The indexer's search service: chunk searches for the API while indexing runs.

In the embedded deployment (no `QDRANT_URL`) the indexer process is the only one allowed to
open the local vector store, and its Celery task may be busy indexing a large chat for a minute.
So the indexer also answers searches on a Unix socket under `DATA_DIR`, from a thread pool of
its own (`socketserver`, one thread per connection). A request carries a chat id, the
question's vector (never its text) and a limit; the reply is the hits' metadata. The vector
store serialises client calls with a lock, so a search waits at most for one upsert batch.

Started by `relivchats indexer` after the fork, beside the embedder (workers/indexing.warm_up);
the socket file is replaced each time, so a restarted indexer takes over its path.
"""

from __future__ import annotations

import contextlib
import logging
import socketserver
import threading
from pathlib import Path
from typing import Any
from uuid import UUID

import orjson

from relivchats.adapters.chunk_search import MAX_LINE_BYTES, hit_to_wire
from relivchats.adapters.vectorstore import VectorStore

log = logging.getLogger(__name__)

MAX_LIMIT = 50


def answer(vectors: VectorStore, request: dict[str, Any]) -> dict[str, Any]:
    """One request's reply; a malformed request is answered with an error, not a crash."""
    try:
        if request.get("op") != "search":
            return {"error": "unknown operation"}
        chat_id = UUID(str(request["chat_id"]))
        vector = [float(value) for value in request["vector"]]
        limit = max(1, min(int(request.get("limit", 5)), MAX_LIMIT))
    except (KeyError, TypeError, ValueError):
        return {"error": "malformed request"}
    hits = vectors.search(chat_id, vector, limit=limit)
    return {"hits": [hit_to_wire(hit) for hit in hits]}


class _Handler(socketserver.StreamRequestHandler):
    server: _SearchServer

    def handle(self) -> None:
        line = self.rfile.readline(MAX_LINE_BYTES)
        if not line:
            return
        try:
            reply = answer(self.server.vectors, orjson.loads(line))
        except orjson.JSONDecodeError:
            reply = {"error": "malformed request"}
        except Exception as error:  # the store failed: say so, keep serving
            log.warning("search failed", extra={"error": type(error).__name__})
            reply = {"error": "search failed"}
        self.wfile.write(orjson.dumps(reply) + b"\n")


class _SearchServer(socketserver.ThreadingUnixStreamServer):
    daemon_threads = True
    request_queue_size = 128  # questions arrive in bursts; socketserver's default backlog is 5

    def __init__(self, path: str, vectors: VectorStore):
        self.vectors = vectors
        super().__init__(path, _Handler)


class SearchService:
    """The socket server and its thread; `stop` closes both and removes the socket file."""

    def __init__(self, socket_path: Path, vectors: VectorStore):
        self.path = socket_path
        socket_path.parent.mkdir(parents=True, exist_ok=True)
        with contextlib.suppress(FileNotFoundError):
            socket_path.unlink()  # a previous indexer's: this process owns the store now
        self._server = _SearchServer(str(socket_path), vectors)
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="search-service", daemon=True
        )

    def start(self) -> SearchService:
        self._thread.start()
        log.info("search service listening", extra={"socket": str(self.path)})
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()
