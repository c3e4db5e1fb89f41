"""The offline writer's reading of a chat for one insight type: its people, score and summary.

The score is the type's own (offline_scores.py); the summary says who wrote how much and what the
score was made of, so a reader can check it against the statistics page.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from relivchats.adapters.llm.base import InsightMaterial
from relivchats.adapters.llm.offline_figures import Person, people_of
from relivchats.adapters.llm.offline_scores import TypeScore, type_score
from relivchats.adapters.llm.offline_signals import Signal
from relivchats.domain.catalogue import OVERALL_STATUSES

_STATUS_FLOORS = (8.0, 6.5, 5.0, 3.5, 0.0)  # one per OVERALL_STATUSES entry


@dataclass(frozen=True)
class ChatReading:
    people: tuple[Person, ...]
    rated: TypeScore
    themes: tuple[str, ...]
    statistics: Mapping[str, Any]

    @property
    def score(self) -> float:
        return self.rated.score

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(person.name for person in self.people)

    @property
    def most_active(self) -> str:
        return self._by_activity()[0].name

    @property
    def quietest(self) -> str:
        return self._by_activity()[-1].name

    @property
    def total_messages(self) -> int:
        return sum(person.messages for person in self.people)

    @property
    def status(self) -> str:
        return next(
            status
            for status, floor in zip(OVERALL_STATUSES, _STATUS_FLOORS, strict=True)
            if self.score >= floor
        )

    @property
    def summary(self) -> str:
        return f"{_who_wrote(self.people, self._by_activity()[0])} {self.rated.explanation()}"

    def pick(self, options: Sequence[str], value: float | None = None) -> str:
        """Choose among options listed best-first: a higher value (0-1; the score by default)
        picks an earlier one."""
        value = self.score / 10 if value is None else value
        position = int((1 - value) * len(options))
        return options[min(max(position, 0), len(options) - 1)]

    def signal(self, name: str) -> Signal | None:
        return next((s for s, _ in self.rated.signals if s.name == name), None)

    def person(self, name: str) -> Person:
        return next(person for person in self.people if person.name == name)

    def person_fact(self, name: str) -> str:
        person = next((p for p in self.people if p.name == name), None)
        return _fact(person, self.total_messages) if person else f"{name} takes part."

    def _by_activity(self) -> list[Person]:
        return sorted(self.people, key=lambda person: (-person.messages, person.name))


def read_chat(material: InsightMaterial, themes: tuple[str, ...]) -> ChatReading:
    people = people_of(material)
    return ChatReading(people, type_score(material, people), themes, material.statistics)


def _who_wrote(people: Sequence[Person], top: Person) -> str:
    total = sum(person.messages for person in people)
    names = " and ".join(person.name for person in people[:3])
    if len(people) > 3:
        names = f"{len(people)} people"
    if total == 0:
        return f"{names} have too few messages to read yet."
    return f"{names} exchanged {total:,} messages; {top.name} wrote {top.messages / total:.0%}."


def _fact(person: Person, total: int) -> str:
    fact = (
        f"{person.name} sent {person.messages / (total or 1):.0%} of the messages, started "
        f"{person.initiations} conversations and asked {person.questions} questions"
    )
    if person.response_min is not None:
        fact += f", usually replying within {person.response_min:.0f} minutes"
    return fact + "."
