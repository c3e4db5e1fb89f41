"""The offline writer's recommendations: plain advice for the type's weakest signals.

The signals that pulled the type's score down most (lowest value, heaviest weight first) each get
one piece of advice, aimed at the person whose figures set that signal (the slowest replier, the
quietest writer...) or at everyone; then a general check-in. A chat whose signals are all strong
gets only the general advice.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from relivchats.adapters.llm.offline_figures import Person
from relivchats.adapters.llm.offline_reading import ChatReading
from relivchats.adapters.llm.offline_signals import Signal

WEAK = 0.6  # a signal below this gets advice
MOST_ADVICE = 2

# Signal -> (title, suggestion, example phrase, who it is for).
Pick = Callable[[ChatReading], list[str]]


def _quietest(reading: ChatReading) -> list[str]:
    return [reading.quietest]


def _slowest(reading: ChatReading) -> list[str]:
    timed = [p for p in reading.people if p.response_min is not None]
    return [max(timed, key=_reply_time).name] if timed else list(reading.names)


def _least_curious(reading: ChatReading) -> list[str]:
    return [min(reading.people, key=lambda p: (p.question_rate, p.name)).name]


def _fewest_starts(reading: ChatReading) -> list[str]:
    return [min(reading.people, key=lambda p: (p.initiations, p.name)).name]


def _everyone(reading: ChatReading) -> list[str]:
    return list(reading.names)


ADVICE: dict[str, tuple[str, str, str, Pick]] = {
    "sharing": (
        "Share the conversation",
        "One person carries most of the chat; the quieter one could add a little more of "
        "their day, and the busier one leave room for it.",
        "Your turn: what was the best part of your day?",
        _quietest,
    ),
    "starting": (
        "Start a conversation sometimes",
        "Most conversations are started by the same person; reaching out first now and then "
        "shows the other they are on your mind.",
        "Thought of you just now. How's it going?",
        _fewest_starts,
    ),
    "responsiveness": (
        "Close the loop sooner",
        "Replies often take a while. When a full answer has to wait, a quick acknowledgement "
        "keeps the other person from wondering.",
        "Saw this, will answer properly tonight!",
        _slowest,
    ),
    "curiosity": (
        "Ask one more question",
        "Few messages ask anything. A follow-up question on what the other person shared "
        "shows you listened.",
        "How did that go in the end?",
        _least_curious,
    ),
    "calm_texting": (
        "Let a message land",
        "Bursts of several messages in a row are common; waiting for a reply before adding "
        "more gives the other person room to answer.",
        "No rush, reply when you can.",
        _everyone,
    ),
    "warmth": (
        "Say the warm thing out loud",
        "Affection rarely shows up in words or emoji; small signs of it go a long way.",
        "Glad you're in my life.",
        _everyone,
    ),
    "late_night": (
        "Keep a little time for each other",
        "Few conversations happen in the quiet hours; a regular unhurried chat can help.",
        "Call tonight after dinner?",
        _everyone,
    ),
    "office_hours": (
        "Protect the evenings",
        "Much of the talk happens outside working hours; agreeing what can wait until morning "
        "helps everyone rest.",
        "Not urgent, let's pick this up tomorrow.",
        _everyone,
    ),
    "workdays": (
        "Keep weekends free",
        "A good share of messages arrives on weekends; agree which topics can wait for Monday.",
        "This can wait until Monday.",
        _everyone,
    ),
}


def recommendations(reading: ChatReading, most_targets: int) -> list[dict[str, Any]]:
    weakest = sorted(
        reading.rated.signals, key=lambda pair: (pair[0].value, -pair[1], pair[0].name)
    )
    advice: list[dict[str, Any]] = []
    for signal, _ in weakest:
        if signal.value >= WEAK or signal.name not in ADVICE or len(advice) == MOST_ADVICE:
            continue
        title, suggestion, phrase, pick = ADVICE[signal.name]
        advice.append(
            {
                "title": title,
                "target": pick(reading)[:most_targets],
                "suggestion": f"{suggestion} ({signal.says}.)",
                "example_phrases": [phrase],
            }
        )
    return [*advice, _check_in(list(reading.names[:most_targets]))]


def _weakest_first(pair: tuple[Signal, float]) -> tuple[float, float, str]:
    signal, weight = pair
    return (signal.value, -weight, signal.name)


def _check_in(everyone: list[str]) -> dict[str, Any]:
    return {
        "title": "Check in on purpose",
        "target": everyone,
        "suggestion": "Set aside a moment to ask how the other person is really doing, "
        "and follow up on what they said last time.",
        "example_phrases": ["How did that thing you were worried about go?"],
    }


def _reply_time(person: Person) -> tuple[float, str]:
    return (person.response_min or 0.0, person.name)
