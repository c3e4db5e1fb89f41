"""The UnlockSlot aggregate: which job is open for a (chat, category), and what is delivered.

Its id is uuid5 of the chat and the category. Every unlock (or retry) appends `SlotOpened` at the
slot's next version in the same save as its job and reservation, so two racing unlocks meet at
the event store's version check: one job, one reservation. The job's settlement or expiry
closes the slot and records the insight types it delivered; an unlock of a category whose types
are all delivered is refused ("already unlocked"). The slot has no commands of its own: its events
are decided with the job's, in `insights_rules.py`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from uuid import UUID

from relivchats.domain.events import Event, deterministic_id, fold


def slot_id_for(chat_id: UUID, category: str) -> UUID:
    return deterministic_id("unlock-slot", chat_id, category)


@dataclass(frozen=True)
class SlotOpened(Event):
    TOPIC = "insights.SlotOpened.v1"
    job_id: UUID


@dataclass(frozen=True)
class SlotClosed(Event):
    """The open job settled or expired; `delivered` are the insight types it wrote."""

    TOPIC = "insights.SlotClosed.v1"
    job_id: UUID
    delivered: tuple[str, ...]


@dataclass(frozen=True)
class InsightDeliveredLate(Event):
    """An expired job's insight arrived after all: kept (and free), and counted as delivered."""

    TOPIC = "insights.InsightDeliveredLate.v1"
    job_id: UUID
    insight_type: str


@dataclass(frozen=True)
class UnlockSlot:
    id: UUID
    version: int  # 0: never used
    open_job: UUID | None = None
    delivered: frozenset[str] = frozenset()


def empty_slot(chat_id: UUID, category: str) -> UnlockSlot:
    return UnlockSlot(id=slot_id_for(chat_id, category), version=0)


def evolve(state: UnlockSlot | None, event: Event) -> UnlockSlot:
    base = state or UnlockSlot(id=event.originator_id, version=0)
    base = replace(base, version=event.originator_version)
    match event:
        case SlotOpened(job_id=job_id):
            return replace(base, open_job=job_id)
        case SlotClosed(delivered=delivered):
            return replace(base, open_job=None, delivered=base.delivered | set(delivered))
        case InsightDeliveredLate(insight_type=kind):
            return replace(base, delivered=base.delivered | {kind})
    return base


def replay(events: Iterable[Event]) -> UnlockSlot | None:
    return fold(evolve, events)
