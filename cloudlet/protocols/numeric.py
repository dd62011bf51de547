"""Numbers as clients send them, held to what the wire types can carry.

    integer_from_text(text) / float_from_text(text)   URI, query, header and XML text
    is_number_text(text)    a decimal number?
    to_float(number)        an int, bignum or Decimal as a double (+-Infinity beyond range)
    from_epoch(seconds)     epoch seconds as a UTC datetime, SerializationError outside
                            years 1-9999
    number_text(number)     a number as an error message shows it

Python's own conversions are too lenient (`int("1_0")`, `int("١٢")`), raise where AWS
answers a 400 (`float(10**400)`), or stop at the int-str limit (4300 digits); the codecs
use these instead, and the validator judges the magnitudes that come out.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from decimal import Decimal

from cloudlet.errors import SerializationError

_INTEGER_TEXT = re.compile(r"[+-]?[0-9]+")
_FLOAT_TEXT = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_SPECIAL_FLOATS = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}
# Python refuses to turn longer digit strings into an int (sys.get_int_max_str_digits);
# any such integer is out of every model's range, so its sign is all that matters.
MAX_DIGITS = 4000
HUGE = 10**MAX_DIGITS


def integer_from_text(text: str) -> int:
    """An integer in a URI, query, header or XML text: ASCII digits with an optional sign
    (not Python's `int()`, which also takes `1_0` and other scripts' digits). ValueError
    when it is not one."""
    text = text.strip()
    if not _INTEGER_TEXT.fullmatch(text):
        raise ValueError(text)
    if len(text) > MAX_DIGITS:
        return -HUGE if text.startswith("-") else HUGE
    return int(text)


def float_from_text(text: str) -> float:
    """A float in text: a decimal number, or `NaN`, `Infinity`, `-Infinity`. One beyond a
    double's range is +-Infinity, as every IEEE 754 parser reads it."""
    text = text.strip()
    special = _SPECIAL_FLOATS.get(text)
    if special is not None:
        return special
    if not _FLOAT_TEXT.fullmatch(text):
        raise ValueError(text)
    return float(text)


def is_number_text(text: str) -> bool:
    """Whether `text` is a decimal number (what `float_from_text` reads, bar NaN and
    the infinities)."""
    return _FLOAT_TEXT.fullmatch(text) is not None


def to_float(value: int | float | Decimal) -> float:
    """A number as a double: an integer or decimal beyond a double's range is +-Infinity
    (where `float()` raises OverflowError); a signalling NaN is a ValueError."""
    try:
        return float(value)
    except OverflowError:
        return math.inf if value > 0 else -math.inf


def from_epoch(seconds: int | float) -> dt.datetime:
    """Epoch seconds as an aware UTC datetime; SerializationError outside years 1-9999."""
    try:
        return dt.datetime.fromtimestamp(seconds, dt.UTC)
    except (OverflowError, OSError, ValueError, TypeError):
        raise SerializationError(f"Invalid timestamp: {number_text(seconds)}") from None


def number_text(number: int | float) -> str:
    """A number as an error message shows it: an integer of more than 40 digits (which may
    be past Python's int-str limit) in scientific notation."""
    if isinstance(number, int) and not -(10**40) < number < 10**40:
        return f"{Decimal(number):.6E}"
    if isinstance(number, float) and not math.isfinite(number):
        return "NaN" if number != number else ("Infinity" if number > 0 else "-Infinity")
    return str(number)
