"""Per-participant fields of the offline insights, each from that person's own figures.

Two people with different reply times, questions, emoji or words get different styles, levels and
love languages; the note says which figures decided. `PERSON_WRITERS` maps a per-person field of
the catalogue to the function writing one person's entry (every property its schema requires).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from relivchats.adapters.llm.offline_figures import (
    LAUGH_EMOJI,
    WARM_EMOJI,
    Person,
    matches,
)
from relivchats.adapters.llm.offline_reading import ChatReading
from relivchats.domain.catalogue import LEVELS, LOVE_LANGUAGES

Entry = dict[str, Any]
# Words and emoji that point to each love language, in the catalogue's order.
_LOVE_SIGN_TEXT = {
    "words_of_affirmation": "love proud beautiful amazing best cute sweet thank thanks awesome "
    "perfect special ❤️ 💕 💖 🥰 😍",
    "quality_time": "together call meet date time talk weekend tonight movie dinner spend milte",
    "acts_of_service": "help done fixed cook pick drop bring book booked clean sort sorted ready",
    "receiving_gifts": "gift gifts surprise bought buy order flowers chocolate present delivered "
    "🎁 💐 🌹",
    "physical_touch": "hug hugs kiss kisses cuddle hold touch 🤗 😘 💋 😚 🫂",
}
LOVE_SIGNS = {language: frozenset(text.split()) for language, text in _LOVE_SIGN_TEXT.items()}


def level(value: float | None) -> str:
    if value is None:
        return LEVELS[1]
    return LEVELS[0] if value >= 0.6 else LEVELS[1] if value >= 0.3 else LEVELS[2]


def replies(person: Person) -> float | None:
    """How responsive one person is, 0-1 (half at 30 minutes)."""
    return None if person.response_min is None else 1 / (1 + person.response_min / 30)


def communication_style(reading: ChatReading, person: Person) -> Entry:
    return {
        "name": person.name,
        "style": _style(person),
        "strengths": _strengths(reading, person),
        "watch_outs": _watch_outs(person),
    }


def emotional_availability(reading: ChatReading, person: Person) -> Entry:
    parts = [v for v in (_depth(person), _warm_share(person), _long(person)) if v is not None]
    value = sum(parts) / len(parts) if parts else None
    warm = [emoji for emoji, _ in matches(person.top_emoji, WARM_EMOJI)][:3]
    note = f"About {person.avg_words or 0:.1f} meaningful words a message"
    note += f"; warm emoji among their most used: {' '.join(warm)}." if warm else "."
    return {"name": person.name, "level": level(value), "note": note}


def love_language(reading: ChatReading, person: Person) -> Entry:
    ranked = sorted(LOVE_LANGUAGES, key=lambda lang: (-_love_points(person, lang), lang))
    primary, secondary = ranked[0], ranked[1]
    signs = [
        f"Uses “{token}” {count} times"
        for token, count in matches((*person.top_words, *person.top_emoji), LOVE_SIGNS[primary])
    ][:3]
    if not _love_points(person, primary):
        primary, secondary = _love_from_habits(person)
        signs = [f"No clear sign in their top words; guessed from their habits ({_habits(person)})"]
    return {"name": person.name, "primary": primary, "secondary": secondary, "signs": signs}


def conflict_style(reading: ChatReading, person: Person) -> Entry:
    deleted_rate = (person.deleted or 0) / person.messages if person.messages else 0.0
    slow = person.response_min is not None and person.response_min >= 60
    quick = person.response_min is not None and person.response_min < 15
    if person.double_texting >= 0.35:
        style = "competing"
    elif slow or deleted_rate >= 0.01:
        style = "avoiding"
    elif quick and person.question_rate >= 0.1:
        style = "collaborating"
    elif quick:
        style = "compromising"
    else:
        style = "accommodating"
    note = f"{_habits(person)}; {deleted_rate:.1%} of their messages deleted."
    return {"name": person.name, "style": style, "note": note}


def humor_style(reading: ChatReading, person: Person) -> Entry:
    laughing = matches(person.top_emoji, LAUGH_EMOJI)
    if laughing:
        emoji, count = laughing[0]
        return {"name": person.name, "style": f"Laughs easily: {emoji} used {count} times."}
    return {"name": person.name, "style": "Understated: no laughing emoji among their most used."}


def reliability(reading: ChatReading, person: Person) -> Entry:
    note = (
        f"Usually replies within {person.response_min:.0f} minutes."
        if person.response_min is not None
        else "No replies to measure yet."
    )
    return {"name": person.name, "level": level(replies(person)), "note": note}


def support_given(reading: ChatReading, person: Person) -> Entry:
    fair = 1 / len(reading.people)
    kinds = []
    if person.question_rate >= 0.1:
        kinds.append("emotional")  # checks in
    if person.response_min is not None and person.response_min < 30:
        kinds.append("practical")  # there when needed
    if _share(reading, person, "words") >= fair:
        kinds.append("informational")  # explains, advises
    if _share(reading, person, "initiations") >= fair:
        kinds.append("celebratory")  # reaches out first
    return {"name": person.name, "support_types": kinds, "note": _habits(person) + "."}


def family_role(reading: ChatReading, person: Person) -> Entry:
    people = reading.people
    if person.name == max(people, key=lambda p: (p.initiations, p.name)).name:
        role = "Organiser: starts the most conversations"
    elif person.name == reading.most_active:
        role = "News-bringer: writes the most messages"
    elif person.name == reading.quietest:
        role = "Quiet observer: writes the least"
    elif person.question_rate >= 0.1:
        role = "Check-in person: asks a lot of questions"
    else:
        role = "Regular voice"
    return {"name": person.name, "role": role, "note": reading.person_fact(person.name)}


def family_conflict_role(reading: ChatReading, person: Person) -> Entry:
    deleted_rate = (person.deleted or 0) / person.messages if person.messages else 0.0
    timed = [p for p in reading.people if p.response_min is not None]
    fastest = min(timed, key=lambda p: (p.response_min, p.name)).name if timed else None
    if person.response_min is not None and person.response_min >= 120:
        role = "avoider"
    elif deleted_rate >= 0.01:
        role = "escalator"
    elif person.name == fastest:
        role = "peacemaker"
    elif person.response_min is not None and person.response_min < 30:
        role = "mediator"
    else:
        role = "bystander"
    note = f"{_habits(person)}; {deleted_rate:.1%} of their messages deleted."
    return {"name": person.name, "role": role, "note": note}


def communicator(reading: ChatReading, person: Person) -> Entry:
    return {"name": person.name, "style": _style(person), "responsiveness": level(replies(person))}


def contribution(reading: ChatReading, person: Person) -> Entry:
    links = sum(1 for link in reading.statistics.get("links") or [] if link["user"] == person.name)
    weights = {
        "coordination": _share(reading, person, "initiations"),
        "clarifying": _share(reading, person, "questions"),
        "detail": _share(reading, person, "words"),
    }
    strongest = max(sorted(weights), key=lambda kind: weights[kind])
    text = {
        "coordination": f"Coordination: starts {person.initiations} conversations",
        "clarifying": f"Clarifying: asks {person.questions} questions",
        "detail": f"Detail: writes {weights['detail']:.0%} of the words",
    }[strongest]
    return {
        "name": person.name,
        "contribution": text + (f"; shared {links} links." if links else "."),
    }


PERSON_WRITERS: dict[str, Callable[[ChatReading, Person], Entry]] = {
    "communication_styles": communication_style,
    "emotional_availability": emotional_availability,
    "love_languages": love_language,
    "conflict_styles": conflict_style,
    "humor_styles": humor_style,
    "reliability": reliability,
    "support_given": support_given,
    "roles": family_role,
    "conflict_roles": family_conflict_role,
    "communicators": communicator,
    "contributions": contribution,
}


def _style(person: Person) -> str:
    if person.response_min is None:
        pace = "Writer with no replies measured yet"
    elif person.response_min < 10:
        pace = "Quick replier"
    elif person.response_min < 60:
        pace = "Steady replier"
    else:
        pace = "Slow replier"
    asks = "who asks questions" if person.question_rate >= 0.1 else "who mostly answers"
    burst = " and often double-texts" if person.double_texting >= 0.3 else ""
    return f"{pace} {asks}{burst}."


def _strengths(reading: ChatReading, person: Person) -> list[str]:
    found = []
    if person.response_min is not None and person.response_min < 30:
        found.append(f"Replies within about {person.response_min:.0f} minutes")
    if person.question_rate >= 0.1:
        found.append(f"Asks questions in {person.question_rate:.0%} of messages")
    if _share(reading, person, "initiations") >= 0.5:
        found.append(f"Starts {person.initiations} conversations")
    return found or [f"Keeps the chat going with {person.messages} messages"]


def _watch_outs(person: Person) -> list[str]:
    found = []
    if person.response_min is not None and person.response_min >= 60:
        found.append(f"Replies can take {person.response_min:.0f} minutes")
    if person.double_texting >= 0.3:
        found.append(f"Double-texts in {person.double_texting:.0%} of turns")
    if person.messages and person.question_rate < 0.05:
        found.append("Rarely asks questions")
    return found


def _habits(person: Person) -> str:
    reply = f"replies in {person.response_min:.0f} min" if person.response_min is not None else ""
    parts = [reply, f"questions in {person.question_rate:.0%} of messages"]
    parts.append(f"double texts {person.double_texting:.0%}")
    text = ", ".join(part for part in parts if part)
    return f"{text[:1].upper()}{text[1:]}"


def _love_points(person: Person, language: str) -> int:
    counted = (*person.top_words, *person.top_emoji)
    return sum(count for _, count in matches(counted, LOVE_SIGNS[language]))


def _love_from_habits(person: Person) -> tuple[str, str]:
    """Without a telling word: media → gifts, questions → words, quick replies → time together."""
    if person.media and person.messages and person.media / person.messages >= 0.05:
        return "receiving_gifts", "quality_time"
    if person.question_rate >= 0.1:
        return "words_of_affirmation", "quality_time"
    if person.response_min is not None and person.response_min < 15:
        return "quality_time", "acts_of_service"
    return "acts_of_service", "quality_time"


def _share(reading: ChatReading, person: Person, figure: str) -> float:
    total = sum(getattr(p, figure) for p in reading.people)
    return float(getattr(person, figure)) / total if total else 0.0


def _depth(person: Person) -> float | None:
    return None if person.avg_words is None else min(1.0, person.avg_words / 6)


def _warm_share(person: Person) -> float | None:
    total = sum(count for _, count in person.top_emoji)
    if not total:
        return None
    return min(1.0, 3 * sum(c for _, c in matches(person.top_emoji, WARM_EMOJI)) / total)


def _long(person: Person) -> float | None:
    return None if person.longest_words is None else min(1.0, person.longest_words / 80)
