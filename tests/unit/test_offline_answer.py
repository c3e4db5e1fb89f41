"""The offline answer to a question: the best-matching messages quoted with sender and time, said to
be offline, deterministic, and the same text whether asked for whole or streamed in pieces."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from relivchats.adapters.llm import (
    LlmAnswer,
    LlmUnavailable,
    OfflineLlm,
    Passage,
    QuotedMessage,
    Turn,
)
from relivchats.adapters.llm.faults import FaultyLlm
from relivchats.adapters.llm.offline_answer import NOTHING_READ, OFFLINE_NOTE

START = datetime(2024, 2, 14, 20, 0, tzinfo=UTC)
TRIP = (
    ("Asha", "Can we plan the Goa trip this weekend? I miss you"),
    ("Rahul", "Sorry, work is crazy. Goa trip next month, promise"),
    ("Asha", "You always say next month 😔"),
    ("Rahul", "I know. Let's book the Goa tickets tonight, okay?"),
)
FIGHT = (
    ("Rahul", "I'm sorry I snapped at you yesterday"),
    ("Asha", "I apologise too, I was tired"),
)


def passage(lines, start: datetime, similarity: float) -> Passage:
    messages = tuple(
        QuotedMessage(sender, start + timedelta(minutes=n), text)
        for n, (sender, text) in enumerate(lines)
    )
    return Passage(
        text="\n".join(f"{m.sender}: {m.text}" for m in messages),
        start_time=messages[0].sent_at,
        end_time=messages[-1].sent_at,
        speakers=tuple(sorted({m.sender for m in messages})),
        messages=messages,
        similarity=similarity,
    )


CONTEXT = [passage(TRIP, START, 0.62), passage(FIGHT, START + timedelta(days=30), 0.48)]


def answer(question: str, context=CONTEXT, history=()) -> str:
    return OfflineLlm().answer(question, context, list(history)).text


def test_quotes_the_best_matching_messages_with_sender_and_time():
    text = answer("When did we book the Goa tickets?")

    assert text.startswith(OFFLINE_NOTE)
    lines = text.splitlines()[1:]
    assert (
        lines[0]
        == "- Rahul, 14 Feb 2024 20:03: “I know. Let's book the Goa tickets tonight, okay?”"
    )
    assert all("Goa" in line for line in lines)  # only messages sharing a word are quoted
    assert "I'm sorry" not in text


def test_word_stems_match_so_apologised_finds_apologise():
    text = answer("Who apologised first after the fight?")
    assert "- Asha, 15 Mar 2024 20:01: “I apologise too, I was tired”" in text


def test_a_higher_similarity_breaks_ties_between_equal_matches():
    lines = [("Asha", "month")]
    near = passage(lines, START + timedelta(days=2), 0.9)
    far = passage(lines, START + timedelta(days=1), 0.1)
    text = answer("which month?", [far, near])
    assert text.splitlines()[1].startswith("- Asha, 16 Feb 2024")


def test_without_a_shared_word_it_says_so_and_quotes_the_closest_passage():
    text = answer("Anything about astronomy?")
    assert "No message found shares a word with your question" in text
    assert "14 Feb 2024 20:00 to 14 Feb 2024 20:03" in text  # the more similar passage
    assert "- Asha, 14 Feb 2024 20:00: “Can we plan the Goa trip this weekend? I miss you”" in text


def test_without_any_passage_it_says_it_had_nothing_to_read():
    assert answer("When is the Goa trip?", []) == NOTHING_READ


def test_a_follow_up_without_words_of_its_own_uses_the_previous_question():
    history = [Turn("When did we book the Goa tickets?", "…")]
    alone = answer("And when was that?")
    followed = answer("And when was that?", history=history)

    assert "No message found" in alone
    assert "previous one's were used too" in followed
    assert "Let's book the Goa tickets tonight" in followed


def test_same_question_same_answer():
    assert answer("Goa trip?") == answer("Goa trip?")


def test_a_passage_given_as_text_only_is_quoted_line_by_line():
    bare = Passage("Asha: Goa in March?\nRahul: yes!", START, START, ("Asha", "Rahul"))
    text = answer("Goa?", [bare])
    assert "- 14 Feb 2024 20:00: “Asha: Goa in March?”" in text


def test_the_answer_is_marked_offline_and_counts_tokens():
    reply = OfflineLlm().answer("Goa trip?", CONTEXT, [Turn("hi", "hello")])
    assert reply.offline is True and reply.model == "relivchats-offline-1"
    assert reply.prompt_tokens > 0 and reply.output_tokens > 0 and reply.thinking_tokens == 0


async def streamed(llm, question: str) -> tuple[list[str], LlmAnswer]:
    items = [item async for item in llm.answer_stream_async(question, CONTEXT, [])]
    *pieces, last = items
    assert isinstance(last, LlmAnswer) and all(isinstance(p, str) for p in pieces)
    return pieces, last


async def test_the_stream_is_the_same_answer_in_word_pieces():
    pieces, last = await streamed(OfflineLlm(), "When is the Goa trip?")

    assert "".join(pieces) == last.text == answer("When is the Goa trip?")
    assert len(pieces) > 10 and all(len(piece.split()) <= 1 for piece in pieces)
    assert last.offline is True


async def drain(stream, into: list) -> None:
    async for item in stream:
        into.append(item)


def faulty(tmp_path, faults: dict) -> FaultyLlm:
    path = tmp_path / "faults.json"
    path.write_text(json.dumps(faults))
    return FaultyLlm(OfflineLlm(), str(path))


async def test_injected_faults_fail_a_stream_before_or_after_its_first_pieces(tmp_path):
    with pytest.raises(LlmUnavailable):
        await streamed(faulty(tmp_path, {"fail": ["answer"]}), "Goa?")

    received: list[object] = []
    stream = faulty(tmp_path, {"fail_after_pieces": 3}).answer_stream_async("Goa?", CONTEXT, [])
    with pytest.raises(LlmUnavailable):
        await drain(stream, received)
    assert len(received) == 3


async def test_without_faults_the_wrapper_streams_what_the_provider_streams(tmp_path):
    assert await streamed(faulty(tmp_path, {}), "Goa?") == await streamed(OfflineLlm(), "Goa?")
