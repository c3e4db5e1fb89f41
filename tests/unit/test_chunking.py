"""Chunking (product spec §6): size window, silence breaks, hard maximum, overlap, coverage."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from relivchats.domain.chunking import ChunkingRules, chunk_messages, estimate_tokens

START = datetime(2024, 3, 1, 8, 0, tzinfo=UTC)
SMALL = ChunkingRules(min_tokens=40, max_tokens=60, overlap_tokens=12)


@dataclass(frozen=True)
class Message:
    timestamp: datetime
    sender: str
    text: str


def conversation(count: int, gap: timedelta = timedelta(seconds=30), words: int = 6) -> list:
    return [
        Message(START + gap * n, ("Asha", "Rahul")[n % 2], " ".join(["word"] * words) + f" {n}")
        for n in range(count)
    ]


def covered(chunks) -> set[int]:
    return {n for chunk in chunks for n in range(chunk.first_message, chunk.end_message)}


def test_no_messages_make_no_chunks():
    assert chunk_messages([]) == []


def test_a_short_chat_is_one_chunk_with_its_metadata():
    messages = conversation(5, gap=timedelta(minutes=2))
    [chunk] = chunk_messages(messages)
    assert chunk.index == 0
    assert chunk.speakers == ("Asha", "Rahul")
    assert chunk.message_count == 5
    assert (chunk.first_message, chunk.end_message) == (0, 5)
    assert (chunk.start_time, chunk.end_time) == (START, START + timedelta(minutes=8))
    assert chunk.time_span == timedelta(minutes=8)
    assert chunk.text.splitlines()[0] == "Asha: word word word word word word 0"


def test_default_chunks_land_between_the_minimum_and_the_maximum():
    chunks = chunk_messages(conversation(3000))
    assert len(chunks) > 10
    for chunk in chunks[:-1]:
        assert 800 <= chunk.estimated_tokens <= 1000


def test_a_silence_closes_a_chunk_that_reached_the_minimum():
    before = conversation(5)  # 48 tokens: past SMALL's minimum
    after = [Message(before[-1].timestamp + timedelta(minutes=11), "Asha", "back again")]
    chunks = chunk_messages(before + after, SMALL)
    assert len(chunks) == 2
    assert chunks[1].text.endswith("Asha: back again")
    assert chunks[1].start_time < after[0].timestamp  # it opens with the overlap


def test_a_silence_does_not_close_a_chunk_below_the_minimum():
    messages = conversation(3)
    messages.append(Message(START + timedelta(hours=5), "Asha", "much later"))
    assert len(chunk_messages(messages, SMALL)) == 1


def test_neighbouring_chunks_overlap_by_a_few_messages():
    chunks = chunk_messages(conversation(40), SMALL)
    for left, right in itertools.pairwise(chunks):
        assert right.first_message < left.end_message
        shared = left.text.splitlines()[-(left.end_message - right.first_message) :]
        assert right.text.splitlines()[: len(shared)] == shared
        assert estimate_tokens("\n".join(shared)) <= SMALL.overlap_tokens


def test_an_enormous_message_is_split_and_every_piece_fits():
    novel = Message(START, "Meera", "lorem ipsum " * 5000)
    messages = [*conversation(3), novel]
    chunks = chunk_messages(messages)
    pieces = [c for c in chunks if (c.first_message, c.end_message) == (3, 4)]
    assert len(pieces) >= 12
    assert all(c.estimated_tokens <= 1000 for c in chunks)
    assert all(c.text.startswith("Meera: ") for c in pieces)
    rejoined = " ".join(c.text.removeprefix("Meera: ") for c in pieces)
    assert rejoined.split() == novel.text.split()


def test_line_breaks_inside_a_message_do_not_fake_new_messages():
    [chunk] = chunk_messages([Message(START, "Asha", "one\ntwo\n\nthree")])
    assert chunk.text == "Asha: one two three"


@pytest.mark.parametrize(
    "rules",
    [
        {"min_tokens": 0},
        {"min_tokens": 900, "max_tokens": 800},
        {"overlap_tokens": 800},
        {"overlap_tokens": -1},
    ],
)
def test_inconsistent_rules_are_refused(rules):
    with pytest.raises(ValueError, match="need"):
        ChunkingRules(**rules)


# --- properties ---------------------------------------------------------------------------------

names = st.sampled_from(["Asha", "Rahul", "Meera", "Dev"])
texts = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=400)
gaps = st.sampled_from([0, 5, 60, 601, 3600, -30])  # seconds; an export can step back in time
rules_strategy = st.builds(
    lambda lowest, extra, overlap: ChunkingRules(lowest, lowest + extra, overlap_tokens=overlap),
    st.integers(20, 200),
    st.integers(0, 200),
    st.integers(0, 19),
)


@st.composite
def chats(draw) -> list[Message]:
    count = draw(st.integers(0, 120))
    moment, messages = START, []
    for _ in range(count):
        moment += timedelta(seconds=draw(gaps))
        messages.append(Message(moment, draw(names), draw(texts)))
    return messages


@settings(max_examples=150, deadline=None)
@given(messages=chats(), rules=rules_strategy)
def test_no_chunk_exceeds_the_maximum(messages, rules):
    for chunk in chunk_messages(messages, rules):
        assert chunk.estimated_tokens <= rules.max_tokens


@settings(max_examples=150, deadline=None)
@given(messages=chats(), rules=rules_strategy)
def test_every_message_appears_in_some_chunk(messages, rules):
    assert covered(chunk_messages(messages, rules)) == set(range(len(messages)))


@settings(max_examples=150, deadline=None)
@given(messages=chats(), rules=rules_strategy)
def test_chunks_preserve_message_order(messages, rules):
    chunks = chunk_messages(messages, rules)
    assert [chunk.index for chunk in chunks] == list(range(len(chunks)))
    for left, right in itertools.pairwise(chunks):
        assert left.first_message <= right.first_message
        assert left.end_message <= right.end_message
    for chunk in chunks:
        assert chunk.start_time == messages[chunk.first_message].timestamp
        assert chunk.end_time == messages[chunk.end_message - 1].timestamp
        assert set(chunk.speakers) == {
            m.sender for m in messages[chunk.first_message : chunk.end_message]
        }
