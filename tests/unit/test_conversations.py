"""Conversations and questions' lazy indexing, decided in memory (no database): one turn is two
events saved together, history is the last answered turns, forgetting drops them, one indexing
request however many ask, confidence from similarities."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

import pytest

from relivchats.adapters.memory_eventstore import InMemoryEventStore
from relivchats.commands.chat_indexing import (
    owned_chat,
    record_indexed,
    record_indexing_failed,
    request_indexing,
)
from relivchats.commands.chats import record_upload
from relivchats.commands.conversations import (
    TurnToRecord,
    forget_turns,
    load_conversation,
    record_turn,
)
from relivchats.commands.unit_of_work import execute
from relivchats.domain import chats
from relivchats.domain.chats import ChatNotFound, IndexingRequested
from relivchats.domain.chats_rules import UploadSummary
from relivchats.domain.conversations import (
    ConversationForgotten,
    QuestionAnswered,
    QuestionAsked,
    QuestionFailed,
    SourceRange,
    conversation_id_for,
)
from relivchats.domain.conversations_rules import Outcome, confidence_of

OWNER, STRANGER = uuid.uuid4(), uuid.uuid4()
STALE = timedelta(minutes=15)
ANSWERED = Outcome(model="offline", prompt_tokens=40, output_tokens=12, confidence="high")


@pytest.fixture
def store() -> InMemoryEventStore:
    return InMemoryEventStore()


@pytest.fixture
def chat_id(store: InMemoryEventStore) -> uuid.UUID:
    chat_id = uuid.uuid4()
    summary = UploadSummary(
        ("Asha", "Ben"), 10, datetime(2024, 1, 1, 9), datetime(2024, 1, 2, 9), uuid.uuid4()
    )
    execute(store, record_upload, chat_id, OWNER, summary, None)
    return chat_id


def turn(chat_id: uuid.UUID, outcome: Outcome = ANSWERED) -> TurnToRecord:
    return TurnToRecord(chat_id, OWNER, uuid.uuid4(), uuid.uuid4(), 9, outcome)


def test_a_turn_is_asked_and_answered_in_one_save(store, chat_id):
    recorded = turn(chat_id)

    execute(store, record_turn, recorded)
    execute(store, record_turn, recorded)  # a repeat records nothing

    events = store.load(conversation_id_for(chat_id, OWNER))
    assert [type(e) for e in events] == [QuestionAsked, QuestionAnswered]
    assert events[0].turn_id == events[1].turn_id == recorded.turn_id
    assert all("question" not in vars(e) and "answer" not in vars(e) for e in events)


def test_history_is_the_last_ten_answered_turns_oldest_first(store, chat_id):
    turns = [turn(chat_id) for _ in range(12)]
    failed = turn(chat_id, Outcome(error="provider_unavailable"))
    for recorded in [*turns[:6], failed, *turns[6:]]:
        execute(store, record_turn, recorded)

    conversation = execute(store, load_conversation, chat_id, OWNER)

    assert conversation is not None
    assert [t.turn_id for t in conversation.history()] == [t.turn_id for t in turns[2:]]
    events = store.load(conversation.id)
    assert sum(isinstance(e, QuestionFailed) for e in events) == 1


def test_forgetting_drops_every_turn_and_later_questions_start_afresh(store, chat_id):
    for _ in range(3):
        execute(store, record_turn, turn(chat_id))

    forgotten = execute(store, forget_turns, chat_id, OWNER)
    again = execute(store, forget_turns, chat_id, OWNER)
    later = turn(chat_id)
    execute(store, record_turn, later)

    assert (forgotten.turns, again.turns) == (3, 0)
    conversation = execute(store, load_conversation, chat_id, OWNER)
    assert conversation is not None
    assert [t.turn_id for t in conversation.turns] == [later.turn_id]
    events = store.load(conversation.id)
    assert sum(isinstance(e, ConversationForgotten) for e in events) == 1


def test_sources_are_stored_as_ranges_and_speaker_positions(store, chat_id):
    source = SourceRange(3, 40, 90, 50, datetime(2024, 1, 1), datetime(2024, 1, 2), (1, 0), 0.61)
    execute(store, record_turn, turn(chat_id, Outcome(model="m", sources=(source,))))

    answered = store.load(conversation_id_for(chat_id, OWNER))[1]

    assert answered.sources == [
        {
            "chunk_index": 3,
            "first_message": 40,
            "end_message": 90,
            "message_count": 50,
            "start": "2024-01-01T00:00:00",
            "end": "2024-01-02T00:00:00",
            "speakers": [1, 0],
            "similarity": 0.61,
        }
    ]


def test_one_indexing_request_however_many_questions_ask(store, chat_id):
    first = execute(store, request_indexing, chat_id, OWNER, "unindexed", STALE)
    second = execute(store, request_indexing, chat_id, OWNER, "unindexed", STALE)

    assert (first.changed, second.changed) == (True, False)
    requests = [e for e in store.load(chat_id) if isinstance(e, IndexingRequested)]
    assert len(requests) == 1


def test_indexing_ends_the_request_even_when_the_chunk_count_is_unchanged(store, chat_id):
    execute(store, request_indexing, chat_id, OWNER, "unindexed", STALE)
    execute(store, record_indexed, chat_id, 7)
    upgrade = execute(store, request_indexing, chat_id, OWNER, "payload_upgrade", STALE)
    ended = execute(store, record_indexed, chat_id, 7)

    chat = chats.replay(store.load(chat_id))
    assert upgrade.changed and ended
    assert chat is not None and chat.indexed_chunks == 7 and chat.indexing_requested_at is None


def test_a_failed_or_stale_request_is_made_again(store, chat_id):
    execute(store, request_indexing, chat_id, OWNER, "unindexed", STALE)
    execute(store, record_indexing_failed, chat_id, "indexing_timed_out")
    after_failure = execute(store, request_indexing, chat_id, OWNER, "unindexed", STALE)
    stale = execute(store, request_indexing, chat_id, OWNER, "unindexed", timedelta(0))

    assert (after_failure.changed, stale.changed) == (True, True)


def test_another_users_chat_is_not_found_and_nothing_is_requested(store, chat_id):
    with pytest.raises(ChatNotFound):
        execute(store, owned_chat, chat_id, STRANGER)
    with pytest.raises(ChatNotFound):
        execute(store, request_indexing, chat_id, STRANGER, "unindexed", STALE)
    assert not any(isinstance(e, IndexingRequested) for e in store.load(chat_id))


@pytest.mark.parametrize(
    ("similarities", "confidence"),
    [
        ([0.7, 0.5, 0.4], "high"),
        ([0.7, 0.2, 0.1], "medium"),  # one good chunk, unsupported by the next ones
        ([0.4, 0.3], "medium"),
        ([0.3, 0.2], "low"),
        ([], "low"),
    ],
)
def test_confidence_comes_from_the_sources_similarities(similarities, confidence):
    assert confidence_of(similarities) == confidence
