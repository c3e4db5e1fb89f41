"""The message-header grammar: learn an export's layout from its first lines, then read every
header of the file at once.

A header is `[open] N s N s N join N t N [t N] [marker] close`: three date numbers (day, month,
year in any order), the literal text between them, a clock with or without seconds, and a 12-hour
marker in any of the languages of `locales` (after the time, or before it in East Asian layouts),
closed by `] ` (iOS) or ` - ` (Android). `\\d` matches every script's digits, so Arabic-Indic or
Devanagari digits read like ASCII ones. We tokenise the first header lines into numbers and the
literals between them, keep the most common frame, and compile it into ONE regular expression:
`split` then cuts the whole text into columns in C, and numpy turns them into timestamps. When
day and month could be either way round, the order that makes every date valid and running
forwards in time wins (`_day_comes_first`).

Layouts are listed, one example line each, in docs/chat-formats.md.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

from relivchats.adapters.whatsapp.locales import AFTERNOON_MARKERS, MORNING_MARKERS
from relivchats.domain.uploads import NotAChatExport, UnknownChatLayout

# Headers are searched for at the start of these many lines; notices and blank lines come first.
_LINES_TO_SNIFF = 200
# A header-like line start: an optional "[", a stamp starting with a digit, and the closing.
_CANDIDATE = re.compile(r"(\[)?(\d[^\n\[\]]{6,44}?)(?(1)\] | - )")
_NUMBERS_AND_LITERALS = re.compile(r"\d+|\D+")
# A marker is a word of its own: no letter right before or after it (digits may touch it).
_MARKER = re.compile(
    r"(?<![^\W\d_])(?:" + "|".join(MORNING_MARKERS + AFTERNOON_MARKERS) + r")(?![^\W\d_])",
    re.IGNORECASE,
)
_AFTERNOON = re.compile("|".join(AFTERNOON_MARKERS), re.IGNORECASE)
_MARKER_SLOT = "\x00"
_LETTERS = re.compile(r"(?:[^\w\x00]|[\d_])+")  # all but letters and the marker slot
# Groups of the compiled header: the three date numbers, hour, minute, second, marker, sender.
GROUPS = 8


@dataclass(frozen=True)
class HeaderLayout:
    """One export's header layout: the literal text between its numbers, learnt from the file.
    `join` (between date and time) and `suffix` (after the time) show a 12-hour marker's place,
    if any, as `_MARKER_SLOT`; any marker we know may stand there."""

    bracketed: bool
    date_separators: tuple[str, str]
    join: str
    time_separator: str
    seconds: bool
    suffix: str
    year_first: bool

    @property
    def twelve_hour(self) -> bool:
        return _MARKER_SLOT in self.join + self.suffix

    @property
    def marker_before_time(self) -> bool:
        return _MARKER_SLOT in self.join

    def pattern(self) -> re.Pattern[str]:
        """Every header of the file, with the newline before it and the sender after it.

        The sender is the text up to the first ": " (see `parsing` for names holding one); a
        line with none is one of WhatsApp's notices, and its sender group stays empty. The
        marker group is empty on a 24-hour clock.
        """
        number = r"(\d{1,4})"
        first, second = (re.escape(sep) for sep in self.date_separators)
        seconds = re.escape(self.time_separator) + r"(\d{1,2})" if self.seconds else "()"
        suffix = _with_marker(self.suffix) if self.twelve_hour else re.escape(self.suffix) + "()"
        opening, closing = (r"\[", r"\] ") if self.bracketed else ("", " - ")
        return re.compile(
            rf"\n{opening}{number}{first}{number}{second}{number}{_with_marker(self.join)}"
            rf"(\d{{1,2}}){re.escape(self.time_separator)}(\d{{1,2}}){seconds}"
            rf"{suffix}{closing}(?:([^\n]*?): )?"
        )

    def split(self, text: str) -> tuple[list[list[str]], list[str]]:
        """The header columns (three date numbers, hour, minute, second, marker, sender) and
        the text after each header, up to the next one."""
        parts = self.pattern().split(text)
        columns = [parts[1 + group :: GROUPS + 1] for group in range(GROUPS)]
        if self.marker_before_time:
            columns.insert(6, columns.pop(3))
        return columns, parts[GROUPS + 1 :: GROUPS + 1]


def _with_marker(literal: str) -> str:
    if _MARKER_SLOT not in literal:
        return re.escape(literal)
    before, after = literal.split(_MARKER_SLOT)
    return f"{re.escape(before)}((?i:{_MARKER.pattern})){re.escape(after)}"


def detect_layout(text: str) -> HeaderLayout:
    """The header layout of `text` (which starts with a newline, cleaned of invisible marks).

    A header-like line whose words we cannot read refuses the file rather than letting its
    messages run into the one before them.
    """
    lines = text.split("\n", _LINES_TO_SNIFF)[:_LINES_TO_SNIFF]
    layouts: Counter[HeaderLayout] = Counter()
    for line in lines:
        layout = _layout_of_line(line.lstrip("\ufeff"))
        if isinstance(layout, _Unreadable):
            raise UnknownChatLayout(_UNKNOWN_WORD, shape_of_first_line([line]))
        if layout is not None:
            layouts[layout] += 1
    if not layouts:
        raise UnknownChatLayout(
            "its lines do not start with a date and time", shape_of_first_line(lines)
        )
    (layout, _), *others = layouts.most_common()
    if any(_differs_only_in_words(layout, other) for other, _ in others):
        raise UnknownChatLayout(_UNKNOWN_WORD, shape_of_first_line(lines))
    return layout


_UNKNOWN_WORD = "its times carry a word we do not know as a 12-hour marker"


class _Unreadable:
    """A line that starts like a header but holds a word we cannot place."""


def _layout_of_line(line: str) -> HeaderLayout | _Unreadable | None:
    match = _CANDIDATE.match(line)
    if match is None:
        return None
    tokens = _NUMBERS_AND_LITERALS.findall(match[2])
    numbers, literals = tokens[0::2], [*tokens[1::2], ""]
    if len(numbers) not in (5, 6):
        return None
    suffix = _marked(literals[len(numbers) - 1])
    if any(character.isalpha() for character in suffix.replace(_MARKER_SLOT, "")):
        return _Unreadable()
    return HeaderLayout(
        bracketed=match[1] is not None,
        date_separators=(literals[0], literals[1]),
        join=_marked(literals[2]),
        time_separator=literals[3],
        seconds=len(numbers) == 6,
        suffix=suffix,
        year_first=len(numbers[0]) == 4,
    )


def _differs_only_in_words(layout: HeaderLayout, other: HeaderLayout) -> bool:
    """Two frames with different words between the date and the time, or after the time: one
    of them holds a marker word we do not know (Chinese phones, say, write five day periods).
    A frame without words there is a message line that happens to start with a date."""
    words, other_words = _words_of(layout), _words_of(other)
    return any(words) and any(other_words) and words != other_words


def _words_of(layout: HeaderLayout) -> tuple[str, str]:
    return _LETTERS.sub("", layout.join), _LETTERS.sub("", layout.suffix)


def _marked(literal: str) -> str:
    """`literal` with a 12-hour marker in it replaced by the marker slot."""
    return _MARKER.sub(_MARKER_SLOT, literal, count=1)


def shape_of_first_line(lines: list[str]) -> str:
    """What the first non-empty line looks like, without its text: digits become 9 and runs of
    letters `a`, so a refusal can describe a layout we do not read without quoting the chat."""
    first = next((line.strip("\ufeff ") for line in lines if line.strip("\ufeff ")), "")
    shape = re.sub(r"[^\W\d_]+", "a", re.sub(r"\d", "9", first[:40]))
    return shape


Numbers = npt.NDArray[np.int64]


def timestamps(layout: HeaderLayout, columns: list[list[str]]) -> npt.NDArray[np.datetime64]:
    """The time of every header, from the split columns (three date numbers, hour, minute,
    second, marker); day/month order settled over the whole file."""
    first, second, third, hours, minutes = (_numbers(column) for column in columns[:5])
    seconds = _numbers(columns[5]) if layout.seconds else np.zeros_like(hours)
    years, first, second = (first, second, third) if layout.year_first else (third, first, second)
    years = np.where(years < 100, years + 2000, years)
    us_clock = False
    if layout.twelve_hour:
        codes, written = pd.factorize(np.array(columns[6], dtype=object))
        hours = _hours_of_day(hours, written.tolist(), codes)
        us_clock = bool(set(written.tolist()) & _US_MARKERS)
    dates = _settled_dates(first, second, years, us_clock, layout.year_first)
    if np.any((hours > 23) | (minutes > 59) | (seconds > 59)):
        raise NotAChatExport("its times are not valid clock times")
    clock = (hours * 3600 + minutes * 60 + seconds).astype("timedelta64[s]")
    stamps: npt.NDArray[np.datetime64] = dates.astype("datetime64[s]") + clock
    return stamps


def _numbers(column: list[str]) -> Numbers:
    # int() reads any script's digits, and is three times faster here than numpy's own parsing.
    return np.fromiter(map(int, column), dtype=np.int64, count=len(column))


# The markers of phones set to US English, the one 12-hour locale writing the month first.
# (Indian English writes "am"/"pm", Spanish "a. m."/"p. m.", both with the day first.)
_US_MARKERS = {"AM", "PM"}


def _hours_of_day(hours: Numbers, written: list[str], codes: Numbers) -> Numbers:
    """24-hour hours from 12-hour ones and the index (`codes`) of each line's marker."""
    if np.any((hours < 1) | (hours > 12)):
        raise NotAChatExport("its 12-hour times have hours outside 1 to 12")
    afternoon = np.array([_AFTERNOON.fullmatch(marker) is not None for marker in written])
    result: Numbers = hours % 12 + 12 * afternoon[codes].astype(np.int64)
    return result


def _settled_dates(
    first: Numbers, second: Numbers, years: Numbers, us_clock: bool, year_first: bool
) -> npt.NDArray[np.datetime64]:
    """Dates from the two day/month fields in whichever order fits the file (see module)."""
    if year_first:  # year, month, day: no locale writes the day before the month here
        dates = _dates_if_valid(second, first, years)
    else:
        day_first = _day_comes_first(first, second, years, us_clock)
        dates = _dates_if_valid(*((first, second) if day_first else (second, first)), years)
    if dates is None:
        raise NotAChatExport("its dates are not valid calendar dates in any day/month order")
    return dates


def _day_comes_first(first: Numbers, second: Numbers, years: Numbers, us_clock: bool) -> bool:
    """Prefer the order that makes every date valid, then the one running forwards in time.

    When both orders are valid and forward (every date has day == month, say), the shorter span
    wins (consecutive messages are close in time), then the clock's locale: "AM"/"PM" with the
    month first is the US style; every other clock goes with the day first.
    """
    scores = {}
    for day_first in (True, False):
        day, month = (first, second) if day_first else (second, first)
        dates = _dates_if_valid(day, month, years)
        if dates is not None:
            steps = np.diff(dates).astype(np.int64)
            span = int((dates.max() - dates.min()).astype(np.int64))
            scores[day_first] = (int(np.count_nonzero(steps < 0)), span, day_first == us_clock)
    if not scores:
        raise NotAChatExport("its dates are not valid calendar dates in any day/month order")
    return min(scores, key=lambda day_first: scores[day_first])


def _dates_if_valid(
    day: Numbers, month: Numbers, years: Numbers
) -> npt.NDArray[np.datetime64] | None:
    if np.any((month < 1) | (month > 12) | (day < 1)):
        return None
    month_starts = (years - 1970).astype("datetime64[Y]").astype("datetime64[M]") + (
        (month - 1).astype("timedelta64[M]")
    )
    first_days = month_starts.astype("datetime64[D]")
    month_lengths = ((month_starts + 1).astype("datetime64[D]") - first_days).astype(np.int64)
    if np.any(day > month_lengths):
        return None
    dates: npt.NDArray[np.datetime64] = first_days + (day - 1).astype("timedelta64[D]")
    return dates
