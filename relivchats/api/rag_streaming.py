"""Server-sent events for `POST /api/rag/query` with `Accept: text/event-stream`.

`token` events carry the answer's pieces as the model writes them; one `answer` event closes a
good stream (the same body as the JSON answer: sources, confidence, turn id, position), one
`error` event (the error envelope's body) a failed one.

The answer is produced by a task of its own, not by the response: a client that disconnects
mid-answer stops receiving, but the model's answer still runs to its end and the turn is
recorded complete (or failed, if the model fails). So a turn is never half-written.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator

import orjson
from fastapi.responses import StreamingResponse

from relivchats.api.schemas.rag import answer_view
from relivchats.commands.rag_answers import (
    AnswerRecorded,
    AnswerUnavailable,
    RagServices,
    Ready,
    answer_stream,
)
from relivchats.logs import request_id_var

log = logging.getLogger(__name__)

EVENT_STREAM = "text/event-stream"


def sse(event: str, data: object) -> bytes:
    return b"event: " + event.encode() + b"\ndata: " + orjson.dumps(data) + b"\n\n"


def streamed_answer(
    rag: RagServices, ready: Ready, running: set[asyncio.Task[None]]
) -> StreamingResponse:
    queue: asyncio.Queue[bytes | None] = asyncio.Queue()
    task = asyncio.create_task(_produce(rag, ready, queue))
    running.add(task)  # held until done: the answer outlives a client that leaves
    task.add_done_callback(running.discard)
    return StreamingResponse(
        _events(queue),
        media_type=EVENT_STREAM,
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


async def _events(queue: asyncio.Queue[bytes | None]) -> AsyncIterator[bytes]:
    while (item := await queue.get()) is not None:
        yield item


async def _produce(rag: RagServices, ready: Ready, queue: asyncio.Queue[bytes | None]) -> None:
    try:
        async for item in answer_stream(rag, ready):
            if isinstance(item, AnswerRecorded):
                queue.put_nowait(sse("answer", answer_view(item).model_dump(mode="json")))
            else:
                queue.put_nowait(sse("token", {"text": item}))
    except AnswerUnavailable as error:
        queue.put_nowait(sse("error", _error(error.code, "the language model could not answer")))
    except Exception as error:  # the stream has begun: the envelope goes in an event
        log.exception("streamed answer failed", extra={"error": type(error).__name__})
        queue.put_nowait(sse("error", _error("internal_error", "the answer could not be made")))
    finally:
        queue.put_nowait(None)


def _error(code: str, message: str) -> dict[str, object]:
    return {"code": code, "message": message, "details": {}, "request_id": request_id_var.get()}
