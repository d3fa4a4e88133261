"""Coverage hours of each language queue: when a person can answer.

Outside them a conversation still enters its queue (so it is first in line at
opening time), flagged for callback, and the patient is told when a person will
reply. Crisis escalations ignore coverage: the crisis resources are given at once.

The file (``HANDOFF_COVERAGE_FILE``, default ``coverage.yml``)::

    timezone: America/New_York
    default: always                 # for a language not listed
    queues:
      en: always
      zh: {mon: "08:00-18:00", tue: "08:00-18:00", sat: "09:00-13:00"}   # days left out: closed
"""

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from pathlib import Path
from typing import Any, Optional, Union
from zoneinfo import ZoneInfo

import yaml

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
ALWAYS = "always"


class CoverageError(ValueError):
    """The coverage file is unusable."""


@dataclass(frozen=True)
class Window:
    opens: time
    closes: time
    """``time.max`` stands for 24:00."""


Schedule = Union[str, dict[str, list[Window]]]


def _parse_window(text: str) -> Window:
    try:
        start, end = (part.strip() for part in text.split("-"))
        opens = time.fromisoformat(start)
        closes = time.max if end == "24:00" else time.fromisoformat(end)
    except ValueError as error:
        raise CoverageError(f"bad coverage window {text!r}: use HH:MM-HH:MM") from error
    if closes <= opens:
        raise CoverageError(f"coverage window {text!r} closes before it opens")
    return Window(opens, closes)


def _parse_schedule(value: Any) -> Schedule:
    if value == ALWAYS:
        return ALWAYS
    if not isinstance(value, dict) or not set(value) <= set(DAYS):
        raise CoverageError(f"a schedule is 'always' or a mapping of {', '.join(DAYS)} to HH:MM-HH:MM")
    return {
        day: [_parse_window(window) for window in (hours if isinstance(hours, list) else [hours])]
        for day, hours in value.items()
    }


class CoverageHours:
    def __init__(self, timezone: str, schedules: dict[str, Schedule], default: Schedule = ALWAYS) -> None:
        self.timezone = ZoneInfo(timezone)
        self.schedules = schedules
        self.default = default

    @classmethod
    def always_open(cls) -> "CoverageHours":
        return cls("UTC", {})

    @classmethod
    def from_file(cls, path: Path) -> "CoverageHours":
        try:
            document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
            return cls(
                str(document.get("timezone", "UTC")),
                {str(code): _parse_schedule(value) for code, value in (document.get("queues") or {}).items()},
                _parse_schedule(document.get("default", ALWAYS)),
            )
        except (OSError, yaml.YAMLError, KeyError) as error:
            raise CoverageError(f"cannot read coverage hours {path}: {error}") from error

    def is_open(self, language: str, at: datetime) -> bool:
        schedule = self.schedules.get(language, self.default)
        if schedule == ALWAYS:
            return True
        assert isinstance(schedule, dict)
        local = at.astimezone(self.timezone)
        return any(
            window.opens <= local.time() <= window.closes for window in schedule.get(DAYS[local.weekday()], [])
        )

    def next_opening(self, language: str, at: datetime) -> Optional[datetime]:
        """When the queue next opens (``at`` itself if open now); None if it never opens."""
        schedule = self.schedules.get(language, self.default)
        if schedule == ALWAYS:
            return at
        assert isinstance(schedule, dict)
        local = at.astimezone(self.timezone)
        for offset in range(8):
            day = local.date() + timedelta(days=offset)
            for window in sorted(schedule.get(DAYS[day.weekday()], []), key=lambda w: w.opens):
                opening = datetime.combine(day, window.opens, self.timezone)
                closing = datetime.combine(day, window.closes, self.timezone)
                if offset == 0 and opening <= local <= closing:
                    return at
                if opening > local:
                    return opening
        return None
