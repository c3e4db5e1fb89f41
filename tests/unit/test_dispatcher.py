"""The dispatcher turns job and chat events into keyed Celery tasks, and is never rebuilt."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from relivchats.domain.chats import ChatDeleted
from relivchats.domain.events import next_event_fields
from relivchats.domain.insights import GenerationRequested, JobRequested
from relivchats.projections.dispatcher import (
    FORGET_CHAT_TASK,
    GENERATE_TASK,
    PREPARE_JOB_TASK,
    DispatcherProjection,
    Task,
    tasks_for,
)
from relivchats.projections.rebuild import rebuild
from relivchats.projections.registry import all_projections, running_projections

JOB = uuid.uuid4()


def test_a_requested_job_is_prepared_by_the_indexer():
    requested = JobRequested(
        **next_event_fields(JOB, 0),
        user_id=uuid.uuid4(),
        chat_id=uuid.uuid4(),
        category="friendship",
        insight_types=("friendship_vitality",),
        reservation_id=uuid.uuid4(),
        cost=134,
        expires_at=datetime.now(UTC),
        retry_of=None,
    )
    assert tasks_for(requested) == [Task(PREPARE_JOB_TASK, (str(JOB),), f"prepare-{JOB}")]


def test_generation_sends_one_task_per_insight_type_keyed_by_job_and_type():
    excerpts = {"love_language": [[0, 9]], "emotional_intimacy": [[3, 12]]}
    requested = GenerationRequested(**next_event_fields(JOB, 2), chunks=2, excerpts=excerpts)

    tasks = tasks_for(requested)

    assert [(t.name, t.args) for t in tasks] == [
        (GENERATE_TASK, (str(JOB), "emotional_intimacy")),
        (GENERATE_TASK, (str(JOB), "love_language")),
    ]
    assert [t.task_id for t in tasks] == [
        f"generate-{JOB}-emotional_intimacy",
        f"generate-{JOB}-love_language",
    ]


def test_a_deleted_chat_is_forgotten_by_the_indexer():
    chat = uuid.uuid4()
    assert tasks_for(ChatDeleted(**next_event_fields(chat, 3))) == [
        Task(FORGET_CHAT_TASK, (str(chat),), f"forget-{chat}")
    ]


async def test_the_dispatcher_is_never_rebuilt():
    with pytest.raises(ValueError, match="side effects"):
        await rebuild("postgresql://unused@127.0.0.1:1/none", DispatcherProjection())
    assert "dispatcher" not in {p.name for p in all_projections()}  # `rebuild all`
    assert "dispatcher" in {p.name for p in running_projections()}
