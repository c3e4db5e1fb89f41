"""Free statistics: hand-counted values on small chats, and properties on random ones."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from relivchats.adapters.whatsapp import parse_chat_text
from relivchats.domain.statistics import chat_title, compute_statistics, is_group_chat
from relivchats.domain.uploads import ChatMessage, MessageKind, ParsedChat

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "chats"
START = datetime(2024, 1, 15, 9, 0)  # a Monday


def chat_of(*messages: tuple[Any, ...]) -> ParsedChat:
    """Messages as (seconds after START, sender, text[, kind])."""
    return ParsedChat.from_messages(
        [ChatMessage(START + timedelta(seconds=m[0]), *m[1:]) for m in messages]
    )


def hand_counted() -> dict[str, Any]:
    text = (FIXTURES / "hand_counted_android.txt").read_text(encoding="utf-8")
    return compute_statistics(parse_chat_text(text))


def test_totals_of_the_hand_counted_chat() -> None:
    assert hand_counted()["totals"] == {
        "messages": 9,  # the encryption notice is not a message
        "words": 18,
        "deleted_messages": 1,
        "media_messages": 1,
        "links": 1,
        "questions": 2,  # "...beach today?" and "Coffee?"
        "conversation_initiations": 4,  # the first message and three after 6 h or more
        "days_spanned": 3,
        "messages_per_day": 3.0,
    }


def test_dates_hours_and_weekdays_of_the_hand_counted_chat() -> None:
    stats = hand_counted()
    assert stats["date_range"] == {"start": "2024-01-15", "end": "2024-01-17"}
    assert stats["messages_by_date"] == {"2024-01-15": 6, "2024-01-16": 2, "2024-01-17": 1}
    assert stats["busiest_hour"] == 9
    assert {h: n for h, n in enumerate(stats["hourly_distribution"]) if n} == {
        8: 2,
        9: 5,
        10: 1,
        21: 1,
    }
    assert stats["busiest_weekday"] == "Monday"
    assert list(stats["weekday_distribution"].values()) == [6, 2, 1, 0, 0, 0, 0]
    assert stats["links"] == [
        {
            "url": "https://maps.example.com/beach",
            "user": "Asha",
            "timestamp": "2024-01-15T09:30:00",
        }
    ]


def test_top_words_and_emoji_of_the_hand_counted_chat() -> None:
    stats = hand_counted()
    # "you", "the", "that", "was", "yes"... are stopwords; "a", "at", "it", "to" are too short.
    assert stats["top_words"][:4] == [
        {"word": "beach", "count": 3},
        {"word": "great", "count": 2},
        {"word": "good", "count": 1},  # ties go to the word used first
        {"word": "morning", "count": 1},
    ]
    assert len(stats["top_words"]) == 15
    # 👍🏽 folds into 👍, which ties with 😂 and was used first.
    assert stats["top_emoji"] == [
        {"emoji": "👍", "count": 2},
        {"emoji": "😂", "count": 2},
        {"emoji": "☕", "count": 1},
    ]


def test_participants_of_the_hand_counted_chat() -> None:
    asha, ben = hand_counted()["participants"].values()
    assert {k: asha[k] for k in list(asha)[:11]} == {
        "messages": 4,
        "words": 9,  # good morning ben coming beach today | bring football | see
        "deleted_messages": 1,
        "media_messages": 0,
        "links": 1,
        "questions": 1,
        "conversation_initiations": 2,
        "avg_words_per_message": 2.25,
        "avg_chars_per_text_message": 39.0,  # (52 + 21 + 44) / 3
        "double_texting_rate": 0.33,  # runs [1, 2], [5], [7]
        "avg_response_minutes": 19.0,  # only 09:11 -> 09:30 is a reply under 4 h
    }
    assert ben["avg_chars_per_text_message"] == 29.33  # (26 + 53 + 9) / 3
    assert ben["double_texting_rate"] == 0.67  # runs [3, 4], [6], [8, 9]
    assert ben["avg_response_minutes"] == 6.5  # (8 + 5) / 2
    assert [entry["emoji"] for entry in ben["top_emoji"]] == ["😂", "👍", "☕"]
    assert ben["longest_message"] == {
        "words": 13,
        "chars": 53,
        "timestamp": "2024-01-15T21:00:00",
        "text": "That was a great day at the beach\nit was really fun 👍",
    }


def test_title_names_two_people_and_counts_a_group() -> None:
    assert chat_title(("Asha", "Ben")) == "Asha & Ben"
    assert chat_title(("Asha",)) == "Asha"
    assert chat_title(("Asha", "Ben", "Chen")) == "Group chat (3)"
    assert not is_group_chat(("Asha", "Ben"))
    assert is_group_chat(("Asha", "Ben", "Chen"))


def test_skin_tones_fold_into_the_base_emoji() -> None:
    stats = compute_statistics(chat_of((0, "A", "👍🏽👍🏿👍 🤦🏻‍♂️🤦‍♂️ ❤️ ©")))
    assert stats["top_emoji"] == [
        {"emoji": "👍", "count": 3},
        {"emoji": "🤦‍♂️", "count": 2},
        {"emoji": "❤️", "count": 1},  # the copyright sign without the emoji selector is text
    ]


def test_words_in_any_script_count_whole_and_function_words_do_not() -> None:
    stats = compute_statistics(chat_of((0, "A", "नमस्ते दोस्त है kya hai yaar ÉCOLE école 123 ab")))
    assert stats["top_words"] == [
        {"word": "école", "count": 2},
        {"word": "नमस्ते", "count": 1},
        {"word": "दोस्त", "count": 1},
    ]


def test_urls_notices_and_noise_words_give_no_words() -> None:
    chat = chat_of(
        (0, "A", "https://example.com/sunset?x=1 sunset video call sticker"),
        (60, "A", "<Media omitted>", MessageKind.MEDIA),
        (120, "B", "This message was deleted", MessageKind.DELETED),
        (180, "B", "Missed voice call", MessageKind.CALL),
    )
    stats = compute_statistics(chat)
    assert stats["top_words"] == [{"word": "sunset", "count": 1}]
    assert stats["totals"]["questions"] == 0  # the "?" is part of the URL
    assert stats["participants"]["B"]["longest_message"] is None


def test_links_list_the_first_thousand_and_count_all() -> None:
    chat = chat_of(*[(i, "A", f"see https://example.com/{i}.") for i in range(1001)])
    stats = compute_statistics(chat)
    assert stats["totals"]["links"] == 1001
    assert len(stats["links"]) == 1000
    assert stats["links"][-1]["url"] == "https://example.com/999"  # trailing "." is not the URL


def test_responses_count_only_replies_strictly_between_zero_and_four_hours() -> None:
    chat = chat_of(
        (0, "A", "one"),
        (0, "B", "same second: no"),
        (600, "A", "ten minutes: yes"),
        (600 + 4 * 3600, "B", "four hours: no"),
        (600 + 4 * 3600 + 1200, "B", "own follow-up: no"),
    )
    people = compute_statistics(chat)["participants"]
    assert people["A"]["avg_response_minutes"] == 10.0
    assert people["B"]["avg_response_minutes"] is None


def test_a_silence_of_six_hours_starts_a_conversation() -> None:
    six_hours = 6 * 3600
    chat = chat_of((0, "A", "a"), (six_hours - 1, "B", "b"), (2 * six_hours - 1, "B", "c"))
    stats = compute_statistics(chat)
    assert stats["participants"]["A"]["conversation_initiations"] == 1
    assert stats["participants"]["B"]["conversation_initiations"] == 1


def test_longest_message_text_is_cut_at_500_characters() -> None:
    longest = compute_statistics(chat_of((0, "A", " ".join(["word"] * 300))))["participants"]["A"]
    assert longest["longest_message"]["chars"] == 1499
    assert longest["longest_message"]["words"] == 300
    assert len(longest["longest_message"]["text"]) == 500


# Properties on random chats.
_KINDS = st.sampled_from(list(MessageKind))
_TEXTS = st.lists(
    st.sampled_from(["hello", "world?", "दोस्त", "😂", "👍🏽", "https://x.io/a?b", "the", "call"]),
    max_size=6,
).map(" ".join)


@st.composite
def _random_chats(draw: st.DrawFn) -> ParsedChat:
    senders = draw(st.lists(st.text("abcdefgh", min_size=1, max_size=3), min_size=1, max_size=5))
    gaps = draw(st.lists(st.integers(0, 30 * 3600), min_size=1, max_size=40))
    moments = [START + timedelta(seconds=sum(gaps[: i + 1])) for i in range(len(gaps))]
    return ParsedChat.from_messages(
        [
            ChatMessage(moment, draw(st.sampled_from(senders)), draw(_TEXTS), draw(_KINDS))
            for moment in moments
        ]
    )


@settings(max_examples=150, deadline=None)
@given(chat=_random_chats())
def test_totals_equal_the_sums_over_participants(chat: ParsedChat) -> None:
    stats = compute_statistics(chat)
    people = stats["participants"].values()
    for key in ("messages", "words", "deleted_messages", "media_messages", "links", "questions"):
        assert stats["totals"][key] == sum(person[key] for person in people)
    initiations = stats["totals"]["conversation_initiations"]
    assert initiations == sum(person["conversation_initiations"] for person in people) >= 1


@settings(max_examples=150, deadline=None)
@given(chat=_random_chats())
def test_distributions_sum_to_the_message_total(chat: ParsedChat) -> None:
    stats = compute_statistics(chat)
    total = stats["totals"]["messages"]
    assert total == len(chat)
    assert sum(stats["hourly_distribution"]) == total
    assert sum(stats["weekday_distribution"].values()) == total
    assert sum(stats["messages_by_date"].values()) == total
    for person in stats["participants"].values():
        assert sum(person["hourly_distribution"]) == person["messages"]
        assert 0 <= person["double_texting_rate"] <= 1
        assert person["avg_response_minutes"] is None or 0 < person["avg_response_minutes"] < 240


@settings(max_examples=100, deadline=None)
@given(chat=_random_chats())
def test_statistics_are_json_and_rankings_are_ordered(chat: ParsedChat) -> None:
    stats = compute_statistics(chat)
    assert json.loads(json.dumps(stats)) == stats
    counts = [entry["count"] for entry in stats["top_words"]]
    assert counts == sorted(counts, reverse=True)
    assert sum(counts) <= stats["totals"]["words"]
    assert list(stats["participants"]) == list(chat.participants)
