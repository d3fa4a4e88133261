from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from handoff.coverage import CoverageError, CoverageHours

NEW_YORK = ZoneInfo("America/New_York")


@pytest.fixture
def coverage(tmp_path: Path) -> CoverageHours:
    path = tmp_path / "coverage.yml"
    path.write_text(
        "timezone: America/New_York\n"
        "default: always\n"
        "queues:\n"
        "  vi: {mon: '08:00-18:00', sat: ['09:00-12:00', '13:00-15:00']}\n"
        "  pt: {}\n"
    )
    return CoverageHours.from_file(path)


def test_open_inside_a_window_and_closed_outside(coverage: CoverageHours) -> None:
    monday_noon = datetime(2026, 11, 23, 12, 0, tzinfo=NEW_YORK)
    monday_night = datetime(2026, 11, 23, 22, 0, tzinfo=NEW_YORK)
    assert coverage.is_open("vi", monday_noon)
    assert not coverage.is_open("vi", monday_night)
    assert coverage.is_open("en", monday_night), "unlisted languages follow the default"
    assert not coverage.is_open("pt", monday_noon)


def test_next_opening_skips_closed_days_and_gaps(coverage: CoverageHours) -> None:
    monday_night = datetime(2026, 11, 23, 22, 0, tzinfo=NEW_YORK)
    assert coverage.next_opening("vi", monday_night) == datetime(2026, 11, 28, 9, 0, tzinfo=NEW_YORK)
    saturday_lunch = datetime(2026, 11, 28, 12, 30, tzinfo=NEW_YORK)
    assert coverage.next_opening("vi", saturday_lunch) == datetime(2026, 11, 28, 13, 0, tzinfo=NEW_YORK)
    assert coverage.next_opening("pt", monday_night) is None
    assert coverage.next_opening("en", monday_night) == monday_night


@pytest.mark.parametrize(
    "schedule", ["{mon: '18:00-08:00'}", "{funday: '08:00-09:00'}", "{mon: 'all day'}", "sometimes"]
)
def test_bad_schedules_are_refused(tmp_path: Path, schedule: str) -> None:
    path = tmp_path / "coverage.yml"
    path.write_text(f"queues:\n  en: {schedule}\n")
    with pytest.raises(CoverageError):
        CoverageHours.from_file(path)


def test_the_shipped_coverage_file_loads() -> None:
    coverage = CoverageHours.from_file(Path(__file__).resolve().parents[2] / "coverage.yml")
    assert coverage.is_open("en", datetime(2026, 11, 22, 3, 0, tzinfo=NEW_YORK))
