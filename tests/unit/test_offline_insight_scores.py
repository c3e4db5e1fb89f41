"""The offline insight writer reads each insight type from the statistics that type names: two
different chats and two different types get different scores, each explained by its figures, and
each person's fields come from that person's own figures."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from relivchats.adapters.llm import OfflineLlm, build_insight_prompt
from relivchats.adapters.llm.offline_scores import TYPE_SIGNALS
from relivchats.adapters.llm.offline_signals import SIGNALS
from relivchats.domain.catalogue import INSIGHT_TYPES, insight_type, validate_insight
from relivchats.domain.statistics import compute_statistics
from relivchats.domain.uploads import ChatMessage, ParsedChat
from relivchats.workers.material import insight_material
from tests.fakes.chat_exports import generate_chat

START = datetime(2024, 1, 1)
DAYS = 180


def close_chat() -> ParsedChat:
    """Late-night, quick, curious and playful, growing month by month."""
    messages = []
    for day in range(DAYS):
        for exchange in range(1 + day // 30):
            at = START + timedelta(days=day, hours=22, minutes=10 * exchange)
            messages += [
                ChatMessage(at, "Asha", "Did you eat? love you ❤️ 😂"),
                ChatMessage(
                    at + timedelta(minutes=3), "Rahul", "Yes! booked it, done 😂 together?"
                ),
                ChatMessage(at + timedelta(minutes=5), "Asha", "Proud of you ❤️"),
            ]
    return ParsedChat.from_messages(messages)


def distant_chat() -> ParsedChat:
    """Daytime, one-sided, slow, fading: Mira double-texts, Dev answers hours later."""
    messages = []
    for day in range(DAYS):
        for exchange in range(3 - day // 60):
            at = START + timedelta(days=day, hours=8 + 4 * exchange)
            messages += [
                ChatMessage(at + timedelta(seconds=n), "Mira", "Sending the report now")
                for n in range(4)
            ]
            messages.append(ChatMessage(at + timedelta(hours=3), "Dev", "noted"))
    return ParsedChat.from_messages(messages)


CHATS = {"close": compute_statistics(close_chat()), "distant": compute_statistics(distant_chat())}


def written(chat: str, slug: str) -> dict[str, Any]:
    insight = insight_type(slug)
    material = insight_material(insight, CHATS[chat], excerpts=[], user_name=None)
    prompt = build_insight_prompt(insight, material)
    data = OfflineLlm().generate_json(prompt, insight.output_schema, material=material).data
    assert validate_insight(slug, data) == []
    return data


def score(chat: str, slug: str) -> float:
    return float(written(chat, slug)["overall"]["score"])


def test_two_chats_get_different_scores_explained_by_their_reply_times():
    close, distant = (
        written("close", "communication_basics"),
        written("distant", "communication_basics"),
    )

    assert close["overall"]["score"] >= distant["overall"]["score"] + 3
    assert "replies take about 2 minutes on average" in close["overall"]["summary"]
    assert "replies take about 120 minutes on average" in distant["overall"]["summary"]
    assert close["overall"]["status"] != distant["overall"]["status"]


def test_two_types_of_one_chat_get_different_scores_from_different_statistics():
    communication = written("distant", "communication_basics")["overall"]
    boundaries = written("distant", "workplace_relationship_health")["overall"]

    assert boundaries["score"] != communication["score"]
    assert "of messages between 8 am and 7 pm" in boundaries["summary"]  # hours it names
    assert "8 am" not in communication["summary"]  # a statistic communication does not name


def test_the_playful_chat_wins_on_playfulness_and_the_daytime_chat_on_boundaries():
    assert score("close", "playfulness_romance") > score("distant", "playfulness_romance")
    assert score("distant", "workplace_relationship_health") > score(
        "close", "workplace_relationship_health"
    )


def test_vitality_follows_the_month_trend():
    assert written("close", "friendship_vitality")["energy_trend"] == "growing"
    assert written("distant", "friendship_vitality")["energy_trend"] == "fading"


def test_partners_get_their_own_love_languages_from_their_own_words():
    languages = {e["name"]: e for e in written("close", "love_language")["love_languages"]}

    assert languages["Asha"]["primary"] == "words_of_affirmation"
    assert languages["Rahul"]["primary"] == "acts_of_service"
    assert any("“booked”" in sign for sign in languages["Rahul"]["signs"])


def test_each_person_gets_a_style_from_their_own_reply_times():
    styles = {
        e["name"]: e for e in written("distant", "communication_basics")["communication_styles"]
    }

    assert styles["Dev"]["style"].startswith("Slow replier")
    assert styles["Mira"]["style"].endswith("often double-texts.")
    assert any("Replies can take" in watch for watch in styles["Dev"]["watch_outs"])


def test_scores_differ_across_types_for_one_chat():
    scores = {slug: score("close", slug) for slug in INSIGHT_TYPES}
    assert len(set(scores.values())) >= len(scores) // 2


@pytest.mark.parametrize("slug", list(INSIGHT_TYPES))
def test_every_signal_of_a_type_reads_a_statistic_the_type_names(slug):
    named = set(insight_type(slug).statistics)
    assert TYPE_SIGNALS[slug], f"{slug} has no signals"
    for signal, _ in TYPE_SIGNALS[slug]:
        assert SIGNALS[signal][0] in named, f"{slug} scores {signal} without naming its statistic"


def test_without_its_statistics_a_type_says_it_fell_back_to_the_general_balance():
    insight = insight_type("friendship_vitality")
    material = insight_material(insight, {"participants": CHATS["close"]["participants"]}, [], None)
    data = OfflineLlm().generate_json("p", insight.output_schema, material=material).data
    assert "figures this insight reads are missing" in data["overall"]["summary"]


def test_the_documented_weights_are_the_weights_used():
    doc = (Path(__file__).resolve().parents[2] / "docs" / "offline-writer.md").read_text()
    for slug, weights in TYPE_SIGNALS.items():
        cells = ", ".join(f"{name} ×{weight:g}" for name, weight in weights)
        assert f"| `{slug}` | {cells} |" in doc


def test_advice_targets_the_weakest_signal_and_the_person_behind_it():
    advice = written("distant", "communication_basics")["recommendations"]

    assert [a["title"] for a in advice] == [
        "Ask one more question",  # 0% of messages ask a question
        "Start a conversation sometimes",  # Dev starts none
        "Check in on purpose",
    ]
    assert "0% of messages ask a question" in advice[0]["suggestion"]
    assert advice[1]["target"] == ["Dev"]
    assert [a["title"] for a in written("close", "love_language")["recommendations"]] == [
        "Check in on purpose"
    ]


def statistics_of(messages: list[tuple[datetime, str, str]]) -> dict[str, Any]:
    return compute_statistics(ParsedChat.from_messages([ChatMessage(*m) for m in messages]))


GROUP_CHAT = [
    (m.timestamp, m.sender, m.text)
    for m in generate_chat(3000, participants=("Asha", "Ben", "Chen", "Dev", "Esha"), seed=5)
]
TINY_CHAT = [(START, "Asha", "hi"), (START + timedelta(minutes=1), "Ben", "media omitted")]


@pytest.mark.parametrize("slug", list(INSIGHT_TYPES))
@pytest.mark.parametrize("chat", [GROUP_CHAT, TINY_CHAT], ids=["group", "tiny"])
def test_real_statistics_of_any_chat_give_a_valid_deterministic_insight(slug, chat):
    insight = insight_type(slug)
    material = insight_material(insight, statistics_of(chat), excerpts=[], user_name=None)
    first = OfflineLlm().generate_json("p", insight.output_schema, material=material).data
    again = OfflineLlm().generate_json("p", insight.output_schema, material=material).data
    assert validate_insight(slug, first) == [] and first == again
    assert "offline estimate" in first["overall"]["summary"]
