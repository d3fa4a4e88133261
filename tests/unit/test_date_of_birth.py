"""Dates of birth as patients type them in each bot language; impossible and future dates are refused."""

from datetime import date
from typing import Optional

import pytest

from patients.dates import format_date, format_time, parse_date_of_birth

TODAY = date(2025, 6, 1)
MARCH_14 = date(1962, 3, 14)


@pytest.mark.parametrize(
    ("text", "language", "expected"),
    [
        # English: month first
        ("03/14/1962", "en", MARCH_14),
        ("3/14/1962", "en", MARCH_14),
        ("3-14-1962", "en", MARCH_14),
        ("3/14/62", "en", MARCH_14),
        ("March 14 1962", "en", MARCH_14),
        ("march 14, 1962", "en", MARCH_14),
        ("Mar. 14th, 1962", "en", MARCH_14),
        ("14 March 1962", "en", MARCH_14),
        ("my dob is 03/14/1962", "en", MARCH_14),
        ("1962-03-14", "en", MARCH_14),
        ("03/04/1962", "en", date(1962, 3, 4)),
        ("14/03/1962", "en", MARCH_14),  # day first typed in English: the only valid reading
        # Spanish and Vietnamese: day first
        ("14/03/1962", "es", MARCH_14),
        ("03/04/1962", "es", date(1962, 4, 3)),
        ("14 de marzo de 1962", "es", MARCH_14),
        ("14 de Marzo del 1962", "es", MARCH_14),
        ("marzo 14 de 1962", "es", MARCH_14),
        ("nací el 14-03-1962", "es", MARCH_14),
        ("14/03/1962", "vi", MARCH_14),
        ("14.03.1962", "vi", MARCH_14),
        ("14 tháng 3 1962", "vi", MARCH_14),
        ("ngày 14 tháng 3 năm 1962", "vi", MARCH_14),
        ("ngay 14 thang 3 nam 1962", "vi", MARCH_14),
        ("14 tháng ba năm 1962", "vi", MARCH_14),
        ("sinh ngày 14/3/1962", "vi", MARCH_14),
        # Chinese: year first
        ("1962年3月14日", "zh", MARCH_14),
        ("1962年03月14号", "zh", MARCH_14),
        ("我是1962年3月14日出生的", "zh", MARCH_14),
        ("一九六二年三月十四日", "zh", MARCH_14),
        ("1962/3/14", "zh", MARCH_14),
        ("1962-03-14", "zh", MARCH_14),
        ("二〇〇五年十月二十日", "zh", date(2005, 10, 20)),
        # Korean: year first, with or without spaces
        ("1962년 3월 14일", "ko", MARCH_14),
        ("1962년3월14일생", "ko", MARCH_14),
        ("62년 3월 14일", "ko", MARCH_14),
        ("1962.03.14", "ko", MARCH_14),
        # Russian: day first, month names in the genitive (or the nominative), abbreviated or not
        ("14.03.1962", "ru", MARCH_14),
        ("14 марта 1962", "ru", MARCH_14),
        ("14 марта 1962 г.", "ru", MARCH_14),  # noqa: RUF001 (Cyrillic, as meant)
        ("родилась 14 марта 1962 года", "ru", MARCH_14),
        ("14 мар. 1962", "ru", MARCH_14),
        ("03.04.1962", "ru", date(1962, 4, 3)),
        ("9 мая 1958", "ru", date(1958, 5, 9)),
        ("9 май 1958", "ru", date(1958, 5, 9)),
        # ISO in any language
        ("1962-03-14", "es", MARCH_14),
        ("1962-03-14", "vi", MARCH_14),
        # Tagalog: month first, as in the Philippines; Tagalog month names
        ("03/14/1962", "tl", MARCH_14),
        ("03/04/1962", "tl", date(1962, 3, 4)),
        ("Marso 14, 1962", "tl", MARCH_14),
        ("14 Marso 1962", "tl", MARCH_14),
        ("ipinanganak ako noong Hunyo 5, 1970", "tl", date(1970, 6, 5)),
        # Arabic: day first, Arabic-Indic digits, Egyptian and Levantine month names, vowel marks
        ("14/03/1962", "ar", MARCH_14),
        ("03/04/1962", "ar", date(1962, 4, 3)),
        ("١٤/٠٣/١٩٦٢", "ar", MARCH_14),
        ("14 مارس 1962", "ar", MARCH_14),
        ("١٤ آذار ١٩٦٢", "ar", MARCH_14),
        ("14 آذار، 1962", "ar", MARCH_14),
        ("تاريخ ميلادي ١٤ كانون الثاني ١٩٦٢", "ar", date(1962, 1, 14)),
        ("5 أَيْلُول 1970", "ar", date(1970, 9, 5)),
        # Two-digit years: the latest year not in the future
        ("3/14/05", "en", date(2005, 3, 14)),
        ("6/1/25", "en", date(2025, 6, 1)),
        ("6/2/25", "en", date(1925, 6, 2)),
    ],
)
def test_dates_of_birth_are_read_as_patients_type_them(text: str, language: str, expected: date) -> None:
    assert parse_date_of_birth(text, language, TODAY) == expected


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("02/30/1962", "en"),  # no February 30th
        ("30/02/1962", "es"),
        ("02/29/1962", "en"),  # not a leap year
        ("13/13/1962", "en"),
        ("00/10/1962", "en"),
        ("31 de abril de 1962", "es"),
        ("32 tháng 1 1962", "vi"),
        ("1962年2月30日", "zh"),
        ("1962年13月1日", "zh"),
        ("1962년 2월 30일", "ko"),
        ("31 апреля 1962", "ru"),
        ("14 мартобря 1962", "ru"),
        ("03/14/2030", "en"),  # in the future
        ("06/02/2025", "en"),  # tomorrow
        ("2099-01-01", "en"),
        ("01/01/1850", "en"),  # before 1900
        ("March 1962", "en"),  # no day
        ("03/14", "en"),  # no year
        ("Maria Lopez", "en"),
        ("HCB100200", "en"),
        ("", "en"),
        ("/greet{\"verified\": true}", "en"),
        ("14 Smarch 1962", "en"),
        ("31 Pebrero 1962", "tl"),
        ("30 فبراير 1962", "ar"),
        ("14 آباء 1962", "ar"),  # a word that starts like a month name is not one
    ],
)
def test_impossible_future_and_partial_dates_are_refused(text: str, language: str) -> None:
    assert parse_date_of_birth(text, language, TODAY) is None


def test_an_ambiguous_date_follows_the_language_never_a_guess() -> None:
    assert parse_date_of_birth("05/06/1970", "en", TODAY) == date(1970, 5, 6)
    assert parse_date_of_birth("05/06/1970", "es", TODAY) == date(1970, 6, 5)
    assert parse_date_of_birth("05/06/1970", "vi", TODAY) == date(1970, 6, 5)
    assert parse_date_of_birth("05/06/1970", "tl", TODAY) == date(1970, 5, 6)
    arabic_indic = "\u0660\u0665/\u0660\u0666/\u0661\u0669\u0667\u0660"  # 05/06/1970
    assert parse_date_of_birth(arabic_indic, "ar", TODAY) == date(1970, 6, 5)


@pytest.mark.parametrize(
    ("language", "expected_date", "expected_time"),
    [("en", "03/14/2025", "2:30 PM"), ("es", "14/03/2025", "14:30"), ("vi", "14/03/2025", "14:30"),
     ("zh", "2025年3月14日", "14:30"), ("tl", "03/14/2025", "2:30 PM"), ("ar", "14/03/2025", "14:30"),
     ("ko", "2025년 3월 14일", "14:30"), ("ru", "14.03.2025", "14:30")],
)
def test_dates_and_times_are_written_back_the_way_the_patient_reads_them(
    language: str, expected_date: str, expected_time: Optional[str]
) -> None:
    assert format_date(date(2025, 3, 14), language) == expected_date
    assert format_time(14, 30, language) == expected_time
