"""`/api/rag`: ask a question about a chat, read the conversation, forget it.

Thin: the answer flow lives in commands/rag_answers.py (load the conversation, search, fetch
the text, ask the model, record the turn). Questions are free and rate limited
(`RATE_LIMIT_RAG`). A chat without an index answers 202 with the indexing progress and
Retry-After (the question started its indexing); the client asks again.
"""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Header, Query
from fastapi.responses import JSONResponse, Response

from relivchats.adapters.chunk_search import SearchUnavailable
from relivchats.adapters.conversation_content import erase_conversation_async, turn_texts
from relivchats.adapters.embeddings import EmbedderLoading
from relivchats.api.contract import HEADERS, error_responses
from relivchats.api.dependencies import (
    Cipher,
    CurrentUser,
    OwnedChat,
    Rag,
    ReadDb,
    RunningAnswers,
    Store,
    rate_limited,
    wait_for_min_position,
)
from relivchats.api.errors import ApiError
from relivchats.api.rag_streaming import EVENT_STREAM, streamed_answer
from relivchats.api.schemas.chats import CURSOR_PATTERN, decode_cursor, encode_cursor
from relivchats.api.schemas.rag import (
    Conversation,
    ConversationForgotten,
    IndexingInProgress,
    RagAnswer,
    RagQuery,
    answer_view,
    indexing_view,
    turn_view,
)
from relivchats.api.switches import require_feature
from relivchats.commands.chat_indexing import owned_chat
from relivchats.commands.conversations import forget_turns
from relivchats.commands.rag_answers import (
    AnswerUnavailable,
    IndexingUnderway,
    Question,
    answer,
    prepare,
)
from relivchats.commands.unit_of_work import dispatch
from relivchats.domain.conversations import conversation_id_for
from relivchats.projections import conversation_queries

router = APIRouter(prefix="/api/rag", tags=["rag"])
READ = [Depends(wait_for_min_position)]
RETRY_AFTER_S = "2"

Limit = Annotated[int, Query(ge=1, le=100)]
Cursor = Annotated[
    str, Query(pattern=CURSOR_PATTERN, description="next_cursor of the previous page, if any")
]
QUERY_RESPONSES = {
    **error_responses(401, 404, 422, 503, rate_limit="rate_limit_rag"),
    200: {
        "description": "the answer; with `Accept: text/event-stream`, server-sent events:"
        " `token` {text} as the model writes, then `answer` (this body) or `error`",
        "content": {EVENT_STREAM: {"schema": {"type": "string"}}},
    },
    202: {
        "model": IndexingInProgress,
        "description": "the chat is being indexed (this question started it): ask again",
        "headers": {"Retry-After": HEADERS[503]["Retry-After"]},
    },
}


@router.post(
    "/query",
    response_model=RagAnswer,
    dependencies=[
        require_feature("rag_questions"),
        Depends(rate_limited("rag", lambda settings: settings.rate_limit_rag)),
    ],
    responses=QUERY_RESPONSES,
)
async def query(
    body: RagQuery,
    user: CurrentUser,
    rag: Rag,
    running: RunningAnswers,
    accept: Annotated[str, Header()] = "application/json",
) -> Response:
    """Ask a question about one of your chats; free, rate limited."""
    question = Question(body.chat_id, user.user_id, body.question, body.max_chunks)
    try:
        ready = await prepare(rag, question)
    except SearchUnavailable:
        raise _unavailable("search_unavailable", "the chat's search is unavailable") from None
    except EmbedderLoading:
        raise _unavailable("warming_up", "questions are warming up; ask again") from None
    if isinstance(ready, IndexingUnderway):
        return JSONResponse(
            indexing_view(ready).model_dump(mode="json"),
            status_code=202,
            headers={"Retry-After": str(ready.retry_after_s)},
        )
    if EVENT_STREAM in accept:
        return streamed_answer(rag, ready, running)
    try:
        recorded = await answer(rag, ready)
    except AnswerUnavailable as error:
        raise _unavailable(error.code, "the language model could not answer") from None
    return JSONResponse(answer_view(recorded).model_dump(mode="json"))


def _unavailable(code: str, message: str) -> ApiError:
    return ApiError(503, message, code=code, headers={"Retry-After": RETRY_AFTER_S})


@router.get(
    "/conversations/{chat_id}",
    response_model=Conversation,
    dependencies=READ,
    responses=error_responses(401, 404, 422, 503),
)
async def conversation(
    chat: OwnedChat,
    user: CurrentUser,
    db: ReadDb,
    cipher: Cipher,
    limit: Limit = 50,
    cursor: Cursor = "",
) -> Conversation:
    """Your questions about the chat and their answers: the newest `limit`, oldest first;
    `next_cursor` pages back to older ones."""
    chat_id = chat["chat_id"]
    rows = await conversation_queries.turns_before(
        db, chat_id, user.user_id, decode_cursor(cursor), limit + 1
    )
    page = list(reversed(rows[:limit]))
    conversation_id = conversation_id_for(chat_id, user.user_id)
    async with db.connection() as conn:
        texts = await turn_texts(conn, cipher, conversation_id, [r["content_id"] for r in page])
    participants = list(chat["participants"])
    return Conversation(
        chat_id=chat_id,
        turns=[turn_view(row, texts.get(row["content_id"]), participants) for row in page],
        next_cursor=encode_cursor(page[0]["position"]) if len(rows) > limit else None,
    )


@router.delete(
    "/conversations/{chat_id}",
    response_model=ConversationForgotten,
    responses=error_responses(401, 404, 422, 503),
)
async def forget(
    chat_id: UUID, user: CurrentUser, store: Store, db: ReadDb
) -> ConversationForgotten:
    """Forget your questions about the chat: their events say forgotten, their text is erased."""
    await dispatch(store, owned_chat, chat_id, user.user_id)
    forgotten = await dispatch(store, forget_turns, chat_id, user.user_id)
    async with db.connection() as conn:
        await erase_conversation_async(conn, conversation_id_for(chat_id, user.user_id))
    return ConversationForgotten(
        chat_id=chat_id, turns_forgotten=forgotten.turns, position=forgotten.position
    )
