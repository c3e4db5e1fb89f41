"""Parsing exports of every header layout and language into a ParsedChat."""

from __future__ import annotations

import unicodedata
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from relivchats.adapters.whatsapp import parse_chat_text
from relivchats.adapters.whatsapp.headers import HeaderLayout, detect_layout
from relivchats.domain.uploads import MessageKind, NotAChatExport, ParsedChat, UnknownChatLayout
from tests.fakes.chat_exports import (
    STYLE_BY_NAME,
    STYLES,
    ExportStyle,
    FakeMessage,
    at_export_resolution,
    generate_chat,
    render_export,
)

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "chats"
LRM = "\u200e"


def rows(chat: ParsedChat) -> list[tuple[datetime, str, str]]:
    return [(m.timestamp, m.sender, m.text) for m in chat.messages()]


def expected_rows(
    messages: list[FakeMessage], style: ExportStyle
) -> list[tuple[datetime, str, str]]:
    return [(m.timestamp, m.sender, m.text) for m in at_export_resolution(messages, style)]


@pytest.mark.parametrize("style", STYLES, ids=lambda style: style.name)
def test_committed_fixture_of_each_style_parses_to_its_messages(style: ExportStyle) -> None:
    text = (FIXTURES / f"{style.name}.txt").read_text(encoding="utf-8")
    chat = parse_chat_text(text)
    assert rows(chat) == expected_rows(generate_chat(40, seed=7, style=style), style)
    assert chat.participants == ("Asha", "Ben")


def _layout_of(line: str) -> HeaderLayout:
    return detect_layout("\n" + unicodedata.normalize("NFKC", line) + "\n")


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("12/31/21, 10:15 PM - A: x", ("/", "/", ", ", ":", False, " \x00", False)),
        ("[31/12/2021, 22:15:03] A: x", ("/", "/", ", ", ":", True, "", False)),
        ("31.12.21, 22:15 - A: x", (".", ".", ", ", ":", False, "", False)),
        ("2021-12-31 22:15 - A: x", ("-", "-", " ", ":", False, "", True)),
        ("31/12/2021 à 22:15 - A: x", ("/", "/", " à ", ":", False, "", False)),
        ("31/12/21 22.15 - A: x", ("/", "/", " ", ".", False, "", False)),
        ("31/12/21, 10:15\u00a0p.\u00a0m. - A: x", ("/", "/", ", ", ":", False, " \x00", False)),
        ("٣١/١٢/٢٠٢١، ١٠:١٥ م - A: x", ("/", "/", "، ", ":", False, " \x00", False)),
        ("2021. 12. 31. 오후 10:15 - A: x", (". ", ". ", ". \x00 ", ":", False, "", True)),
    ],
)
def test_header_layout_is_read_from_the_first_line(line: str, expected: tuple[object, ...]) -> None:
    layout = _layout_of(line)
    assert (
        *layout.date_separators,
        layout.join,
        layout.time_separator,
        layout.seconds,
        layout.suffix,
        layout.year_first,
    ) == expected


def test_group_name_and_ios_system_notices_are_not_participants_or_messages() -> None:
    chat = parse_chat_text((FIXTURES / "ios_group.txt").read_text(encoding="utf-8"))
    assert len(chat) == 60
    assert set(chat.participants) == {"Asha", "Ben", "Chen", "Dev"}
    assert not any("encrypted" in text or "created group" in text for text in chat.texts)


def test_participants_are_in_order_of_first_appearance() -> None:
    text = "[14/03/2021, 08:00:00] Chen: hi\n[14/03/2021, 08:01:00] Asha: hey\n"
    text += "[14/03/2021, 08:02:00] Chen: ok\n[14/03/2021, 08:03:00] Ben: yo\n"
    assert parse_chat_text(text).participants == ("Chen", "Asha", "Ben")


def test_ios_notices_with_the_mark_are_dropped_and_look_alike_messages_stay() -> None:
    notices = [
        "Messages and calls are end-to-end encrypted. No one outside of this chat can read them.",
        "Asha added Ben",
        "Ben left",
        "Asha changed the subject to “Trip”",
        "You're now an admin",
        "Dev joined using this group's invite link",
        "Your security code with Ben changed. Tap to learn more.",
        "You blocked this contact. Tap to unblock.",
        "Asha changed this group's icon",
    ]
    lines = [f"[14/03/2021, 08:00:00] Trip: {LRM}{notice}" for notice in notices]
    lines += ["[14/03/2021, 08:05:00] Ben: I left", "[14/03/2021, 08:06:00] Asha: Asha added Ben"]
    chat = parse_chat_text("\n".join(lines))
    assert rows(chat) == [
        (datetime(2021, 3, 14, 8, 5), "Ben", "I left"),
        (datetime(2021, 3, 14, 8, 6), "Asha", "Asha added Ben"),
    ]


def test_android_system_lines_are_dropped() -> None:
    text = (
        "14/03/2021, 08:00 - Messages and calls are end-to-end encrypted. Tap to learn more.\n"
        '14/03/2021, 08:00 - Asha created group "Trip"\n'
        "14/03/2021, 08:01 - Asha: hello\n"
        "14/03/2021, 08:02 - Asha added Ben\n"
        "14/03/2021, 08:03 - Ben: hi all\n"
        '14/03/2021, 08:04 - Ben changed the subject from "Trip" to "Trip: Goa"\n'
        "14/03/2021, 08:05 - Ben left\n"
    )
    chat = parse_chat_text(text)
    assert [(m.sender, m.text) for m in chat.messages()] == [("Asha", "hello"), ("Ben", "hi all")]


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("<Media omitted>", MessageKind.MEDIA),
        (f"{LRM}image omitted", MessageKind.MEDIA),
        (f"{LRM}sticker omitted", MessageKind.MEDIA),
        ("Trip plan.pdf • 3 pages document omitted", MessageKind.MEDIA),
        (f"{LRM}<attached: 00000012-PHOTO-2021-03-14-08-00-00.jpg>", MessageKind.MEDIA),
        ("IMG-20210314-WA0001.jpg (file attached)\nat the beach", MessageKind.MEDIA),
        ("This message was deleted", MessageKind.DELETED),
        (f"{LRM}This message was deleted.", MessageKind.DELETED),
        ("You deleted this message", MessageKind.DELETED),
        (f"{LRM}Missed voice call", MessageKind.CALL),
        ("Missed video call", MessageKind.CALL),
        ("the image omitted a detail", MessageKind.TEXT),
        ("call me maybe", MessageKind.TEXT),
    ],
)
def test_media_deletion_and_call_notices_are_classified(text: str, kind: MessageKind) -> None:
    chat = parse_chat_text(f"[14/03/2021, 08:00:00] Ben: {text}\n")
    assert list(chat.kinds) == [kind]


def test_edited_marker_is_not_part_of_the_text() -> None:
    chat = parse_chat_text("14/03/2021, 08:00 - Ben: see you soon <This message was edited>\n")
    assert chat.texts == ("see you soon",)


def test_multi_line_messages_and_skin_toned_emoji_are_kept_whole() -> None:
    text = "🤦🏽‍♀️ no way\n\nreally? 👍🏿"
    chat = parse_chat_text(f"[14/03/2021, 08:00:00] Asha: {text}\n[14/03/2021, 08:01:00] Ben: ok")
    assert chat.texts == (text, "ok")


def test_colons_and_dates_inside_a_message_do_not_start_a_new_one() -> None:
    text = "Note: bring snacks\n14/03/2021 was great, see you at 10:15 - ok?\nP.S.: 9:30 works"
    chat = parse_chat_text(f"14/03/2021, 08:00 - Asha: {text}\n14/03/2021, 08:01 - Ben: sure")
    assert chat.texts == (text, "sure")


def test_twelve_hour_clock_maps_midnight_and_noon() -> None:
    chat = parse_chat_text("3/14/21, 12:05 AM - Ben: late\n3/14/21, 12:30 PM - Ben: lunch\n")
    assert list(chat.timestamps.astype(datetime)) == [
        datetime(2021, 3, 14, 0, 5),
        datetime(2021, 3, 14, 12, 30),
    ]


def test_ambiguous_dates_take_the_order_that_runs_forwards_in_time() -> None:
    # Day first: 1 Feb, 5 Feb, 3 Mar. Month first would be 2 Jan, 2 May, 3 Mar: backwards.
    lines = ["01/02/2021, 10:00 - A: x", "05/02/2021, 10:00 - B: y", "03/03/2021, 10:00 - A: z"]
    chat = parse_chat_text("\n".join(lines))
    assert str(chat.timestamps[1]) == "2021-02-05T10:00:00"


def test_ambiguous_dates_in_us_order_are_read_month_first() -> None:
    lines = ["2/1/21, 10:00 AM - A: x", "2/5/21, 10:00 AM - B: y", "3/3/21, 10:00 AM - A: z"]
    chat = parse_chat_text("\n".join(lines))
    assert str(chat.timestamps[1]) == "2021-02-05T10:00:00"


def test_one_date_beyond_twelve_settles_the_order_for_all() -> None:
    lines = ["12/03/2021, 10:00 - A: x", "13/03/2021, 10:00 - B: y"]
    assert str(parse_chat_text("\n".join(lines)).timestamps[0]) == "2021-03-12T10:00:00"


def test_messages_written_out_of_order_are_sorted_by_time() -> None:
    lines = ["14/03/2021, 10:00 - A: second", "14/03/2021, 09:00 - B: first"]
    assert parse_chat_text("\n".join(lines)).texts == ("first", "second")


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("just some notes\nnothing else here\n", "date and time"),
        ("45/13/2021, 10:00 - A: hello\n", "not valid calendar dates"),
        ("14/03/2021, 10:00 - Asha created group\n14/03/2021, 10:01 - Ben left\n", "no messages"),
    ],
)
def test_text_without_messages_is_not_a_chat_export(text: str, reason: str) -> None:
    with pytest.raises(NotAChatExport, match=reason):
        parse_chat_text(text)


def test_a_refused_file_is_described_by_its_shape_never_by_its_text() -> None:
    with pytest.raises(UnknownChatLayout) as refused:
        parse_chat_text("Meeting notes 3 March\nbring 2 cakes\n")
    error = refused.value
    assert "the lines start with `a a 9 a`; expected a date and time" in error.message
    assert error.details["signature"] == "a a 9 a"
    assert "Meeting" not in error.message and "Meeting" not in str(error.details)


@pytest.mark.parametrize(
    "text",
    [
        # Chinese phones write five day periods; we know two of them.
        "2024/1/3 上午9:05 - A: x\n2024/1/3 晚上9:05 - B: y\n",
        # A word after the time that is no 12-hour marker we know.
        "03/01/2024 09:05 nachts - A: x\n",
    ],
)
def test_a_marker_word_we_do_not_know_refuses_rather_than_merging_messages(text: str) -> None:
    with pytest.raises(UnknownChatLayout, match="12-hour marker"):
        parse_chat_text(text)


def test_a_name_holding_a_colon_is_read_whole_from_all_its_messages() -> None:
    lines = [
        "14/03/2021, 08:00 - Dr: Who: hello",
        "14/03/2021, 08:01 - Ben: Note: bring snacks",
        "14/03/2021, 08:02 - Dr: Who: see you: soon",
        "14/03/2021, 08:03 - Ben: ok",
    ]
    chat = parse_chat_text("\n".join(lines))
    assert [(m.sender, m.text) for m in chat.messages()] == [
        ("Dr: Who", "hello"),
        ("Ben", "Note: bring snacks"),
        ("Dr: Who", "see you: soon"),
        ("Ben", "ok"),
    ]


def test_one_message_starting_with_a_label_renames_no_one() -> None:
    lines = ["14/03/2021, 08:00 - Ben: Re: lunch", "14/03/2021, 08:01 - Asha: Note: at 1"]
    chat = parse_chat_text("\n".join(lines))
    assert chat.participants == ("Ben", "Asha")
    assert chat.texts == ("Re: lunch", "Note: at 1")


def test_year_first_dates_are_read_year_month_day() -> None:
    chat = parse_chat_text("2024-01-03 09:05 - A: x\n2024-02-01 10:00 - B: y\n")
    assert [str(t) for t in chat.timestamps] == ["2024-01-03T09:05:00", "2024-02-01T10:00:00"]


def test_ambiguous_dates_with_a_non_us_marker_are_read_day_first() -> None:
    lines = [
        "1/2/21, 10:00 p. m. - A: x",
        "5/2/21, 10:00 a. m. - B: y",
        "3/3/21, 9:00 a. m. - A: z",
    ]
    chat = parse_chat_text("\n".join(lines))
    assert str(chat.timestamps[0]) == "2021-02-01T22:00:00"


# Property: rendering messages in any style and parsing them back gives the same messages.
# Texts avoid ':' (a header needs one, so no line of a text can pose as a header), invisible
# formatting marks (WhatsApp's own, removed on parsing) and anything NFKC would rewrite.
_TEXT_ALPHABET = (
    "abcdefghijklmnopqrstuvwxyz ABCXYZ 0123456789 .,!?'()-_ éñü नमस्तेदोक мирçğş مرحبا ١٢ 😂👍🏽❤️🇮🇳"
)
_NAMES = ("Asha", "Ben K", "+91 98765 43210", "Ana María", "Mom ❤️", "दोस्त", "علي", "Çağrı")

_texts = st.lists(
    st.text(alphabet=_TEXT_ALPHABET, min_size=1, max_size=30).map(str.strip).filter(bool),
    min_size=1,
    max_size=3,
).map("\n".join)


@st.composite
def _chats(draw: st.DrawFn) -> list[FakeMessage]:
    # The first message's day is after the 12th, so the dates settle day/month order in every
    # style; it takes no step, which could roll it into the next month's 1st (ambiguous again).
    first = datetime(
        draw(st.integers(2000, 2098)), draw(st.integers(1, 12)), draw(st.integers(13, 28))
    )
    steps = draw(st.lists(st.integers(0, 3 * 86400), min_size=1, max_size=15))
    participants = draw(st.lists(st.sampled_from(_NAMES), min_size=1, max_size=4, unique=True))
    messages, moment = [], first + timedelta(seconds=draw(st.integers(0, 86399)))
    for step in [0, *steps[1:]]:
        moment += timedelta(seconds=step)
        text = draw(_texts.filter(lambda t: unicodedata.normalize("NFKC", t) == t))
        messages.append(FakeMessage(moment, draw(st.sampled_from(participants)), text))
    return messages


@pytest.mark.parametrize("style", STYLES, ids=lambda style: style.name)
@settings(max_examples=40, deadline=None)
@given(messages=_chats(), notices=st.booleans())
def test_parsing_a_rendered_export_gives_back_its_messages(
    style: ExportStyle, messages: list[FakeMessage], notices: bool
) -> None:
    chat = parse_chat_text(render_export(messages, style, system_notices=notices))
    assert rows(chat) == expected_rows(messages, style)
    assert chat.participants == tuple(dict.fromkeys(m.sender for m in messages))


def test_a_large_export_parses_completely() -> None:
    style = STYLE_BY_NAME["android_us_12h_new"]
    messages = generate_chat(5000, participants=("Asha", "Ben", "Chen"), seed=11, style=style)
    chat = parse_chat_text(render_export(messages, style))
    assert rows(chat) == expected_rows(messages, style)
    assert int((chat.kinds == MessageKind.MEDIA).sum()) == sum(
        m.text == style.media_placeholder for m in messages
    )
