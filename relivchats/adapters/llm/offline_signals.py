"""Signals: one statistic of the catalogue turned into a value and a phrase.

A signal reads one statistic an insight type may name ("participants.avg_response_time",
"top_emoji", "hourly_distribution"...) and gives a value from 0 (worrying) to 1 (reassuring) with
a phrase saying what was measured ("replies take about 9 minutes on average"). A statistic missing
from the material gives no signal rather than a made-up one. `SIGNALS` names the statistic each
signal reads, so offline_scores.py can check that a type's score only uses what the type names.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from relivchats.adapters.llm.offline_figures import (
    AFFECTION_WORDS,
    FUTURE_WORDS,
    LATE_HOURS,
    LAUGH_EMOJI,
    OFFICE_HOURS,
    RESPONSIVE_MINUTES,
    WARM_EMOJI,
    Person,
    Statistics,
    day_of,
    hour_share,
    matches,
    month_spread,
    month_trend,
    ranked,
    weekend_share,
)


@dataclass(frozen=True)
class Signal:
    name: str
    value: float  # 0 worrying .. 1 reassuring
    says: str


# --- signals from per-person statistics ---------------------------------------------------------


def sharing(people: Sequence[Person]) -> Signal | None:
    return _evenness("sharing", [p.messages for p in people], "messages", people)


def word_balance(people: Sequence[Person]) -> Signal | None:
    return _evenness("word_balance", [p.words for p in people], "words", people)


def starting(people: Sequence[Person]) -> Signal | None:
    return _evenness("starting", [p.initiations for p in people], "conversation starts", people)


def responsiveness(people: Sequence[Person]) -> Signal | None:
    minutes = [p.response_min for p in people if p.response_min is not None]
    if not minutes:
        return None
    average = sum(minutes) / len(minutes)
    value = 1 / (1 + average / RESPONSIVE_MINUTES)
    return Signal("responsiveness", value, f"replies take about {average:.0f} minutes on average")


def response_parity(people: Sequence[Person]) -> Signal | None:
    minutes = sorted(p.response_min for p in people if p.response_min is not None)
    if len(minutes) < 2:
        return None
    value = (minutes[0] + 1) / (minutes[-1] + 1)
    return Signal(
        "response_parity",
        value,
        f"reply times range from {minutes[0]:.0f} to {minutes[-1]:.0f} min",
    )


def curiosity(people: Sequence[Person]) -> Signal | None:
    messages = sum(p.messages for p in people)
    if not messages:
        return None
    rate = sum(p.questions for p in people) / messages
    return Signal("curiosity", min(1.0, 5 * rate), f"{rate:.0%} of messages ask a question")


def calm_texting(people: Sequence[Person]) -> Signal | None:
    if not any(p.messages for p in people):
        return None
    rate = sum(p.double_texting for p in people) / len(people)
    return Signal("calm_texting", 1 - rate, f"{rate:.0%} of turns are double texts")


def depth(people: Sequence[Person]) -> Signal | None:
    averages = [p.avg_words for p in people if p.avg_words is not None]
    if not averages:
        return None
    mean = sum(averages) / len(averages)
    return Signal("depth", min(1.0, mean / 6), f"about {mean:.1f} meaningful words a message")


def openness(people: Sequence[Person]) -> Signal | None:
    longest = [p.longest_words for p in people if p.longest_words is not None]
    if not longest:
        return None
    return Signal(
        "openness", min(1.0, max(longest) / 80), f"a longest message of {max(longest)} words"
    )


def calm_deletions(people: Sequence[Person]) -> Signal | None:
    deleted = [p.deleted for p in people if p.deleted is not None]
    messages = sum(p.messages for p in people)
    if not deleted or not messages:
        return None
    rate = sum(deleted) / messages
    return Signal("calm_deletions", max(0.0, 1 - 20 * rate), f"{sum(deleted)} deleted messages")


def media_sharing(people: Sequence[Person]) -> Signal | None:
    media = [p.media for p in people if p.media is not None]
    messages = sum(p.messages for p in people)
    if not media or not messages:
        return None
    rate = sum(media) / messages
    return Signal("media_sharing", min(1.0, 10 * rate), f"{rate:.0%} of messages share media")


def affection_words(people: Sequence[Person]) -> Signal | None:
    used = [word for person in people for word in person.top_words]
    return _share_signal("affection_words", used, AFFECTION_WORDS, "of their top words are warm")


def shared_warmth(people: Sequence[Person]) -> Signal | None:
    users = [p for p in people if p.top_emoji]
    if not users:
        return None
    warm = [p for p in users if any(e in WARM_EMOJI | LAUGH_EMOJI for e, _ in p.top_emoji)]
    says = f"{len(warm)} of {len(users)} people use warm or laughing emoji"
    return Signal("shared_warmth", len(warm) / len(users), says)


# --- signals from whole-chat statistics ---------------------------------------------------------


def warmth(stats: Statistics) -> Signal | None:
    emoji = ranked(stats.get("top_emoji") or [], "emoji")
    return _share_signal("warmth", emoji, WARM_EMOJI, "of the emoji used are affectionate")


def laughter(stats: Statistics) -> Signal | None:
    emoji = ranked(stats.get("top_emoji") or [], "emoji")
    return _share_signal("laughter", emoji, LAUGH_EMOJI, "of the emoji used are laughing")


def future_talk(stats: Statistics) -> Signal | None:
    words = ranked(stats.get("top_words") or [], "word")
    return _share_signal("future_talk", words, FUTURE_WORDS, "of the top words are about plans")


def chat_affection(stats: Statistics) -> Signal | None:
    words = ranked(stats.get("top_words") or [], "word")
    return _share_signal("chat_affection", words, AFFECTION_WORDS, "of the top words are warm")


def activity(stats: Statistics) -> Signal | None:
    per_day = (stats.get("totals") or {}).get("messages_per_day")
    if per_day is None:
        return None
    return Signal("activity", per_day / (per_day + 10), f"{per_day:.1f} messages a day")


def duration(stats: Statistics) -> Signal | None:
    dates = stats.get("date_range") or {}
    if not dates.get("start") or not dates.get("end"):
        return None
    days = (day_of(dates["end"]) - day_of(dates["start"])).days + 1
    return Signal("duration", min(1.0, days / 365), f"{days} days of history")


def regularity(stats: Statistics) -> Signal | None:
    months = stats.get("messages_by_month") or {}
    if not months:
        return None
    first, last = min(months), max(months)
    span = (int(last[:4]) - int(first[:4])) * 12 + int(last[5:7]) - int(first[5:7]) + 1
    return Signal("regularity", len(months) / span, f"messages in {len(months)} of {span} months")


def trend(stats: Statistics) -> Signal | None:
    ratio = month_trend(stats)
    if ratio is None:
        return None
    return Signal("trend", ratio / (1 + ratio), f"the latest months hold {ratio:.1f}x the earliest")


def steadiness(stats: Statistics) -> Signal | None:
    spread = month_spread(stats)
    if spread is None:
        return None
    return Signal("steadiness", 1 / (1 + spread), f"monthly counts vary by {spread:.0%}")


def late_night(stats: Statistics) -> Signal | None:
    share = hour_share(stats, LATE_HOURS)
    if share is None:
        return None
    return Signal("late_night", min(1.0, 4 * share), f"{share:.0%} of messages after 10 pm")


def office_hours(stats: Statistics) -> Signal | None:
    share = hour_share(stats, OFFICE_HOURS)
    if share is None:
        return None
    return Signal("office_hours", share, f"{share:.0%} of messages between 8 am and 7 pm")


def workdays(stats: Statistics) -> Signal | None:
    share = weekend_share(stats)
    if share is None:
        return None
    value = max(0.0, 1 - max(0.0, share - 0.1) * 3)
    return Signal("workdays", value, f"{share:.0%} of messages on weekends")


def links_shared(stats: Statistics, people: Sequence[Person]) -> Signal | None:
    links = stats.get("links")
    if links is None:
        return None
    sharers = {link.get("user") for link in links}
    value = 0.5 * min(1.0, len(links) / 10) + 0.5 * len(sharers) / max(1, len(people))
    return Signal("links_shared", value, f"{len(links)} links shared by {len(sharers)} people")


def _share_signal(
    name: str, counted: Sequence[tuple[str, int]], wanted: frozenset[str], what: str
) -> Signal | None:
    total = sum(count for _, count in counted)
    if not total:
        return None
    share = sum(count for _, count in matches(counted, wanted)) / total
    return Signal(name, min(1.0, 3 * share), f"{share:.0%} {what}")


def _evenness(
    name: str, counts: Sequence[int], what: str, people: Sequence[Person]
) -> Signal | None:
    """1 when everyone contributes the same, towards 0 as one person dominates."""
    if len(counts) < 2 or max(counts) == 0:
        return None
    top, low = max(counts), min(counts)
    quiet = people[counts.index(low)].name
    says = f"{quiet} has {low / top:.0%} as many {what} as the most active"
    return Signal(name, low / top, says)


SignalOf = Callable[[Statistics, Sequence[Person]], "Signal | None"]

# Signal name -> (the catalogue statistic it reads, how).
SIGNALS: dict[str, tuple[str, SignalOf]] = {
    "sharing": ("participants.messages", lambda _, people: sharing(people)),
    "word_balance": ("participants.words", lambda _, people: word_balance(people)),
    "starting": ("participants.initiations", lambda _, people: starting(people)),
    "responsiveness": (
        "participants.avg_response_time",
        lambda _, people: responsiveness(people),
    ),
    "response_parity": (
        "participants.avg_response_time",
        lambda _, people: response_parity(people),
    ),
    "curiosity": ("participants.questions", lambda _, people: curiosity(people)),
    "calm_texting": ("participants.double_texting_rate", lambda _, people: calm_texting(people)),
    "depth": ("participants.avg_words_per_message", lambda _, people: depth(people)),
    "openness": ("participants.longest_message", lambda _, people: openness(people)),
    "calm_deletions": ("participants.deleted", lambda _, people: calm_deletions(people)),
    "media_sharing": ("participants.media", lambda _, people: media_sharing(people)),
    "affection_words": ("participants.top_words", lambda _, people: affection_words(people)),
    "shared_warmth": ("participants.top_emoji", lambda _, people: shared_warmth(people)),
    "warmth": ("top_emoji", lambda stats, _: warmth(stats)),
    "laughter": ("top_emoji", lambda stats, _: laughter(stats)),
    "future_talk": ("top_words", lambda stats, _: future_talk(stats)),
    "chat_affection": ("top_words", lambda stats, _: chat_affection(stats)),
    "activity": ("totals", lambda stats, _: activity(stats)),
    "duration": ("date_range", lambda stats, _: duration(stats)),
    "regularity": ("messages_by_date", lambda stats, _: regularity(stats)),
    "trend": ("messages_by_date", lambda stats, _: trend(stats)),
    "steadiness": ("messages_by_date", lambda stats, _: steadiness(stats)),
    "late_night": ("hourly_distribution", lambda stats, _: late_night(stats)),
    "office_hours": ("hourly_distribution", lambda stats, _: office_hours(stats)),
    "workdays": ("weekday_distribution", lambda stats, _: workdays(stats)),
    "links_shared": ("links", links_shared),
}
