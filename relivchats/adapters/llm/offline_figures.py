"""The offline provider's reading of a chat: one score and a few sentences, from the figures alone.

The score weighs how evenly the conversation is shared, who starts it, how quickly people reply
and how curious they are (questions per message). It is a heuristic, labelled as such wherever it
appears; its only promises are that it is deterministic and stays within 0-10.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from relivchats.adapters.llm.base import InsightMaterial, ParticipantFigures
from relivchats.domain.catalogue import OVERALL_STATUSES

# A reply within this many minutes counts as half-way responsive.
RESPONSIVE_MINUTES = 30.0
_STATUS_FLOORS = (8.0, 6.5, 5.0, 3.5, 0.0)  # one per OVERALL_STATUSES entry


@dataclass(frozen=True)
class ChatReading:
    names: tuple[str, ...]
    score: float
    summary: str
    most_active: str
    quietest: str
    themes: tuple[str, ...]
    person_facts: tuple[tuple[str, str], ...]

    @property
    def status(self) -> str:
        return next(
            status
            for status, floor in zip(OVERALL_STATUSES, _STATUS_FLOORS, strict=True)
            if self.score >= floor
        )

    def pick(self, options: Sequence[str]) -> str:
        """Choose among options listed best-first: a higher score picks an earlier one."""
        position = int((10 - self.score) / 10 * len(options))
        return options[min(position, len(options) - 1)]

    def person_fact(self, name: str) -> str:
        return dict(self.person_facts).get(name, f"{name} takes part in the chat.")


def read_chat(material: InsightMaterial, themes: tuple[str, ...]) -> ChatReading:
    people = material.participants or (ParticipantFigures(name="Everyone", messages=0),)
    by_activity = sorted(people, key=lambda person: (-person.messages, person.name))
    return ChatReading(
        names=tuple(person.name for person in people),
        score=_score(people),
        summary=_summary(people, by_activity[0]),
        most_active=by_activity[0].name,
        quietest=by_activity[-1].name,
        themes=themes,
        person_facts=tuple((person.name, _fact(person, people)) for person in people),
    )


def _score(people: Sequence[ParticipantFigures]) -> float:
    sharing = _evenness([person.messages for person in people])
    starting = _evenness([person.initiations for person in people])
    replies = [p.avg_response_s for p in people if p.avg_response_s is not None]
    responsive = (
        1 / (1 + (sum(replies) / len(replies) / 60) / RESPONSIVE_MINUTES) if replies else 0.5
    )
    messages = sum(person.messages for person in people)
    curious = min(1.0, 5 * sum(person.questions for person in people) / messages) if messages else 0
    blended = 0.35 * sharing + 0.2 * starting + 0.3 * responsive + 0.15 * curious
    return round(min(10.0, max(0.0, 10 * blended)), 1)


def _evenness(counts: Sequence[int]) -> float:
    """1 when everyone contributes the same, towards 0 as one person dominates."""
    if len(counts) < 2 or max(counts) == 0:
        return 0.5
    return min(counts) / max(counts)


def _summary(people: Sequence[ParticipantFigures], top: ParticipantFigures) -> str:
    total = sum(person.messages for person in people)
    names = " and ".join(person.name for person in people[:3])
    if len(people) > 3:
        names = f"{len(people)} people"
    if total == 0:
        return f"{names} have too few messages to read yet."
    share = top.messages / total
    return f"{names} exchanged {total:,} messages; {top.name} wrote {share:.0%} of them."


def _fact(person: ParticipantFigures, people: Sequence[ParticipantFigures]) -> str:
    total = sum(other.messages for other in people) or 1
    fact = (
        f"{person.name} sent {person.messages / total:.0%} of the messages, started "
        f"{person.initiations} conversations and asked {person.questions} questions"
    )
    if person.avg_response_s is not None:
        fact += f", usually replying within {person.avg_response_s / 60:.0f} minutes"
    return fact + "."
