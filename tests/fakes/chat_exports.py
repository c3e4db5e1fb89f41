"""Render message lists as WhatsApp export text, in every header style the parser accepts.

Used by fixtures, property tests and benchmarks. A `FakeMessage` text is what the export shows
after the header; the renderer adds what the phone adds around it (iOS puts an invisible
left-to-right mark before media and deletion notices, Android writes "\u202fPM" in new versions).

Regenerate the committed fixtures with `python -m tests.fakes.chat_exports`.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Literal

LEFT_TO_RIGHT_MARK = "\u200e"
NARROW_NO_BREAK_SPACE = "\u202f"


@dataclass(frozen=True)
class FakeMessage:
    timestamp: datetime
    sender: str
    text: str


@dataclass(frozen=True)
class ExportStyle:
    name: str
    platform: Literal["android", "ios"]
    day_first: bool
    twelve_hour: bool
    four_digit_year: bool
    date_separator: str = "/"
    zero_padded: bool = True
    narrow_space_before_ampm: bool = False

    @property
    def keeps_seconds(self) -> bool:
        return self.platform == "ios"

    @property
    def media_placeholder(self) -> str:
        return "<Media omitted>" if self.platform == "android" else "image omitted"

    @property
    def deleted_notice(self) -> str:
        suffix = "" if self.platform == "android" else "."
        return "This message was deleted" + suffix


STYLES: tuple[ExportStyle, ...] = (
    ExportStyle("android_us_12h", "android", False, True, False, zero_padded=False),
    ExportStyle("android_us_12h_new", "android", False, True, False, narrow_space_before_ampm=True),
    ExportStyle("android_eu_24h", "android", True, False, True),
    ExportStyle("android_in_12h", "android", True, True, False),
    ExportStyle("android_de_24h", "android", True, False, False, date_separator="."),
    ExportStyle("ios_eu_24h", "ios", True, False, True),
    ExportStyle("ios_us_12h", "ios", False, True, False, zero_padded=False),
    ExportStyle("ios_in_12h", "ios", True, True, True, narrow_space_before_ampm=True),
)
STYLE_BY_NAME = {style.name: style for style in STYLES}


def at_export_resolution(messages: Iterable[FakeMessage], style: ExportStyle) -> list[FakeMessage]:
    """Android headers have no seconds: what a round trip through that style can preserve."""
    if style.keeps_seconds:
        return list(messages)
    return [replace(m, timestamp=m.timestamp.replace(second=0)) for m in messages]


def render_header(timestamp: datetime, sender: str, style: ExportStyle) -> str:
    stamp = f"{_render_date(timestamp, style)}, {_render_time(timestamp, style)}"
    if style.platform == "ios":
        return f"[{stamp}] {sender}: "
    return f"{stamp} - {sender}: "


def render_export(
    messages: Sequence[FakeMessage],
    style: ExportStyle,
    *,
    system_notices: bool = True,
    group_name: str = "Weekend plans",
) -> str:
    """The text of an export of `messages`, with WhatsApp's own notices if `system_notices`."""
    lines: list[str] = []
    if system_notices and messages:
        lines.extend(_opening_notices(messages[0].timestamp, style, group_name))
    for message in messages:
        lines.append(
            render_header(message.timestamp, message.sender, style) + _body(message, style)
        )
    return "\n".join(lines) + "\n"


def _render_date(timestamp: datetime, style: ExportStyle) -> str:
    day, month = timestamp.day, timestamp.month
    first, second = (day, month) if style.day_first else (month, day)
    year = timestamp.year if style.four_digit_year else timestamp.year % 100
    width = 2 if style.zero_padded else 1
    sep = style.date_separator
    return f"{first:0{width}d}{sep}{second:0{width}d}{sep}{year:02d}"


def _render_time(timestamp: datetime, style: ExportStyle) -> str:
    seconds = f":{timestamp.second:02d}" if style.keeps_seconds else ""
    if not style.twelve_hour:
        return f"{timestamp.hour:02d}:{timestamp.minute:02d}{seconds}"
    hour = timestamp.hour % 12 or 12
    gap = NARROW_NO_BREAK_SPACE if style.narrow_space_before_ampm else " "
    marker = "AM" if timestamp.hour < 12 else "PM"
    width = 2 if style.zero_padded and style.platform == "ios" else 1
    return f"{hour:0{width}d}:{timestamp.minute:02d}{seconds}{gap}{marker}"


def _body(message: FakeMessage, style: ExportStyle) -> str:
    notices = (style.media_placeholder, style.deleted_notice, "You deleted this message.")
    if style.platform == "ios" and message.text in notices:
        return LEFT_TO_RIGHT_MARK + message.text
    return message.text


def _opening_notices(start: datetime, style: ExportStyle, group_name: str) -> list[str]:
    encrypted = (
        "Messages and calls are end-to-end encrypted. No one outside of this chat, not even "
        "WhatsApp, can read or listen to them."
    )
    if style.platform == "android":
        stamp = f"{_render_date(start, style)}, {_render_time(start, style)}"
        return [f"{stamp} - {encrypted} Tap to learn more.", f"{stamp} - You joined using a link"]
    header = render_header(start, group_name, style)
    return [
        LEFT_TO_RIGHT_MARK + header + LEFT_TO_RIGHT_MARK + encrypted,
        header + LEFT_TO_RIGHT_MARK + f"Asha created group “{group_name}”",
    ]


# Realistic chats for fixtures and benchmarks: a fixed vocabulary, a few emoji (some with skin
# tones), links, questions, multi-line messages, media and deletion notices, pauses of hours.
_VOCABULARY = (
    "hey hello good morning night today tomorrow weekend dinner lunch coffee movie call later "
    "home work office train traffic rain sunny beach trip plan tickets booked awesome thanks "
    "sorry really maybe sure love miss you yaar kya haan nahi chalo accha theek dost khana "
    "पार्टी दोस्त खाना कल"
)
_WORDS = _VOCABULARY.split()
_EMOJI = ("😂", "❤️", "👍🏽", "🙏", "😊", "🎉", "👍", "🔥", "🤦🏻‍♂️", "🇮🇳")


def generate_chat(
    count: int,
    *,
    participants: Sequence[str] = ("Asha", "Ben"),
    seed: int = 0,
    start: datetime = datetime(2021, 3, 14, 8, 0, 0),
    style: ExportStyle | None = None,
) -> list[FakeMessage]:
    """`count` messages in time order; placeholders follow `style` (Android's when None).

    The default start is on the 14th, so the dates settle the day/month order of any style.
    """
    rng = random.Random(seed)
    placeholders = style or STYLES[0]
    timestamp = start
    messages = []
    for _ in range(count):
        timestamp += timedelta(seconds=_pause(rng))
        text = _text(rng, placeholders)
        messages.append(FakeMessage(timestamp, rng.choice(participants), text))
    return messages


def _pause(rng: random.Random) -> int:
    if rng.random() < 0.03:
        return rng.randint(6 * 3600, 20 * 3600)
    return int(rng.expovariate(1 / 240)) + 1


def _text(rng: random.Random, style: ExportStyle) -> str:
    roll = rng.random()
    if roll < 0.04:
        return style.media_placeholder
    if roll < 0.05:
        return style.deleted_notice
    if roll < 0.06:
        return f"look https://example.com/{rng.randint(1, 999)}"
    words = rng.choices(_WORDS, k=rng.randint(1, 14))
    if rng.random() < 0.3:
        words.insert(rng.randint(0, len(words)), rng.choice(_EMOJI))
    text = " ".join(words)
    if rng.random() < 0.1:
        text += "?"
    if rng.random() < 0.05:
        text += "\n" + " ".join(rng.choices(_WORDS, k=4))
    return text


def write_fixtures(folder: Path) -> None:
    """The small committed fixtures under tests/fixtures/chats/."""
    folder.mkdir(parents=True, exist_ok=True)
    for style in STYLES:
        messages = generate_chat(40, seed=7, style=style)
        (folder / f"{style.name}.txt").write_text(render_export(messages, style), encoding="utf-8")
    group_style = STYLE_BY_NAME["ios_eu_24h"]
    group = generate_chat(
        60, participants=("Asha", "Ben", "Chen", "Dev"), seed=3, style=group_style
    )
    (folder / "ios_group.txt").write_text(render_export(group, group_style), encoding="utf-8")


if __name__ == "__main__":
    write_fixtures(Path(__file__).resolve().parents[1] / "fixtures" / "chats")
