"""Free statistics of a parsed chat (product.md section 4), computed on columns with numpy.

`compute_statistics(chat)` returns a JSON-serialisable dict with these keys (stable; numbers are
rounded to 2 decimals; times are the export's naive local times in ISO 8601):

    totals: {messages, words, days_spanned, messages_per_day, deleted_messages, media_messages,
             links, questions, conversation_initiations}
    date_range: {start, end}                   dates (YYYY-MM-DD) of the first and last message
    messages_by_date: {YYYY-MM-DD: count}      days that have messages, ascending
    links: [{url, user, timestamp}]            the first 1000 in time order (totals.links: all)
    busiest_hour: 0-23, hourly_distribution: [24 counts, hour 0 first]
    busiest_weekday: "Monday".."Sunday", weekday_distribution: {"Monday": count, ...}
    top_words: [{word, count}] (50), top_emoji: [{emoji, count}] (40)
    participants: {name: {messages, words, avg_words_per_message, avg_chars_per_text_message,
        deleted_messages, media_messages, links, questions, conversation_initiations,
        double_texting_rate, avg_response_minutes, top_words (20), top_emoji (10),
        busiest_hour, hourly_distribution, longest_message}}   in order of first appearance

Definitions. A text message is one that is not a media placeholder, deletion or call notice; only
text messages give words, emoji, links and questions. Words are lower-cased runs of letters (any
script, with their combining marks) of 3+ letters, outside URLs, less stopwords and WhatsApp's
noise words; `words` counts them all, `avg_words_per_message` divides by all messages. A question
is a text message with "?" outside its URLs. A conversation initiation is the first message and
any message after a silence of 6 h or more. `double_texting_rate` is the share of a participant's
runs of consecutive messages that hold 2 or more. A response is a message following someone
else's after more than 0 and less than 4 h; `avg_response_minutes` is null without any. Emoji
have skin tones folded into the base emoji; a symbol that is text by default (©, ☺) counts only
when written with the emoji variation selector. `longest_message` is the participant's longest
text message by characters, as {words (whitespace-separated), chars, timestamp, text (first 500
characters)}, or null without text messages. Ties in rankings go to the earliest hour or day, and
to the word or emoji used first.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from itertools import pairwise
from typing import Any

import emoji
import numpy as np
import numpy.typing as npt
import pandas as pd
import regex

from relivchats.domain.stopwords import IGNORED_WORDS
from relivchats.domain.uploads import MessageKind, ParsedChat

TOP_WORDS, TOP_EMOJI, PARTICIPANT_TOP_WORDS, PARTICIPANT_TOP_EMOJI = 50, 40, 20, 10
MAX_LINKS_LISTED = 1000
LONGEST_MESSAGE_CHARS = 500
SILENCE_BEFORE_INITIATION_S = 6 * 3600
MAX_RESPONSE_S = 4 * 3600
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")

_SEPARATOR = "\x00"  # joins message texts; in no token, so it marks where each message ends
_URL = r"(?:https?://|www\.)[^\s\x00]*[^\s\x00.,;:!?)\]}'\"]"
_URLS = re.compile(_URL, re.IGNORECASE)
_LINKS = re.compile(f"\x00|{_URL}", re.IGNORECASE)
_WORDS_AND_QUESTIONS = regex.compile(r"\x00|\?|[\p{L}\p{M}]+")
_LETTER = r"[^\W\d_]"  # a letter, not counting combining marks
_SKIN_TONES = re.compile("[\U0001f3fb-\U0001f3ff]")
_EMOJI = regex.compile(
    r"\x00|\p{RI}\p{RI}|[0-9#*]\ufe0f?\u20e3|\U0001f3f4[\U000e0020-\U000e007e]+\U000e007f"
    r"|\p{Extended_Pictographic}\ufe0f?(?:\u200d\p{Extended_Pictographic}\ufe0f?)*"
)

Ints = npt.NDArray[np.int64]
Floats = npt.NDArray[np.float64]
Strings = npt.NDArray[np.object_]


def chat_title(participants: Sequence[str]) -> str:
    """ "A & B" for two people (or the one name), "Group chat (N)" for more."""
    if len(participants) > 2:
        return f"Group chat ({len(participants)})"
    return " & ".join(participants)


def is_group_chat(participants: Sequence[str]) -> bool:
    return len(participants) > 2


def compute_statistics(chat: ParsedChat) -> dict[str, Any]:
    """Every free statistic of `chat`; the keys are listed in the module docstring."""
    columns = _Columns(chat)
    words, question_rows = _words_and_questions(columns.joined_texts)
    emoji_tokens = _emoji(columns.joined_texts)
    links = _tokens(_LINKS, columns.joined_texts)
    people = _PerParticipant(columns, words, links, question_rows)
    hourly = np.bincount(columns.hours, minlength=24)
    weekdays = np.bincount((columns.days + 3) % 7, minlength=7)  # 1970-01-01 was a Thursday
    return {
        "totals": {key: int(value.sum()) for key, value in people.counts.items()} | columns.span(),
        "date_range": columns.date_range(),
        "messages_by_date": columns.messages_by_date(),
        "links": _listed_links(columns, links),
        "busiest_hour": int(np.argmax(hourly)),
        "hourly_distribution": hourly.tolist(),
        "busiest_weekday": WEEKDAYS[int(np.argmax(weekdays))],
        "weekday_distribution": dict(zip(WEEKDAYS, weekdays.tolist(), strict=True)),
        "top_words": _ranking(words, "word", TOP_WORDS),
        "top_emoji": _ranking(emoji_tokens, "emoji", TOP_EMOJI),
        "participants": people.summaries(emoji_tokens),
    }


class _Columns:
    """The chat's columns plus what every statistic derives from them."""

    def __init__(self, chat: ParsedChat):
        self.chat = chat
        self.people = len(chat.participants)
        self.senders = chat.sender_codes.astype(np.int64)
        self.seconds = chat.timestamps.astype("datetime64[s]").astype(np.int64)
        self.days = self.seconds // 86400
        self.hours = (self.seconds // 3600) % 24
        self.is_text = chat.kinds == MessageKind.TEXT
        self.lengths = np.fromiter(map(len, chat.texts), dtype=np.int64, count=len(chat))
        texts = np.array(chat.texts, dtype=object)
        texts[~self.is_text] = ""
        self.joined_texts = _SEPARATOR.join(texts.tolist())

    def per_person(self, rows: Ints | None = None, weights: Any = None) -> Floats:
        senders = self.senders if rows is None else self.senders[rows]
        return np.bincount(senders, weights=weights, minlength=self.people).astype(np.float64)

    def span(self) -> dict[str, Any]:
        days = int(self.days[-1] - self.days[0]) + 1
        return {"days_spanned": days, "messages_per_day": round(len(self.chat) / days, 2)}

    def date_range(self) -> dict[str, str]:
        start, end = _iso_dates(self.days[[0, -1]])
        return {"start": start, "end": end}

    def messages_by_date(self) -> dict[str, int]:
        days, counts = np.unique(self.days, return_counts=True)
        return dict(zip(_iso_dates(days), counts.tolist(), strict=True))

    def timestamp(self, row: int) -> str:
        return str(self.chat.timestamps[row].astype("datetime64[s]"))


class _PerParticipant:
    """One value per participant (in participant order) for each per-participant statistic."""

    def __init__(self, columns: _Columns, words: _Tokens, links: _Tokens, question_rows: Ints):
        self.columns, self.words = columns, words
        kinds, gaps = columns.chat.kinds, np.diff(columns.seconds)
        initiations = np.concatenate(([True], gaps >= SILENCE_BEFORE_INITIATION_S))
        self.counts = {
            "messages": columns.per_person(),
            "words": columns.per_person(words.rows),
            "deleted_messages": columns.per_person(weights=kinds == MessageKind.DELETED),
            "media_messages": columns.per_person(weights=kinds == MessageKind.MEDIA),
            "links": columns.per_person(links.rows),
            "questions": columns.per_person(question_rows),
            "conversation_initiations": columns.per_person(weights=initiations),
        }

    def summaries(self, emoji_tokens: _Tokens) -> dict[str, dict[str, Any]]:
        columns = self.columns
        averages = {
            "avg_words_per_message": _ratio(self.counts["words"], self.counts["messages"]),
            "avg_chars_per_text_message": self._chars_per_text_message(),
            "double_texting_rate": self._double_texting_rates(),
            "avg_response_minutes": self._response_minutes(),
        }
        hourly = np.bincount(columns.senders * 24 + columns.hours, minlength=columns.people * 24)
        hourly = hourly.reshape(columns.people, 24)
        longest = self._longest_text_rows()
        words_of, emoji_of = self._by_participant(self.words), self._by_participant(emoji_tokens)
        summaries = {}
        for code, name in enumerate(columns.chat.participants):
            summaries[name] = (
                {key: int(values[code]) for key, values in self.counts.items()}
                | {key: _average(values[code]) for key, values in averages.items()}
                | {
                    "top_words": _ranking(words_of[code], "word", PARTICIPANT_TOP_WORDS),
                    "top_emoji": _ranking(emoji_of[code], "emoji", PARTICIPANT_TOP_EMOJI),
                    "busiest_hour": int(np.argmax(hourly[code])),
                    "hourly_distribution": hourly[code].tolist(),
                    "longest_message": self._longest_message(longest.get(code)),
                }
            )
        return summaries

    def _by_participant(self, tokens: _Tokens) -> list[_Tokens]:
        """The tokens of each participant: one sort, then slices (cheap for large groups too)."""
        owners = self.columns.senders[tokens.rows]
        order = np.argsort(owners, kind="stable")
        bounds = np.searchsorted(owners[order], np.arange(self.columns.people + 1)).tolist()
        return [tokens.subset(order[start:end]) for start, end in pairwise(bounds)]

    def _chars_per_text_message(self) -> Floats:
        is_text = self.columns.is_text
        characters = self.columns.per_person(weights=self.columns.lengths * is_text)
        return np.nan_to_num(_ratio(characters, self.columns.per_person(weights=is_text)))

    def _double_texting_rates(self) -> Floats:
        senders = self.columns.senders
        run_starts = np.concatenate(([True], senders[1:] != senders[:-1]))
        run_lengths = np.bincount(np.cumsum(run_starts) - 1)
        runs = self.columns.per_person(np.flatnonzero(run_starts))
        double = self.columns.per_person(np.flatnonzero(run_starts)[run_lengths >= 2])
        return _ratio(double, runs)

    def _response_minutes(self) -> Floats:
        senders, gaps = self.columns.senders, np.diff(self.columns.seconds)
        responding = (senders[1:] != senders[:-1]) & (gaps > 0) & (gaps < MAX_RESPONSE_S)
        rows = np.flatnonzero(responding) + 1
        waited = self.columns.per_person(rows, weights=gaps[responding])
        return _ratio(waited, self.columns.per_person(rows)) / 60

    def _longest_text_rows(self) -> dict[int, int]:
        """Per participant code, the row of their longest text message (the earliest on ties)."""
        rows = np.flatnonzero(self.columns.is_text)
        senders = self.columns.senders[rows]
        rows = rows[np.lexsort((rows, -self.columns.lengths[rows], senders))]
        owners, first = np.unique(self.columns.senders[rows], return_index=True)
        return dict(zip(owners.tolist(), rows[first].tolist(), strict=True))

    def _longest_message(self, row: int | None) -> dict[str, Any] | None:
        if row is None:
            return None
        text = self.columns.chat.texts[row]
        return {
            "words": len(text.split()),
            "chars": len(text),
            "timestamp": self.columns.timestamp(row),
            "text": text[:LONGEST_MESSAGE_CHARS],
        }


@dataclass(frozen=True)
class _Tokens:
    """Tokens found in the joined texts: the message row of each and its code in `vocabulary`."""

    rows: Ints
    codes: Ints
    vocabulary: Strings

    def subset(self, selection: npt.NDArray[np.bool_] | npt.NDArray[np.intp]) -> _Tokens:
        return _Tokens(self.rows[selection], self.codes[selection], self.vocabulary)


def _tokens(pattern: Any, joined_texts: str) -> _Tokens:
    codes, vocabulary = pd.factorize(np.array(pattern.findall(joined_texts), dtype=object))
    is_separator = codes == _code_of(vocabulary, _SEPARATOR)
    rows = np.cumsum(is_separator)[~is_separator]
    return _Tokens(
        rows, codes[~is_separator].astype(np.int64), np.asarray(vocabulary, dtype=object)
    )


def _code_of(vocabulary: Any, token: str) -> int:
    """Looked up by hashing: numpy's own string comparison would drop the trailing NUL."""
    return int(pd.Index(vocabulary, dtype=object).get_indexer([token])[0])


def _words_and_questions(joined_texts: str) -> tuple[_Tokens, Ints]:
    tokens = _tokens(_WORDS_AND_QUESTIONS, _URLS.sub(" ", joined_texts).lower())
    is_question = tokens.codes == _code_of(tokens.vocabulary, "?")
    vocabulary = pd.Series(tokens.vocabulary, dtype=object)
    counted = (vocabulary.str.count(_LETTER) >= 3) & ~vocabulary.isin(IGNORED_WORDS)
    words = tokens.subset(counted.to_numpy(dtype=bool)[tokens.codes])
    return words, np.unique(tokens.rows[is_question])


def _emoji(joined_texts: str) -> _Tokens:
    tokens = _tokens(_EMOJI, _SKIN_TONES.sub("", joined_texts))
    keys = np.array([_emoji_key(candidate) for candidate in tokens.vocabulary], dtype=object)
    kept = tokens.subset(np.asarray(pd.notna(keys), dtype=bool)[tokens.codes])
    codes, vocabulary = pd.factorize(keys[kept.codes])
    return _Tokens(kept.rows, codes.astype(np.int64), np.asarray(vocabulary, dtype=object))


def _emoji_key(candidate: str) -> str | None:
    """The fully-qualified form of an emoji candidate; None for text symbols and non-emoji."""
    data = emoji.EMOJI_DATA.get(candidate)
    if data is None or (len(candidate) == 1 and data["status"] == emoji.STATUS["unqualified"]):
        return None
    return _fully_qualified_by_name().get(data["en"], candidate)


@cache
def _fully_qualified_by_name() -> dict[str, str]:
    fully_qualified = emoji.STATUS["fully_qualified"]
    return {d["en"]: e for e, d in emoji.EMOJI_DATA.items() if d["status"] == fully_qualified}


def _ranking(tokens: _Tokens, label: str, limit: int) -> list[dict[str, Any]]:
    """The `limit` most used tokens; codes follow first use, so ties go to the one used first."""
    counts = np.bincount(tokens.codes, minlength=len(tokens.vocabulary))
    used = np.flatnonzero(counts)
    top = used[np.lexsort((used, -counts[used]))[:limit]].tolist()
    return [{label: tokens.vocabulary[code], "count": int(counts[code])} for code in top]


def _listed_links(columns: _Columns, links: _Tokens) -> list[dict[str, Any]]:
    rows = links.rows[:MAX_LINKS_LISTED].tolist()
    urls = links.vocabulary[links.codes[:MAX_LINKS_LISTED]].tolist()
    names = columns.chat.participants
    return [
        {"url": url, "user": names[columns.senders[row]], "timestamp": columns.timestamp(row)}
        for url, row in zip(urls, rows, strict=True)
    ]


def _iso_dates(days: Ints) -> list[str]:
    iso: list[str] = np.datetime_as_string(days.astype("datetime64[D]")).tolist()
    return iso


def _ratio(numerators: Floats, denominators: Floats) -> Floats:
    """Element-wise division, NaN where the denominator is 0 (no messages, no responses)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        ratios: Floats = numerators / denominators
    return ratios


def _average(value: Any) -> float | None:
    return None if np.isnan(value) else round(float(value), 2)
