"""Formats a moment with a Java ``DateTimeFormatter`` pattern, as Firehose's ``!{timestamp:…}`` does.

Supported pattern letters (Java semantics, English locale): G u y Q q M L d D E a H k K h m s S n
(with their widths), the zone letters V z O X x Z, quoted literals (``'T'``, ``''``) and optional
sections ``[…]`` (always printed when formatting). Any other ASCII letter, and the reserved
``# { }``, raise :class:`PatternError` as DateTimeFormatter.ofPattern would.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from functools import lru_cache

MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
          "November", "December")
DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
QUARTER_NAMES = ("1st quarter", "2nd quarter", "3rd quarter", "4th quarter")


class PatternError(ValueError):
    """The pattern is not one Java's DateTimeFormatter.ofPattern accepts (or one this module knows)."""


Piece = Callable[[datetime], str]


def _number(value: int, width: int) -> str:
    return str(value).zfill(width)


def _text(full: str, count: int) -> str:
    if count == 4:
        return full
    if count == 5:
        return full[0]
    return full[:3]


def _year(count: int) -> Piece:
    if count == 2:
        return lambda t: _number(t.year % 100, 2)
    return lambda t: _number(t.year, count)


def _month(count: int) -> Piece:
    if count <= 2:
        return lambda t: _number(t.month, count)
    return lambda t: _text(MONTHS[t.month - 1], count)


def _quarter(count: int) -> Piece:
    def piece(t: datetime) -> str:
        quarter = (t.month - 1) // 3 + 1
        if count <= 2:
            return _number(quarter, count)
        if count == 3:
            return f"Q{quarter}"
        return QUARTER_NAMES[quarter - 1] if count == 4 else str(quarter)
    return piece


def _offset(t: datetime) -> timedelta:
    return t.utcoffset() or timedelta(0)


def _offset_text(t: datetime, colon: bool, z_for_zero: bool, seconds: bool = False) -> str:
    total = int(_offset(t).total_seconds())
    if total == 0 and z_for_zero:
        return "Z"
    sign = "+" if total >= 0 else "-"
    hours, rest = divmod(abs(total), 3600)
    minutes, secs = divmod(rest, 60)
    sep = ":" if colon else ""
    text = f"{sign}{hours:02d}{sep}{minutes:02d}"
    return text + (f"{sep}{secs:02d}" if seconds or secs else "")


def _zone_id(t: datetime) -> str:
    key = getattr(t.tzinfo, "key", None)
    if key:
        return str(key)
    return "Z" if _offset(t) == timedelta(0) else _offset_text(t, colon=True, z_for_zero=True)


def _zone_name(t: datetime, count: int) -> str:
    if getattr(t.tzinfo, "key", None) is None and _offset(t) == timedelta(0):
        return "UTC" if count < 4 else "Coordinated Universal Time"
    return t.tzname() or _zone_id(t)


def _localized_offset(t: datetime, count: int) -> str:
    total = int(_offset(t).total_seconds())
    if total == 0:
        return "GMT"
    sign = "+" if total > 0 else "-"
    hours, rest = divmod(abs(total), 3600)
    minutes = rest // 60
    if count == 1:
        return f"GMT{sign}{hours}" + (f":{minutes:02d}" if minutes else "")
    return f"GMT{sign}{hours:02d}:{minutes:02d}"


def _x_offset(count: int, z_for_zero: bool) -> Piece:
    def piece(t: datetime) -> str:
        total = int(_offset(t).total_seconds())
        if total == 0 and z_for_zero:
            return "Z"
        sign = "+" if total >= 0 else "-"
        hours, rest = divmod(abs(total), 3600)
        minutes, secs = divmod(rest, 60)
        if count == 1:
            return f"{sign}{hours:02d}" + (f"{minutes:02d}" if minutes else "")
        colon = count in (3, 5)
        sep = ":" if colon else ""
        text = f"{sign}{hours:02d}{sep}{minutes:02d}"
        return text + (f"{sep}{secs:02d}" if count >= 4 and secs else "")
    return piece


def _letter(letter: str, count: int) -> Piece:  # noqa: C901 - one branch per pattern letter
    def limit(maximum: int) -> None:
        if count > maximum:
            raise PatternError(f"too many pattern letters: {letter * count}")

    if letter == "G":
        limit(5)
        return lambda t: "AD" if count <= 3 else ("Anno Domini" if count == 4 else "A")
    if letter in "uy":
        return _year(count)
    if letter in "Qq":
        limit(5)
        return _quarter(count)
    if letter in "ML":
        limit(5)
        return _month(count)
    if letter == "d":
        limit(2)
        return lambda t: _number(t.day, count)
    if letter == "D":
        limit(3)
        return lambda t: _number(t.timetuple().tm_yday, count)
    if letter == "E":
        limit(5)
        return lambda t: _text(DAYS[t.weekday()], count)
    if letter == "a":
        limit(1)
        return lambda t: "AM" if t.hour < 12 else "PM"
    if letter == "H":
        limit(2)
        return lambda t: _number(t.hour, count)
    if letter == "k":
        limit(2)
        return lambda t: _number(t.hour or 24, count)
    if letter == "K":
        limit(2)
        return lambda t: _number(t.hour % 12, count)
    if letter == "h":
        limit(2)
        return lambda t: _number(t.hour % 12 or 12, count)
    if letter == "m":
        limit(2)
        return lambda t: _number(t.minute, count)
    if letter == "s":
        limit(2)
        return lambda t: _number(t.second, count)
    if letter == "S":
        limit(9)
        return lambda t: f"{t.microsecond:06d}000"[:count]
    if letter == "n":
        return lambda t: _number(t.microsecond * 1000, count)
    if letter == "V":
        if count != 2:
            raise PatternError("pattern letter count must be 2: V")
        return _zone_id
    if letter == "z":
        limit(4)
        return lambda t: _zone_name(t, count)
    if letter == "O":
        if count not in (1, 4):
            raise PatternError("pattern letter count must be 1 or 4: O")
        return lambda t: _localized_offset(t, count)
    if letter in "Xx":
        limit(5)
        return _x_offset(count, z_for_zero=letter == "X")
    if letter == "Z":
        limit(5)
        if count <= 3:
            return lambda t: _offset_text(t, colon=False, z_for_zero=False)
        if count == 4:
            return lambda t: _localized_offset(t, 4)
        return lambda t: _offset_text(t, colon=True, z_for_zero=True)
    raise PatternError(f"unknown pattern letter: {letter}")


@lru_cache(maxsize=256)
def compile_pattern(pattern: str) -> tuple[Piece | str, ...]:
    """The pattern as a sequence of literal strings and formatting functions."""
    pieces: list[Piece | str] = []
    i, n = 0, len(pattern)
    depth = 0
    while i < n:
        char = pattern[i]
        if char.isascii() and char.isalpha():
            j = i
            while j < n and pattern[j] == char:
                j += 1
            pieces.append(_letter(char, j - i))
            i = j
        elif char == "'":
            j = i + 1
            literal = []
            while True:
                if j >= n:
                    raise PatternError(f"pattern ends with an incomplete string literal: {pattern}")
                if pattern[j] == "'":
                    if j + 1 < n and pattern[j + 1] == "'":
                        literal.append("'")
                        j += 2
                        continue
                    break
                literal.append(pattern[j])
                j += 1
            pieces.append("'" if j == i + 1 else "".join(literal))
            i = j + 1
        elif char == "[":
            depth += 1
            i += 1
        elif char == "]":
            if depth == 0:
                raise PatternError(f"pattern invalid as it contains ] without previous [: {pattern}")
            depth -= 1
            i += 1
        elif char in "#{}":
            raise PatternError(f"pattern includes reserved character: '{char}'")
        else:
            pieces.append(char)
            i += 1
    return tuple(pieces)


def format_java(moment: datetime, pattern: str) -> str:
    return "".join(p if isinstance(p, str) else p(moment) for p in compile_pattern(pattern))
