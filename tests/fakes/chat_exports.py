"""Render message lists as WhatsApp export text, in every header style the parser accepts.

Used by fixtures, property tests and benchmarks. A `FakeMessage` text is what the export shows
after the header; the renderer adds what the phone adds around it (iOS puts an invisible
left-to-right mark before media and deletion notices, Android writes "\u202fPM" in new versions).

Regenerate the committed fixtures and the corpus (tests/fixtures/chats, tests/fixtures/corpus)
with `python -m tests.fakes.chat_exports`.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Literal

from tests.fakes.chat_locales import ENGLISH, LOCALES, Locale

LEFT_TO_RIGHT_MARK = "\u200e"
NARROW_NO_BREAK_SPACE = "\u202f"


@dataclass(frozen=True)
class FakeMessage:
    timestamp: datetime
    sender: str
    text: str


ASCII_DIGITS = "0123456789"
ARABIC_INDIC_DIGITS = "٠١٢٣٤٥٦٧٨٩"
DEVANAGARI_DIGITS = "०१२३४५६७८९"
RIGHT_TO_LEFT_MARK = "\u200f"


@dataclass(frozen=True)
class ExportStyle:
    """One header layout and one language of WhatsApp's own texts."""

    name: str
    platform: Literal["android", "ios"]
    day_first: bool
    twelve_hour: bool
    four_digit_year: bool
    date_separator: str = "/"
    zero_padded: bool = True
    narrow_space_before_ampm: bool = False
    locale: Locale = ENGLISH
    year_first: bool = False
    join: str = ", "  # between the date and the time
    time_separator: str = ":"
    markers: tuple[str, str] = ("AM", "PM")
    marker_before_time: bool = False
    digits: str = ASCII_DIGITS
    right_to_left: bool = False  # a right-to-left mark after each date number (Arabic Android)

    @property
    def keeps_seconds(self) -> bool:
        return self.platform == "ios"

    @property
    def media_placeholder(self) -> str:
        locale = self.locale
        return locale.media_android if self.platform == "android" else locale.media_ios

    @property
    def deleted_notice(self) -> str:
        suffix = "" if self.platform == "android" else "."
        return self.locale.deleted + suffix


def _localized(
    name: str, platform: Literal["android", "ios"], code: str, **layout: Any
) -> ExportStyle:
    layout.setdefault("day_first", True)
    layout.setdefault("twelve_hour", False)
    layout.setdefault("four_digit_year", True)
    return ExportStyle(name, platform, locale=LOCALES[code], **layout)


_HINDI = {"markers": ("पूर्वाह्न", "अपराह्न"), "twelve_hour": True, "four_digit_year": False}
_ARABIC = {"markers": ("ص", "م"), "twelve_hour": True, "join": "، ", "digits": ARABIC_INDIC_DIGITS}
STYLES: tuple[ExportStyle, ...] = (
    ExportStyle("android_us_12h", "android", False, True, False, zero_padded=False),
    ExportStyle("android_us_12h_new", "android", False, True, False, narrow_space_before_ampm=True),
    ExportStyle("android_eu_24h", "android", True, False, True),
    ExportStyle("android_in_12h", "android", True, True, False),
    ExportStyle("android_de_24h", "android", True, False, False, date_separator="."),
    ExportStyle("ios_eu_24h", "ios", True, False, True),
    ExportStyle("ios_us_12h", "ios", False, True, False, zero_padded=False),
    ExportStyle("ios_in_12h", "ios", True, True, True, narrow_space_before_ampm=True),
    # Other languages: WhatsApp's texts in the phone's language, the header as its locale writes it.
    _localized("android_hi_12h", "android", "hi", **_HINDI),
    _localized("ios_hi_12h", "ios", "hi", **_HINDI, digits=DEVANAGARI_DIGITS),
    _localized(
        "android_es_12h",
        "android",
        "es",
        twelve_hour=True,
        four_digit_year=False,
        zero_padded=False,
        markers=("a. m.", "p. m."),
        narrow_space_before_ampm=True,
    ),
    _localized("ios_es_24h", "ios", "es", four_digit_year=False, zero_padded=False),
    _localized("android_pt_24h", "android", "pt", join=" "),
    _localized("ios_pt_24h", "ios", "pt", join=" "),
    _localized("android_fr_24h", "android", "fr", join=" à "),
    _localized("ios_fr_24h", "ios", "fr", join=" "),
    _localized("android_de_24h_long", "android", "de", date_separator="."),
    _localized("ios_de_24h", "ios", "de", date_separator=".", four_digit_year=False),
    _localized(
        "android_id_24h", "android", "id", join=" ", time_separator=".", four_digit_year=False
    ),
    _localized("ios_id_24h", "ios", "id", join=" ", time_separator=".", four_digit_year=False),
    _localized("android_ar_12h", "android", "ar", **_ARABIC, zero_padded=False, right_to_left=True),
    _localized("ios_ar_12h", "ios", "ar", **_ARABIC, zero_padded=False),
    _localized("android_ru_24h", "android", "ru", date_separator="."),
    _localized("ios_ru_24h", "ios", "ru", date_separator="."),
    _localized("android_tr_24h", "android", "tr", date_separator=".", join=" "),
    _localized("ios_tr_24h", "ios", "tr", date_separator=".", join=" "),
    _localized("android_it_24h", "android", "it", four_digit_year=False),
    _localized("ios_it_24h", "ios", "it", four_digit_year=False),
    # Year first: ISO dates (Swedish, Lithuanian, ... phones) and the Korean layout, whose
    # 12-hour marker comes before the time.
    _localized("android_iso_24h", "android", "en", year_first=True, date_separator="-", join=" "),
    _localized("ios_iso_24h", "ios", "en", year_first=True, date_separator="-", join=" "),
    _localized(
        "android_ko_12h",
        "android",
        "en",
        year_first=True,
        date_separator=". ",
        join=". ",
        zero_padded=False,
        twelve_hour=True,
        markers=("오전", "오후"),
        marker_before_time=True,
    ),
)
STYLE_BY_NAME = {style.name: style for style in STYLES}


def at_export_resolution(messages: Iterable[FakeMessage], style: ExportStyle) -> list[FakeMessage]:
    """Android headers have no seconds: what a round trip through that style can preserve."""
    if style.keeps_seconds:
        return list(messages)
    return [replace(m, timestamp=m.timestamp.replace(second=0)) for m in messages]


def render_header(timestamp: datetime, sender: str, style: ExportStyle) -> str:
    if style.platform == "ios":
        return f"[{_render_stamp(timestamp, style)}] {sender}: "
    return f"{_render_stamp(timestamp, style)} - {sender}: "


def _render_stamp(timestamp: datetime, style: ExportStyle) -> str:
    clock = _render_time(timestamp, style)
    if style.twelve_hour and style.marker_before_time:
        clock = f"{_marker(timestamp, style)} {clock}"
    elif style.twelve_hour:
        gap = NARROW_NO_BREAK_SPACE if style.narrow_space_before_ampm else " "
        clock = f"{clock}{gap}{_marker(timestamp, style)}"
    stamp = f"{_render_date(timestamp, style)}{style.join}{clock}"
    return stamp.translate(str.maketrans(ASCII_DIGITS, style.digits))


def _marker(timestamp: datetime, style: ExportStyle) -> str:
    return style.markers[timestamp.hour >= 12]


def render_export(
    messages: Sequence[FakeMessage],
    style: ExportStyle,
    *,
    system_notices: bool = True,
    group_name: str = "Weekend plans",
    group_events: bool = False,
) -> str:
    """The text of an export of `messages`, with WhatsApp's opening notices if `system_notices`
    and, if `group_events`, someone added after the first message and leaving after the last."""
    lines: list[str] = []
    if system_notices and messages:
        lines.extend(_opening_notices(messages[0].timestamp, style, group_name))
    for index, message in enumerate(messages):
        lines.append(
            render_header(message.timestamp, message.sender, style) + _body(message, style)
        )
        if group_events and index in (0, len(messages) - 1):
            locale = style.locale
            event = locale.added.format(who="Asha", whom="Dev") if index == 0 else ""
            event = event or locale.left.format(who="Dev")
            lines.append(_group_notice(message.timestamp, style, event, group_name))
    return "\n".join(lines) + "\n"


def _render_date(timestamp: datetime, style: ExportStyle) -> str:
    day, month = timestamp.day, timestamp.month
    year = timestamp.year if style.four_digit_year or style.year_first else timestamp.year % 100
    width = 2 if style.zero_padded else 1
    if style.year_first:
        fields = [f"{year:04d}", f"{month:0{width}d}", f"{day:0{width}d}"]
    else:
        first, second = (day, month) if style.day_first else (month, day)
        fields = [f"{first:0{width}d}", f"{second:0{width}d}", f"{year:02d}"]
    mark = RIGHT_TO_LEFT_MARK if style.right_to_left else ""
    return (mark + style.date_separator).join(fields)


def _render_time(timestamp: datetime, style: ExportStyle) -> str:
    sep = style.time_separator
    seconds = f"{sep}{timestamp.second:02d}" if style.keeps_seconds else ""
    if not style.twelve_hour:
        return f"{timestamp.hour:02d}{sep}{timestamp.minute:02d}{seconds}"
    hour = timestamp.hour % 12 or 12
    width = 2 if style.zero_padded and style.platform == "ios" else 1
    return f"{hour:0{width}d}{sep}{timestamp.minute:02d}{seconds}"


def _body(message: FakeMessage, style: ExportStyle) -> str:
    notices = (style.media_placeholder, style.deleted_notice, "You deleted this message.")
    if style.platform == "ios" and message.text in notices:
        return LEFT_TO_RIGHT_MARK + message.text
    return message.text


def _opening_notices(start: datetime, style: ExportStyle, group_name: str) -> list[str]:
    locale = style.locale
    if style.platform == "android":
        stamp = _render_stamp(start, style)
        if locale is ENGLISH:
            encrypted, joined = f"{locale.encrypted} Tap to learn more.", "You joined using a link"
        else:
            encrypted, joined = locale.encrypted, locale.added.format(who="Asha", whom="Ben")
        return [f"{stamp} - {encrypted}", f"{stamp} - {joined}"]
    header = render_header(start, group_name, style)
    created = locale.created_group.format(who="Asha", group=group_name)
    return [
        LEFT_TO_RIGHT_MARK + header + LEFT_TO_RIGHT_MARK + locale.encrypted,
        header + LEFT_TO_RIGHT_MARK + created,
    ]


def _group_notice(moment: datetime, style: ExportStyle, text: str, group_name: str) -> str:
    """A join or leave notice: no sender on Android, the group's name and a mark on iOS."""
    if style.platform == "android":
        return f"{_render_stamp(moment, style)} - {text}"
    return render_header(moment, group_name, style) + LEFT_TO_RIGHT_MARK + text


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


# The corpus: a group chat per style with emoji names, a name holding ": ", WhatsApp's notices
# in the style's language, media, deletions and multi-line messages. What the parser must find
# in each file is written beside it from the generated messages, never from a parse.
CORPUS_PARTICIPANTS = ("Asha", "Ben 😎", "Chen 🌸", "Dr: Dev")
CORPUS_MESSAGES = 150


def corpus_messages(style: ExportStyle) -> list[FakeMessage]:
    seed = sum(map(ord, style.name))
    messages = generate_chat(
        CORPUS_MESSAGES, participants=CORPUS_PARTICIPANTS, seed=seed, style=style
    )
    return at_export_resolution(messages, style)


def expected_of(messages: Sequence[FakeMessage], style: ExportStyle) -> dict[str, Any]:
    return {
        "messages": len(messages),
        "participants": list(dict.fromkeys(message.sender for message in messages)),
        "first": messages[0].timestamp.isoformat(),
        "last": messages[-1].timestamp.isoformat(),
        "media": sum(message.text == style.media_placeholder for message in messages),
        "deleted": sum(message.text == style.deleted_notice for message in messages),
    }


def write_corpus(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    expected = {}
    for style in STYLES:
        messages = corpus_messages(style)
        text = render_export(messages, style, group_name="Équipe 🌍", group_events=True)
        (folder / f"{style.name}.txt").write_text(text, encoding="utf-8")
        expected[style.name] = expected_of(messages, style)
    manifest = json.dumps(expected, ensure_ascii=False, indent=1) + "\n"
    (folder / "expected.json").write_text(manifest, encoding="utf-8")


if __name__ == "__main__":
    fixtures = Path(__file__).resolve().parents[1] / "fixtures"
    write_fixtures(fixtures / "chats")
    write_corpus(fixtures / "corpus")
