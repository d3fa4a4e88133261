"""Dates of birth as patients type them, in each bot language, and dates written back to them.

Pure functions, no Rasa import. ``parse_date_of_birth`` reads

* ISO and year-first dates: ``1962-03-14``, ``1962/3/14``, ``1962.03.14``;
* numeric dates in the order of the patient's language: month first in English
  (``03/14/1962``), day first in Spanish and Vietnamese (``14/03/1962``); when one
  order gives no valid date and the other does (``14/03/1962`` typed in English),
  the valid one is taken;
* Chinese and Korean dates: ``1962年3月14日``, ``1962年03月14号``, ``一九六二年三月十四日``,
  ``1962년 3월 14일``;
* month names of every bot language, in any of them: ``March 14 1962``,
  ``14 March 1962``, ``Mar. 14th, 1962``, ``14 de marzo de 1962``,
  ``14 tháng 3 1962``, ``ngày 14 tháng ba năm 1962``, ``Marso 14, 1962``, ``14 марта 1962``,
  ``14 مارس 1962``, ``١٤ آذار ١٩٦٢`` (Arabic-Indic digits read as digits).

It returns ``None`` for anything else, for impossible dates (``02/30/1962``),
dates in the future and years before 1900. Two-digit years are the latest year
not in the future (``3/14/62`` is 1962, ``3/14/05`` is 2005).
"""

import re
import unicodedata
from datetime import date
from typing import Optional

EARLIEST_YEAR = 1900

DAY_FIRST_LANGUAGES = frozenset({"es", "vi", "fr", "pt", "ht", "ru", "ar"})
"""Languages whose patients write numeric dates day first; the rest write month first (US, and
the Philippines: Tagalog)."""

MONTH_NAMES: dict[str, int] = {}
for _number, _names in enumerate(
    (
        "january jan enero ene январь января янв",
        "february feb febrero pebrero февраль февраля фев",
        "march mar marzo marso март марта мар",
        "april apr abril abr апрель апреля апр",
        "may mayo маи мая",
        "june jun junio hunyo июнь июня июн",
        "july jul julio hulyo июль июля июл",
        "august aug agosto ago август августа авг",
        "september sep sept septiembre setiembre set setyembre сентябрь сентября сен сент",
        "october oct octubre oktubre октябрь октября окт",
        "november nov noviembre nobyembre ноябрь ноября ноя",
        "december dec diciembre dic disyembre декабрь декабря дек",
    ),
    start=1,
):
    for _name in _names.split():
        MONTH_NAMES[_name] = _number
"""Month names as ``_fold`` leaves them (Russian ``май`` is ``маи``: the breve goes with the accents)."""

ARABIC_MONTH_WORDS = {
    "يناير": 1, "كانون الثاني": 1, "فبراير": 2, "شباط": 2, "مارس": 3, "آذار": 3, "أبريل": 4, "إبريل": 4,
    "نيسان": 4, "مايو": 5, "أيار": 5, "يونيو": 6, "يونية": 6, "حزيران": 6, "يوليو": 7, "يولية": 7, "تموز": 7,
    "أغسطس": 8, "آب": 8, "سبتمبر": 9, "أيلول": 9, "أكتوبر": 10, "تشرين الأول": 10, "نوفمبر": 11,
    "تشرين الثاني": 11, "ديسمبر": 12, "كانون الأول": 12,
}
"""Arabic month names, Egyptian and Gulf (``مارس``) and Levantine (``آذار``); they are folded like the
text (``آذار`` -> ``اذار``) and read as the English month name."""

VIETNAMESE_MONTH_WORDS = {
    "mot": 1, "gieng": 1, "hai": 2, "ba": 3, "tu": 4, "bon": 4, "nam": 5, "sau": 6, "bay": 7,
    "tam": 8, "chin": 9, "muoi": 10, "muoi mot": 11, "muoi hai": 12, "chap": 12,
}
"""``tháng ba`` is March; accents are stripped before lookup (``tháng tư`` -> ``thang tu``)."""

CHINESE_DIGITS = dict(zip("\u3007零一二两三四五六七八九", (0, 0, 1, 2, 2, 3, 4, 5, 6, 7, 8, 9), strict=True))
"""Chinese numerals (``\u3007`` is the ideographic zero) as digits."""
CHINESE_TENS = re.compile("([一二两三四五六七八九])?十([一二三四五六七八九])?")

NUMERIC = re.compile(r"(?<!\d)(\d{1,4})\s*[/.\-]\s*(\d{1,2})\s*[/.\-]\s*(\d{1,4})(?!\d)")
YEAR_MONTH_DAY = re.compile(r"(\d{2,4})\s*[年년]\s*(\d{1,2})\s*[月월]\s*(\d{1,2})\s*[日号號일]?")
"""Chinese ``1962年3月14日`` and Korean ``1962년 3월 14일``."""
YEAR_MONTH_DAY_WORDS = {"zh": ("年", "月", "日"), "ko": ("년 ", "월 ", "일")}
"""How ``format_date`` writes a date in the languages that spell out year, month and day."""
NUMERIC_DATE_SEPARATORS = {"ru": "."}
"""``format_date``'s separator where it is not a slash: 14.03.2025 in Russian."""
VIETNAMESE = re.compile(
    r"(?:ngay\s*)?(\d{1,2})\s*thang\s*(\d{1,2}(?!\d)|muoi mot|muoi hai|[a-z]+)"
    r"\s*(?:nam\s*)?[,/.\-]?\s*(\d{2,4})(?!\d)"
)
YEAR_TAIL = r"\.?\s*,?\s*(?:de\s+|del\s+)?(\d{2,4})(?!\d)"
WORD = r"[^\W\d_]+"
"""A word of letters in any script (Latin and Cyrillic month names)."""
DAY_MONTH_YEAR = re.compile(r"(?<!\d)(\d{1,2})(?:st|nd|rd|th|º|°)?\s*(?:de\s+)?(" + WORD + ")" + YEAR_TAIL)
MONTH_DAY_YEAR = re.compile(
    r"(?<![^\W\d_])(" + WORD + r")\.?\s*(\d{1,2})(?!\d)(?:st|nd|rd|th)?" + YEAR_TAIL.removeprefix(r"\.?")
)


def _digits(text: str) -> str:
    """Chinese numerals as ASCII digits: 一九六二 -> 1962, 十 -> 10, 十四 -> 14, 二十三 -> 23."""

    def tens(match: "re.Match[str]") -> str:
        high = CHINESE_DIGITS[match.group(1)] if match.group(1) else 1
        low = CHINESE_DIGITS[match.group(2)] if match.group(2) else 0
        return str(high * 10 + low)

    text = CHINESE_TENS.sub(tens, text)
    return "".join(str(CHINESE_DIGITS[c]) if c in CHINESE_DIGITS else c for c in text)


def _fold(text: str) -> str:
    """Chinese digits as ASCII, lower case, accents and Arabic vowel marks off (``đ`` too, hamza
    and madda on alif: plain alif), the Arabic comma as a comma, spaces collapsed."""
    text = unicodedata.normalize("NFKD", _digits(text).casefold()).replace("đ", "d").replace("،", ",")
    text = "".join(c for c in text if not unicodedata.combining(c))
    return " ".join(text.split())


ARABIC_MONTHS = re.compile(
    "|".join(rf"(?<!\w){re.escape(_fold(name))}(?!\w)" for name in sorted(ARABIC_MONTH_WORDS, key=len, reverse=True))
)
ARABIC_MONTH_BY_FOLDED = {_fold(name): number for name, number in ARABIC_MONTH_WORDS.items()}
ENGLISH_MONTHS = ("january", "february", "march", "april", "may", "june", "july", "august", "september",
                  "october", "november", "december")


def _arabic_months_in_english(folded: str) -> str:
    """``14 مارس 1962`` -> ``14 march 1962``, so the month-name patterns read it."""
    return ARABIC_MONTHS.sub(lambda m: ENGLISH_MONTHS[ARABIC_MONTH_BY_FOLDED[m.group(0)] - 1], folded)


def _valid(raw_year: str, month: int, day: int, today: date) -> Optional[date]:
    """The date, if it exists and is not in the future; a two-digit year is the latest such."""
    if len(raw_year) == 2:
        return _exact(2000 + int(raw_year), month, day, today) or _exact(1900 + int(raw_year), month, day, today)
    if len(raw_year) == 4:
        return _exact(int(raw_year), month, day, today)
    return None


def _exact(year: int, month: int, day: int, today: date) -> Optional[date]:
    try:
        value = date(year, month, day)
    except ValueError:
        return None
    if value > today or value.year < EARLIEST_YEAR:
        return None
    return value


def parse_date_of_birth(text: str, language: str, today: Optional[date] = None) -> Optional[date]:
    """The date of birth in ``text``, read the way patients of ``language`` write dates."""
    today = today or date.today()
    folded = _fold(text)

    match = YEAR_MONTH_DAY.search(_digits(text).replace(" ", ""))
    if match:
        return _valid(match.group(1), int(match.group(2)), int(match.group(3)), today)

    match = NUMERIC.search(folded)
    if match:
        return _numeric(match.group(1), match.group(2), match.group(3), language, today)

    folded = _arabic_months_in_english(folded)
    match = VIETNAMESE.search(folded)
    if match:
        month_word = match.group(2)
        month = int(month_word) if month_word.isdigit() else VIETNAMESE_MONTH_WORDS.get(month_word)
        if month is not None:
            return _valid(match.group(3), month, int(match.group(1)), today)

    for match in DAY_MONTH_YEAR.finditer(folded):
        month = MONTH_NAMES.get(match.group(2))
        if month is not None:
            return _valid(match.group(3), month, int(match.group(1)), today)

    for match in MONTH_DAY_YEAR.finditer(folded):
        month = MONTH_NAMES.get(match.group(1))
        if month is not None:
            return _valid(match.group(3), month, int(match.group(2)), today)
    return None


def _numeric(first: str, second: str, third: str, language: str, today: date) -> Optional[date]:
    if len(first) == 4:
        return _valid(first, int(second), int(third), today)
    if len(third) not in (2, 4) or len(first) > 2:
        return None
    year = third
    a, b = int(first), int(second)
    day_first = language in DAY_FIRST_LANGUAGES
    preferred = _valid(year, b, a, today) if day_first else _valid(year, a, b, today)
    if preferred is not None:
        return preferred
    # The other order only when the language's order is impossible (a "month" above 12).
    if (b if day_first else a) > 12:
        return _valid(year, a, b, today) if day_first else _valid(year, b, a, today)
    return None


def format_date(value: date, language: str) -> str:
    """A date the way patients of ``language`` read it: 03/14/2025, 14/03/2025, 14.03.2025, 2025年3月14日."""
    if language in YEAR_MONTH_DAY_WORDS:
        year, month, day = YEAR_MONTH_DAY_WORDS[language]
        return f"{value.year}{year}{value.month}{month}{value.day}{day}"
    separator = NUMERIC_DATE_SEPARATORS.get(language, "/")
    if language in DAY_FIRST_LANGUAGES:
        return separator.join((f"{value.day:02d}", f"{value.month:02d}", str(value.year)))
    return separator.join((f"{value.month:02d}", f"{value.day:02d}", str(value.year)))


TWELVE_HOUR_LANGUAGES = frozenset({"en", "tl"})
"""Languages whose patients read times as 2:30 PM (the US, the Philippines); elsewhere 14:30."""


def format_time(hour: int, minute: int, language: str) -> str:
    """A time of day: 2:30 PM in English and Tagalog, 14:30 elsewhere."""
    if language in TWELVE_HOUR_LANGUAGES:
        suffix = "AM" if hour < 12 else "PM"
        return f"{(hour % 12) or 12}:{minute:02d} {suffix}"
    return f"{hour:02d}:{minute:02d}"
