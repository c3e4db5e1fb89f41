"""The `generation` queue: one task per (job, insight type), run in parallel by any worker.

A task reads what its insight needs from the content store (the chat's statistics, the
messages of the chunks chosen for it at indexing), builds the prompt, asks the LLM for JSON in
the type's schema, validates it, seals it into `insight_contents` and records `InsightSucceeded`
with the tokens, model, latency and excerpts used. Provider errors, invalid output and the
per-insight time limit are retried with backoff up to `INSIGHT_ATTEMPTS`; then the insight is
recorded failed. The outcome that completes the job settles it in the same save.

Database and event-store errors retry the whole task instead: they are not the insight's fault.
Delivery is at least once: a task whose (job, type) already has an outcome does nothing, and a
sealed insight whose event lost the race is erased again.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import psycopg

from relivchats.adapters.chat_content import read_messages, read_statistics
from relivchats.adapters.crypto import ContentCipher
from relivchats.adapters.insight_content import erase_insight, store_insight
from relivchats.adapters.llm import (
    LlmInvalidOutput,
    LlmProvider,
    LlmResult,
    build_insight_prompt,
    make_llm,
)
from relivchats.adapters.llm.faults import FaultyLlm
from relivchats.commands.insight_outcomes import record_outcomes
from relivchats.commands.unit_of_work import execute
from relivchats.domain import chats, insights
from relivchats.domain.catalogue import insight_type, validate_insight
from relivchats.domain.chats import Chat
from relivchats.domain.insights import ExcerptRanges, InsightJob
from relivchats.domain.insights_rules import Failure, Success
from relivchats.projections.dispatcher import GENERATE_TASK
from relivchats.settings import Settings, get_settings
from relivchats.workers.app import celery_app, worker_store
from relivchats.workers.attempts import (
    INFRASTRUCTURE_ERRORS,
    attempt_number,
    error_code,
    infrastructure_retries,
    retry_later,
)
from relivchats.workers.material import excerpts_of, insight_material, wanted_seqs
from relivchats.workers.metrics import observe_llm

log = logging.getLogger(__name__)

_settings = get_settings()
# One insight's budget: a soft limit (a catchable, retried timeout) a little under the task's
# hard limit, which itself stays under the broker's visibility timeout (workers/app.py).
SOFT_LIMIT_S = min(_settings.insight_timeout_s, _settings.celery_task_soft_time_limit_s)


def build_llm(settings: Settings) -> LlmProvider:
    key = settings.gemini_api_key.get_secret_value() if settings.gemini_api_key else None
    llm = make_llm(
        key,
        model=settings.gemini_model,
        base_url=settings.gemini_base_url,
        timeout_s=settings.gemini_timeout_s,
        attempts=settings.gemini_attempts,
    )
    return FaultyLlm(llm, settings.llm_faults_file) if settings.llm_faults_file else llm


class _Process:
    """What one worker process builds once: the LLM client and the content cipher."""

    llm: LlmProvider | None = None
    cipher: ContentCipher | None = None


def _llm_and_cipher(settings: Settings) -> tuple[LlmProvider, ContentCipher]:
    if _Process.llm is None or _Process.cipher is None:
        _Process.llm, _Process.cipher = build_llm(settings), ContentCipher.from_settings(settings)
    return _Process.llm, _Process.cipher


@dataclass(frozen=True)
class Written:
    insight: dict[str, Any]
    result: LlmResult
    excerpts_used: int


@celery_app.task(  # type: ignore[untyped-decorator]
    name=GENERATE_TASK,
    bind=True,
    soft_time_limit=SOFT_LIMIT_S,
    **infrastructure_retries(_settings),
)
def generate_insight(self: Any, job_id: str, kind: str) -> str:
    settings, store = get_settings(), worker_store()
    job = insights.replay(store.load(UUID(job_id)))
    if job is None or job.excerpts is None or kind in job.outcomes:
        return "already recorded"
    chat = chats.replay(store.load(job.chat_id))
    if chat is None or chat.deleted:
        failure = Failure(kind, "chat_deleted", attempt_number(self))
        execute(store, record_outcomes, job.id, [failure])
        return "chat deleted"
    llm, cipher = _llm_and_cipher(settings)
    try:
        written = write_insight(llm, cipher, settings, job, chat, kind)
    except INFRASTRUCTURE_ERRORS:
        raise  # not the insight's fault: the whole task is retried (infrastructure_retries)
    except Exception as error:
        _retry_or_record_failure(self, settings, job, kind, error)
        return "failed"
    return _record_success(self, settings, cipher, job, kind, written)


def _retry_or_record_failure(
    task: Any, settings: Settings, job: InsightJob, kind: str, error: Exception
) -> None:
    """Provider errors, invalid output and the time limit are tried again until the attempts
    are used up; a provider's refusal is final. Then the failure is recorded (and may settle)."""
    code = error_code(error)
    context = {"job_id": str(job.id), "insight_type": kind, "error": code}
    if code == "internal_error":  # our own bug: keep the traceback
        log.exception("insight attempt crashed", extra=context)
    else:
        log.warning("insight attempt failed", extra=context)
    if code != "provider_refused":
        retry_later(task, error, settings.insight_attempts, settings)
    failure = Failure(kind, code, attempt_number(task))
    execute(worker_store(), record_outcomes, job.id, [failure])


def write_insight(
    llm: LlmProvider,
    cipher: ContentCipher,
    settings: Settings,
    job: InsightJob,
    chat: Chat,
    kind: str,
) -> Written:
    insight = insight_type(kind)
    ranges: ExcerptRanges = (job.excerpts or {}).get(kind, ())
    with psycopg.connect(settings.database_url, connect_timeout=5) as conn:
        statistics = read_statistics(conn, cipher, chat.id, chat.content_id) or {}
        messages = read_messages(conn, cipher, chat.id, chat.content_id, wanted_seqs(ranges))
    excerpts = excerpts_of(messages, ranges, chat.participants)
    material = insight_material(insight, statistics, excerpts, chat.me_participant)
    prompt = build_insight_prompt(insight, material)
    result = llm.generate_json(prompt, insight.output_schema, material=material)
    problems = validate_insight(kind, result.data)
    if problems:
        raise LlmInvalidOutput("the insight does not match its schema", problems)
    return Written(result.data, result, len(excerpts))


def _record_success(
    task: Any, settings: Settings, cipher: ContentCipher, job: InsightJob, kind: str, w: Written
) -> str:
    content_id = uuid.uuid4()
    with psycopg.connect(settings.database_url, autocommit=True, connect_timeout=5) as conn:
        store_insight(conn, cipher, content_id, job.chat_id, job.id, kind, w.insight)
        success = _success(task, kind, content_id, w)
        outcome = execute(worker_store(), record_outcomes, job.id, [success])
        if not outcome.changed:  # another delivery of this task recorded its insight first
            erase_insight(conn, content_id)
            return "already recorded"
    r = w.result
    observe_llm(r.model, r.prompt_tokens, r.output_tokens, r.thinking_tokens, r.latency_ms)
    log.info(
        "insight generated",
        extra={
            "job_id": str(job.id),
            "insight_type": kind,
            "model": w.result.model,
            "latency_ms": w.result.latency_ms,
            "settled": outcome.settled,
            "position": outcome.position,
        },
    )
    return "generated"


def _success(task: Any, kind: str, content_id: UUID, w: Written) -> Success:
    return Success(
        insight_type=kind,
        content_id=content_id,
        model=w.result.model,
        prompt_tokens=w.result.prompt_tokens,
        output_tokens=w.result.output_tokens,
        thinking_tokens=w.result.thinking_tokens,
        latency_ms=w.result.latency_ms,
        excerpts_used=w.excerpts_used,
        offline=w.result.offline,
        attempts=attempt_number(task),
    )
