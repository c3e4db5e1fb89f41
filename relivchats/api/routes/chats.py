"""`/api/chats`: upload an export, read its statistics and messages, rename, share, delete.

Reads start from the caller's `chats` read row (`OwnedChat`: 404 for a missing, deleted or
someone else's chat), then open the sealed content it names. Writes go through the chat's
events, which check ownership themselves, and answer with the state they decided plus
`position`. A delete answers once the read model has dropped the chat, so from then on every
read, the public share included, finds nothing.
"""

from __future__ import annotations

import hashlib
import secrets
from typing import Annotated, Any
from uuid import UUID

import orjson
from fastapi import APIRouter, Depends, Path, Query, Request, Response

from relivchats.adapters.chat_content import message_page, statistics_json
from relivchats.api.dependencies import (
    Cipher,
    CurrentUser,
    IdempotencyKey,
    OwnedChat,
    ReadDb,
    Store,
    rate_limited,
    wait_for_min_position,
    wait_until_projected,
)
from relivchats.api.errors import ApiError
from relivchats.api.metrics import count_unreadable_export
from relivchats.api.schemas.chats import (
    ChatDeletedResponse,
    ChatDetail,
    ChatList,
    ChatShareResponse,
    ChatUnshareResponse,
    ChatWritten,
    DisplayNameRequest,
    MessagePage,
    PublicStatistics,
    VectorStatus,
    decode_cursor,
    encode_cursor,
    message_view,
    summary_of_chat,
    summary_of_row,
    vector_status_of,
)
from relivchats.api.uploads import UPLOAD_REQUEST_BODY, read_uploaded_file
from relivchats.commands import chats as commands
from relivchats.commands.chat_upload import upload_chat
from relivchats.commands.ingest import IngestPool
from relivchats.domain.uploads import UnknownChatLayout
from relivchats.projections import chat_queries

router = APIRouter(prefix="/api/chats", tags=["chats"])
READ = [Depends(wait_for_min_position)]
CHATS_PROJECTION = ["chats"]

Limit = Annotated[int, Query(ge=1, le=100)]
Cursor = Annotated[str | None, Query(max_length=64, description="from the previous page")]
ShareToken = Annotated[str, Path(min_length=32, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]


async def _ingest_pool(request: Request) -> IngestPool:
    pool: IngestPool = request.app.state.ingest_pool
    return pool


Uploads = Annotated[IngestPool, Depends(_ingest_pool)]


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@router.post(
    "/upload",
    response_model=ChatWritten,
    status_code=201,
    dependencies=[Depends(rate_limited("upload", lambda settings: settings.rate_limit_upload))],
    openapi_extra={"requestBody": UPLOAD_REQUEST_BODY},
)
async def upload(
    request: Request,
    response: Response,
    user: CurrentUser,
    store: Store,
    cipher: Cipher,
    pool: Uploads,
    idempotency_key: IdempotencyKey = None,
) -> ChatWritten:
    data = await read_uploaded_file(request)
    try:
        uploaded = await upload_chat(store, pool, cipher, user.user_id, data, idempotency_key)
    except UnknownChatLayout as refusal:
        count_unreadable_export(refusal.details["signature"])  # so support sees what to add
        raise
    response.status_code = 201 if uploaded.created else 200
    return ChatWritten(
        chat=summary_of_chat(uploaded.chat), created=uploaded.created, position=uploaded.position
    )


@router.get("", response_model=ChatList, dependencies=READ)
async def list_chats(
    user: CurrentUser, db: ReadDb, limit: Limit = 50, cursor: Cursor = None
) -> ChatList:
    before = decode_cursor(cursor)
    rows = await chat_queries.chats_of(db, user.user_id, before, limit + 1)
    page = rows[:limit]
    more = len(rows) > limit
    return ChatList(
        items=[summary_of_row(row) for row in page],
        next_cursor=encode_cursor(page[-1]["uploaded_position"]) if more else None,
    )


@router.get("/{chat_id}", response_model=ChatDetail, dependencies=READ)
async def get_chat(chat: OwnedChat, db: ReadDb, cipher: Cipher) -> ChatDetail:
    return ChatDetail(
        **summary_of_row(chat).model_dump(), statistics=await _statistics(db, cipher, chat)
    )


@router.get("/{chat_id}/messages", response_model=MessagePage, dependencies=READ)
async def messages(
    chat: OwnedChat, db: ReadDb, cipher: Cipher, limit: Limit = 50, cursor: Cursor = None
) -> MessagePage:
    after = decode_cursor(cursor)
    async with db.connection() as conn:
        page = await message_page(
            conn, cipher, chat["chat_id"], chat["content_id"], -1 if after is None else after, limit
        )
    last_seq = chat["message_count"] - 1
    return MessagePage(
        items=[message_view(message, chat["participants"]) for message in page],
        next_cursor=encode_cursor(page[-1].seq) if page and page[-1].seq < last_seq else None,
    )


@router.get("/{chat_id}/vector-status", response_model=VectorStatus, dependencies=READ)
async def vector_status(chat: OwnedChat) -> VectorStatus:
    return vector_status_of(chat)


@router.put("/{chat_id}/display-name", response_model=ChatWritten)
async def set_display_name(
    chat_id: UUID, body: DisplayNameRequest, user: CurrentUser, store: Store
) -> ChatWritten:
    change = await store.command(
        commands.set_display_name, chat_id, user.user_id, body.me_participant, body.title
    )
    return ChatWritten(chat=summary_of_chat(change.chat), created=False, position=change.position)


@router.delete("/{chat_id}", response_model=ChatDeletedResponse)
async def delete_chat(
    chat_id: UUID, user: CurrentUser, store: Store, request: Request, response: Response
) -> ChatDeletedResponse:
    change = await store.command(commands.delete_chat, chat_id, user.user_id)
    await wait_until_projected(request, response, CHATS_PROJECTION, change.position)
    return ChatDeletedResponse(chat_id=chat_id, deleted=True, position=change.position)


@router.post("/{chat_id}/share", response_model=ChatShareResponse, status_code=201)
async def share_chat(chat_id: UUID, user: CurrentUser, store: Store) -> ChatShareResponse:
    token = secrets.token_urlsafe(32)
    change = await store.command(commands.share_chat, chat_id, user.user_id, _token_hash(token))
    return ChatShareResponse(
        share_token=token,
        public_stats_path=f"/api/chats/public/{token}/stats",
        position=change.position,
    )


@router.delete("/{chat_id}/share", response_model=ChatUnshareResponse)
async def unshare_chat(chat_id: UUID, user: CurrentUser, store: Store) -> ChatUnshareResponse:
    change = await store.command(commands.unshare_chat, chat_id, user.user_id)
    return ChatUnshareResponse(shared=False, position=change.position)


@router.get("/public/{share_token}/stats", response_model=PublicStatistics, dependencies=READ)
async def public_statistics(
    share_token: ShareToken, db: ReadDb, cipher: Cipher
) -> PublicStatistics:
    chat = await chat_queries.shared_chat(db, _token_hash(share_token))
    if chat is None:
        raise ApiError(404, "this share link does not exist or was revoked", code="share_not_found")
    return PublicStatistics(
        title=chat["title"],
        participants=chat["participants"],
        is_group=chat["is_group"],
        message_count=chat["message_count"],
        statistics=await _statistics(db, cipher, chat),
    )


async def _statistics(db: ReadDb, cipher: Cipher, chat: Any) -> dict[str, Any]:
    async with db.connection() as conn:
        opened = await statistics_json(conn, cipher, chat["chat_id"], chat["content_id"])
    if opened is None:  # a live chat's content was written before its event: a bug if gone
        raise RuntimeError(f"statistics missing for live chat {chat['chat_id']}")
    statistics: dict[str, Any] = orjson.loads(opened)
    return statistics
