"""Recognise the message-header style of an export, and the day/month order of its dates.

whatstk parses much faster when told the header format than when it guesses, and its guess cannot
use the whole file to settle whether "03/04/21" is the 3rd of April or the 4th of March. We read
the style from the first header line, then look at every header date at once (numpy) and keep the
order under which all dates are valid and run forwards in time.

Styles seen in exports (after whatstk's clean-up, which turns U+202F before AM/PM into a space):
  Android  `12/31/21, 10:15 PM - Name: text`   `31/12/2021, 22:15 - Name: text`
  iOS      `[31/12/2021, 22:15:03] Name: text`  `[12/31/21, 10:15:03 PM] Name: text`
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from relivchats.domain.uploads import NotAChatExport

# Headers are searched for at the start of these many lines; notices and blank lines come first.
_LINES_TO_SNIFF = 200

_HEADER_START = re.compile(
    r"^(?P<open>\[)?\d{1,2}(?P<sep>[/.\-])\d{1,2}(?P=sep)\d{2,4}(?P<comma>,?) "
    r"\d{1,2}:\d{2}(?P<seconds>:\d{2})?(?:(?P<gap> ?)(?P<ampm>[AaPp]\.?[Mm]\.?))?"
    r"(?(open)\]| -) "
)


@dataclass(frozen=True)
class HeaderFormat:
    bracketed: bool
    separator: str
    comma: bool
    seconds: bool
    twelve_hour: bool
    ampm_gap: str
    day_first: bool = True

    def hformat(self) -> str:
        """whatstk's header format, anchored to a line start by its leading newline."""
        first, second = ("%d", "%m") if self.day_first else ("%m", "%d")
        date = f"{first}{self.separator}{second}{self.separator}%y{',' if self.comma else ''}"
        clock = "%I" if self.twelve_hour else "%H"
        time = f"{clock}:%M{':%S' if self.seconds else ''}"
        if self.twelve_hour:
            time += f"{self.ampm_gap}%p"
        stamp = f"[{date} {time}]" if self.bracketed else f"{date} {time} -"
        return f"\n{stamp} %name:"

    def date_pattern(self) -> re.Pattern[str]:
        """The two day/month fields and the year of every header line.

        Matched with the newline before the line: a literal first character is much faster to
        search for than a multi-line `^`.
        """
        sep = re.escape(self.separator)
        opening = r"\[" if self.bracketed else ""
        return re.compile(
            rf"\n{opening}(\d{{1,2}}){sep}(\d{{1,2}}){sep}(\d{{2,4}}),? \d{{1,2}}:\d{{2}}"
        )


def detect_header_format(text: str) -> HeaderFormat:
    """The header style of `text`, day order settled.

    `text` starts with a newline and is already cleaned as whatstk cleans it.
    """
    style = _style_of_first_header(text)
    fields = style.date_pattern().findall(text)
    if not fields:
        raise NotAChatExport("its first dated line is not a message header")
    first, second, years = np.array(fields, dtype=np.int64).T
    years = np.where(years < 100, years + 2000, years)
    return HeaderFormat(
        bracketed=style.bracketed,
        separator=style.separator,
        comma=style.comma,
        seconds=style.seconds,
        twelve_hour=style.twelve_hour,
        ampm_gap=style.ampm_gap,
        day_first=_day_comes_first(first, second, years, style.twelve_hour),
    )


def _style_of_first_header(text: str) -> HeaderFormat:
    for line in text.split("\n", _LINES_TO_SNIFF)[:_LINES_TO_SNIFF]:
        match = _HEADER_START.match(line.lstrip("\ufeff"))
        if match:
            return HeaderFormat(
                bracketed=match["open"] is not None,
                separator=match["sep"],
                comma=match["comma"] == ",",
                seconds=match["seconds"] is not None,
                twelve_hour=match["ampm"] is not None,
                ampm_gap=match["gap"] or "",
            )
    raise NotAChatExport(f"none of the first {_LINES_TO_SNIFF} lines starts with a date and time")


Days = npt.NDArray[np.int64]


def _day_comes_first(first: Days, second: Days, years: Days, twelve_hour: bool) -> bool:
    """Prefer the order that makes every date valid, then the one running forwards in time.

    When both orders are valid and forward (every date has day == month, say), the shorter span
    wins (consecutive messages are close in time), then the clock's locale: a 12 h clock with
    month first is the US style, a 24 h clock goes with day first.
    """
    scores = {}
    for day_first in (True, False):
        day, month = (first, second) if day_first else (second, first)
        dates = _dates_if_valid(day, month, years)
        if dates is not None:
            steps = np.diff(dates).astype(np.int64)
            span = int((dates.max() - dates.min()).astype(np.int64))
            scores[day_first] = (int(np.count_nonzero(steps < 0)), span, day_first == twelve_hour)
    if not scores:
        raise NotAChatExport("its dates are not valid calendar dates in any day/month order")
    return min(scores, key=lambda day_first: scores[day_first])


def _dates_if_valid(day: Days, month: Days, years: Days) -> npt.NDArray[np.datetime64] | None:
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
