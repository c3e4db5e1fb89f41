"""The right of access: everything RelivChats holds about one user, as one JSON document.

Sections: `profile` (the account), `chats` (each with its statistics, its messages opened, its
insights opened and its insight jobs), `conversations` (RAG Q&A, see `conversations_of`),
`ledger` (every coin movement, replayed from the events like the auditor's export) and
`payment_orders`. Content is opened with the content key here, in the API or operator process,
and goes nowhere but the response. Shared by `GET /api/users/me/export` and
`relivchats users export --user ID`.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

import asyncpg
import orjson

from relivchats.adapters.chat_content import message_page, statistics_json
from relivchats.adapters.conversation_content import TurnText, turn_texts
from relivchats.adapters.crypto import ContentCipher
from relivchats.adapters.insight_content import open_insight
from relivchats.audit import replayed_ledger
from relivchats.domain.credits import account_id_for
from relivchats.projections import (
    chat_queries,
    conversation_queries,
    insight_queries,
    user_queries,
)

MESSAGES_PER_READ = 5000
CHATS_PER_READ = 100
FORMAT = "relivchats-export/v1"


async def export_account(
    conn: asyncpg.Connection, cipher: ContentCipher, user_id: UUID
) -> dict[str, Any] | None:
    """The user's data; None if there is no such account (or it has been deleted)."""
    profile = await user_queries.profile(conn, user_id)
    if profile is None or profile["deletion_requested_at"] is not None:
        return None
    return {
        "format": FORMAT,
        "profile": profile,
        "chats": [await _chat(conn, cipher, row) for row in await _all_chats(conn, user_id)],
        "conversations": await conversations_of(conn, cipher, user_id),
        "ledger": await replayed_ledger(conn, account_id_for(user_id)),
        "payment_orders": [dict(row) for row in await _orders(conn, user_id)],
    }


def as_json(export: dict[str, Any]) -> bytes:
    return orjson.dumps(export, default=str, option=orjson.OPT_INDENT_2)


async def _all_chats(conn: asyncpg.Connection, user_id: UUID) -> list[asyncpg.Record]:
    rows: list[asyncpg.Record] = []
    before: int | None = None
    while page := await chat_queries.chats_of(conn, user_id, before, CHATS_PER_READ):
        rows += page
        before = page[-1]["uploaded_position"]
    return rows


async def _chat(conn: asyncpg.Connection, cipher: ContentCipher, row: asyncpg.Record) -> Any:
    chat_id, content_id = row["chat_id"], row["content_id"]
    statistics = await statistics_json(conn, cipher, chat_id, content_id)
    return {
        **{k: v for k, v in dict(row).items() if k != "content_id"},
        "statistics": orjson.loads(statistics) if statistics is not None else None,
        "messages": await _messages(conn, cipher, chat_id, content_id, row["participants"]),
        "insights": await _insights(conn, cipher, chat_id),
        "insight_jobs": [dict(job) for job in await insight_queries.chat_jobs(conn, chat_id)],
    }


async def _messages(
    conn: asyncpg.Connection,
    cipher: ContentCipher,
    chat_id: UUID,
    content_id: UUID,
    participants: list[str],
) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = []
    after = -1
    while page := await message_page(conn, cipher, chat_id, content_id, after, MESSAGES_PER_READ):
        messages += [
            {
                "seq": m.seq,
                "sent_at": m.sent_at,
                "sender": participants[m.sender_index] if m.sender_index >= 0 else None,
                "kind": m.kind.name.lower(),
                "text": m.text,
            }
            for m in page
        ]
        after = page[-1].seq
    return messages


async def _insights(
    conn: asyncpg.Connection, cipher: ContentCipher, chat_id: UUID
) -> list[dict[str, Any]]:
    return [
        {
            "insight_type": row["insight_type"],
            "category": row["category"],
            "title": row["title"],
            "model": row["model"],
            "completed_at": row["completed_at"],
            "content": open_insight(
                cipher, row["body"], chat_id, row["job_id"], row["insight_type"]
            ),
        }
        for row in await insight_queries.chat_insights(conn, chat_id)
    ]


async def _orders(conn: asyncpg.Connection, user_id: UUID) -> list[asyncpg.Record]:
    rows: list[asyncpg.Record] = await conn.fetch(
        "SELECT order_id, package_id, coins, provider, provider_order_id, amount_minor, currency,"
        " status, provider_payment_id, flagged, failure_reason, total_refunded_minor, disputed,"
        " coins_granted, created_at, updated_at FROM payment_orders WHERE user_id = $1"
        " ORDER BY created_at",
        user_id,
    )
    return rows


async def conversations_of(
    conn: asyncpg.Connection, cipher: ContentCipher, user_id: UUID
) -> list[dict[str, Any]]:
    """The user's questions about their chats, each with its answer opened, oldest first."""
    turns = await conversation_queries.turns_of_user(conn, user_id)
    texts: dict[UUID, TurnText] = {}
    for conversation_id in {turn["conversation_id"] for turn in turns}:
        contents = [t["content_id"] for t in turns if t["conversation_id"] == conversation_id]
        texts |= await turn_texts(conn, cipher, conversation_id, contents)
    return [_turn(dict(turn), texts.get(turn["content_id"])) for turn in turns]


def _turn(turn: dict[str, Any], text: TurnText | None) -> dict[str, Any]:
    sources = turn.pop("sources")
    return {
        **{k: v for k, v in turn.items() if k not in ("content_id", "conversation_id")},
        "sources": orjson.loads(sources) if isinstance(sources, str) else sources,
        "question": text.question if text else None,
        "answer": text.answer if text else None,
    }
