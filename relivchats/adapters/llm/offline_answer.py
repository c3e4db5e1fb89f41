"""The offline answer to a question about a chat: a search, said to be one.

Without a model nothing can read the passages, so the answer quotes the messages that best match
the question (sender, time and text as written) and opens with a sentence saying it is offline.
A message matches by the question's words it shares (words of 3+ letters, less stopwords; long
words match on their first five letters, so "apologised" finds "apologise"); ties go to the passage
the search ranked closer, then to the earlier message. When no message shares a word, the answer
says so and quotes the start of the passage the search ranked closest by meaning. A follow-up with
no words of its own ("when was that?") is searched with the previous question's words too, and
the answer says so. Same input, same text; the stream is that text in word pieces.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from relivchats.adapters.llm.base import Passage, QuotedMessage, Turn
from relivchats.domain.stopwords import IGNORED_WORDS

QUOTES = 4
CLOSEST_QUOTES = 2
QUOTE_CHARS = 300
STEM_LETTERS = 5
OFFLINE_NOTE = (
    "Offline answer: no AI model is configured, so this is a search of your chat, not a "
    "reading of it."
)
NOTHING_READ = f"{OFFLINE_NOTE} The search found no part of the chat to look in."
_WORD = re.compile(r"[^\W\d_]{3,}")
_PIECE = re.compile(r"\S+\s*|\s+")
_QUESTION_WORDS_TEXT = (
    "the and you for are but not this that with have was what your just like all can how about "
    "when where who whom why which will from they there then them she her his him our out did "
    "does too first last ever said say talk talked tell told"
)
_QUESTION_WORDS = frozenset(_QUESTION_WORDS_TEXT.split())


@dataclass(frozen=True)
class _Candidate:
    message: QuotedMessage
    similarity: float
    overlap: int

    def rank(self) -> tuple[float, float, str, str, str]:
        message = self.message
        return (
            -self.overlap,
            -self.similarity,
            message.sent_at.isoformat(),
            message.sender,
            message.text,
        )


def offline_answer(question: str, context: Sequence[Passage], history: Sequence[Turn]) -> str:
    if not context:
        return NOTHING_READ
    wanted, widened = search_words(question, history)
    matches = sorted((c for c in _candidates(context, wanted) if c.overlap), key=_Candidate.rank)[
        :QUOTES
    ]
    lead = OFFLINE_NOTE
    if widened:
        lead += " Your question has few words to search for, so your previous one's were used too."
    if not matches:
        return f"{lead} No message found shares a word with your question; {_closest(context)}"
    quotes = "\n".join(quote(c.message) for c in matches)
    return f"{lead} The messages that match it best:\n{quotes}"


def offline_pieces(text: str) -> Iterator[str]:
    """The answer in word pieces (each with its trailing space or line break)."""
    yield from _PIECE.findall(text)


def search_words(question: str, history: Sequence[Turn]) -> tuple[frozenset[str], bool]:
    """The question's searchable word stems, and whether the previous question's were added."""
    own = _stems(question)
    if len(own) >= 2 or not history:
        return own, False
    return own | _stems(history[-1].question), True


def quote(message: QuotedMessage) -> str:
    text = " ".join(message.text.split())
    if len(text) > QUOTE_CHARS:
        text = text[: QUOTE_CHARS - 1] + "…"
    sender = f"{message.sender}, " if message.sender else ""
    return f"- {sender}{message.sent_at:%d %b %Y %H:%M}: “{text}”"


def _stems(text: str) -> frozenset[str]:
    words = (word for word in _WORD.findall(text.lower()) if not _ignored(word))
    return frozenset(word[:STEM_LETTERS] for word in words)


def _ignored(word: str) -> bool:
    return word in _QUESTION_WORDS or word in IGNORED_WORDS


def _candidates(context: Sequence[Passage], wanted: frozenset[str]) -> Iterator[_Candidate]:
    for passage in context:
        for message in messages_of(passage):
            overlap = len(wanted & _stems(message.text))
            yield _Candidate(message, passage.similarity, overlap)


def messages_of(passage: Passage) -> tuple[QuotedMessage, ...]:
    """The passage's messages; a passage given as text only counts each line as one message."""
    if passage.messages:
        return passage.messages
    lines = [line for line in passage.text.splitlines() if line.strip()]
    return tuple(QuotedMessage("", passage.start_time, line) for line in lines)


def _closest(context: Sequence[Passage]) -> str:
    best = sorted(context, key=lambda p: (-p.similarity, p.start_time))[0]
    opening = "\n".join(quote(message) for message in messages_of(best)[:CLOSEST_QUOTES])
    span = f"{best.start_time:%d %b %Y %H:%M} to {best.end_time:%d %b %Y %H:%M}"
    return f"the part the search ranked closest in meaning ({span}) begins:\n{opening}"
