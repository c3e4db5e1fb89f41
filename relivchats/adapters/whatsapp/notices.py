"""WhatsApp's own lines in an export: system notices to drop, placeholders to classify.

iOS writes system notices ("Alice added Bob", the end-to-end encryption notice) as messages from
the chat's name, with an invisible left-to-right mark (U+200E) before the text. Read as messages,
a group's name would become a participant, so we drop those lines from the raw text (where the
mark is still visible) before the marks are cleaned away. Android writes notices without a
sender; the parser leaves out every header line without one. The phrases, in every language we
read, are in `locales`.

Media placeholders, deletion notices and call notices stay messages (someone did send something),
but are classified so that statistics count them and take no words from them. All matching runs
as whole-text or whole-column regular expressions, never a Python loop per message.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
import pandas as pd

from relivchats.adapters.whatsapp.locales import (
    ATTACHMENT_NOTES,
    CALL_NOTICES,
    DELETION_NOTICES,
    ENCRYPTION_NOTICES,
    MEDIA_PLACEHOLDERS,
    SYSTEM_PHRASES,
)
from relivchats.domain.uploads import MessageKind

# Lines are matched with the newline before them (the text starts with one): a literal first
# character lets the regex engine skip straight from line to line. Only lines whose text starts
# with the mark are candidates, so a person writing "I left" stays. Every phrase starts a word,
# so the phrases are only tried at the notice's start and after a space: a file of long lines
# that look like notices costs a third of trying them at every character.
_SYSTEM_PHRASES = "|".join(phrase.removeprefix(" ") for phrase in SYSTEM_PHRASES)
_IOS_SYSTEM_LINE = re.compile(
    r"\n\u200e?\[[^\]\n]{6,40}\] [^:\n]*: \u200e(?:[^\n]*? )?(?:" + _SYSTEM_PHRASES + r")[^\n]*",
    re.MULTILINE,
)
# Older exports and some tools lose the mark; this notice is unmistakable without it, and it
# comes first in the file, so only the head of the text is searched for it.
_ENCRYPTION_NOTICE_LINE = re.compile(
    r"\n\u200e?\[[^\]\n]{6,40}\] [^:\n]*: \u200e?(?:" + "|".join(ENCRYPTION_NOTICES) + r")[^\n]*"
)
_HEAD_CHARS = 4096
# Android notices have no sender and the parser leaves them out, but a new group subject holding
# ": " would pose as a sender's message; subject changes are therefore dropped here (any header
# layout: a line starting with a digit, then " - " within the length of a header).
_ANDROID_SUBJECT_CHANGE = re.compile(
    r"\n\d[^\n]{6,44}? - [^:\n]*? changed "
    r"(?:the subject|this group's subject|the group name)[^\n]*"
)
# Android since 2023 appends this to an edited message's text; it is not something anyone wrote.
_EDITED_MARKER = re.compile(r"[ \u200e]*<This message was edited>(?=\n|\Z)")
# Invisible formatting characters: phones put them around names, times and notices (U+200E
# before iOS notices, U+200F around Arabic dates); no header or name is read with them.
_INVISIBLE_MARKS = re.compile("[\u200b\u202a\u202b\u202c\u202d\u202e\u200e\u200f\u00ad]")

_MEDIA = re.compile(
    "|".join(MEDIA_PLACEHOLDERS)
    + r"|<attached: [^>\n]+>.*"
    + r"|[^\n]+ \((?:"
    + "|".join(ATTACHMENT_NOTES)
    + r")\)(?:\n.*)?",
    re.IGNORECASE | re.DOTALL,
)
_DELETED = re.compile(
    "(?:" + "|".join(DELETION_NOTICES) + r")(?: by [^\n]+)?\.?",
    re.IGNORECASE,
)
_CALL = re.compile(
    "(?:" + "|".join(CALL_NOTICES) + r")(?:[,.•] [^\n]{0,40})?",
    re.IGNORECASE,
)


def without_system_lines(raw_text: str) -> str:
    """`raw_text` (starting with a newline) less iOS notices, Android subject changes and edit
    markers. Each pattern runs only if its key phrase occurs at all, a much cheaper scan."""
    text = raw_text
    if ": \u200e" in text:
        text = _IOS_SYSTEM_LINE.sub("", text)
    head_end = text.find("\n", _HEAD_CHARS) % (len(text) + 1)  # whole lines; -1 is the end
    text = _ENCRYPTION_NOTICE_LINE.sub("", text[:head_end]) + text[head_end:]
    if "changed the" in text or "changed this group" in text:
        text = _ANDROID_SUBJECT_CHANGE.sub("", text)
    if "<This message was edited>" in text:
        text = _EDITED_MARKER.sub("", text)
    return text


def cleaned(text: str) -> str:
    """The text as the parser reads it: invisible marks gone, compatibility forms folded (NFKC),
    so iOS's U+202F before "PM" and the no-break spaces in "p. m." become plain spaces."""
    return unicodedata.normalize("NFKC", _INVISIBLE_MARKS.sub("", text))


_KINDS = ((MessageKind.DELETED, _DELETED), (MessageKind.MEDIA, _MEDIA), (MessageKind.CALL, _CALL))
# Every kind at once, matched against lower-cased texts: a case-insensitive match of this many
# phrases costs twice as much as lower-casing every text first. (The patterns hold no escape
# that lower-casing would change, such as \S or \W.)
_ANY_NOTICE = re.compile(
    "|".join(f"(?:{pattern.pattern})" for _, pattern in _KINDS).lower(), re.DOTALL
)


def classify(texts: Sequence[str]) -> npt.NDArray[np.int8]:
    """`MessageKind` of each message text, as an int8 column."""
    kinds = np.full(len(texts), MessageKind.TEXT, dtype=np.int8)
    column = pd.Series(texts, dtype=object)
    # One pass finds the few notices; only those are told apart (the first kind listed wins).
    notices = column[column.str.lower().str.fullmatch(_ANY_NOTICE).to_numpy(dtype=bool)]
    for kind, pattern in reversed(_KINDS):
        kinds[notices.index[notices.str.fullmatch(pattern).to_numpy(dtype=bool)]] = kind
    return kinds
