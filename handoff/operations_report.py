"""``make report`` (``python -m handoff.operations_report --since ... --until ...``): the operations report of a date
range from the stored operations events, as HTML (the dashboard's plots, drawn by the same scripts, inlined: the
file opens anywhere, offline) and CSV, and the seed metrics printed.

The files hold codes and counts, no conversation and no text; findings' evidence stays sealed in Redis (the
dashboard shows it to supervisors). Reads ``REDIS_URL``, ``HANDOFF_NAMESPACE`` and ``HANDOFF_DATA_KEYS`` (the events
are sealed at rest).
"""

import argparse
import asyncio
import csv
import io
import json
import sys
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from string import Template
from typing import Any, Optional

from redis.asyncio import Redis

from handoff.crypto import KeyRing, KeyRingError
from handoff.keys import KeySpace
from handoff.operations import OperationsEvents
from handoff.operations_summary import NOT_MEASURED, summarize
from handoff.settings import HandoffSettings, SettingsError

STATIC_DIR = Path(__file__).parent / "static"
DEFAULT_OUT = Path(".data/reports")
CSV_SECTIONS = {
    "handoffs_by_reason": "handoffs_by_reason", "queue_wait": "queue_wait_mean_seconds", "containment": "containment",
    "csat_distribution": "csat_answers", "crisis_first_response": "crisis_first_response_seconds",
    "compliance_by_rule": "compliance_rate",
}
"""The CSV's section of each plot's series."""


def report_csv(summary: dict[str, Any]) -> str:
    """One table, ``section`` first: the seed metrics, the counts and every plot's series, each row with its DOMAIN.md
    target; a plot without events in the period is one row, ``not measured``."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["section", "name", "label", "value", "target", "status"])
    for metric in summary["seed_metrics"]:
        writer.writerow(["seed_metric", metric["key"], metric["shown"],
                         "" if metric["value"] is None else round(metric["value"], 4), metric["target"],
                         _status(metric["met"])])
    targets = summary["targets"]
    for name, count in summary["counts"].items():
        writer.writerow(["count", name, "", count, targets["counts"], ""])
    series: dict[str, list[list[Any]]] = {
        "handoffs_by_reason": [[reason, "", count] for reason, count in summary["handoffs_by_reason"]],
        "queue_wait": [[language, _day_or_hour(at_ms), round(seconds, 1)]
                       for language, points in summary["queue_wait"].items() for at_ms, seconds in points],
        "containment": [["", _day_or_hour(at_ms), round(ratio, 4)] for at_ms, ratio in summary["containment"]],
        "csat_distribution": [[score, "", count] for score, count in summary["csat_distribution"]
                              if any(answers for _, answers in summary["csat_distribution"])],
        "crisis_first_response": [["", _day_or_hour(at_ms), round(seconds, 1)]
                                  for at_ms, seconds in summary["crisis_first_response"]],
        "compliance_by_rule": [[rule, f"{findings} findings", round(rate, 4)]
                               for rule, rate, findings in summary["compliance_by_rule"]],
    }
    for section, rows in series.items():
        for name, label, value in rows:
            writer.writerow([CSV_SECTIONS[section], name, label, value, targets[section], ""])
        if not rows:
            writer.writerow([CSV_SECTIONS[section], "", "", "", targets[section], NOT_MEASURED])
    return out.getvalue()


def _status(met: Optional[bool]) -> str:
    return NOT_MEASURED if met is None else "on target" if met else "off target"


def report_html(summary: dict[str, Any], period: str) -> str:
    template = Template((STATIC_DIR / "report.html").read_text())
    return template.substitute(
        period=period,
        generated=datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        styles=(STATIC_DIR / "operations.css").read_text(),
        summary=json.dumps(summary).replace("</", "<\\/"),
        charts=(STATIC_DIR / "charts.js").read_text(),
        plots=(STATIC_DIR / "operations-plots.js").read_text(),
    )


def _day_or_hour(at_ms: int) -> str:
    return datetime.fromtimestamp(at_ms / 1000, timezone.utc).strftime("%Y-%m-%d %H:%M")


async def write_report(redis: Redis, keys: KeySpace, key_ring: KeyRing, since: date, until: date,
                       out_dir: Path) -> tuple[Path, Path, dict[str, Any]]:
    """The HTML and CSV of ``[since, until]`` (whole UTC days) in ``out_dir``; returns their paths and the summary."""
    since_ms, until_ms = _midnight_ms(since), _midnight_ms(until + timedelta(days=1)) - 1
    summary = summarize(await OperationsEvents(redis, keys, key_ring).events(since_ms, until_ms), since_ms, until_ms)
    stem = out_dir / f"operations-{since.isoformat()}-{until.isoformat()}"
    html, table = stem.with_suffix(".html"), stem.with_suffix(".csv")
    await asyncio.to_thread(_write, {html: report_html(summary, f"{since.isoformat()} to {until.isoformat()}"),
                                     table: report_csv(summary)})
    return html, table, summary


def _midnight_ms(day: date) -> int:
    return int(datetime.combine(day, datetime.min.time(), timezone.utc).timestamp() * 1000)


def _write(files: dict[Path, str]) -> None:
    for path, text in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


async def _run(since: date, until: date, out_dir: Path) -> int:
    try:
        settings = HandoffSettings.from_env()
        key_ring = settings.key_ring()
    except (SettingsError, KeyRingError) as error:
        print(f"error: {error}; nothing was read or written", file=sys.stderr)
        return 2
    redis = Redis.from_url(settings.redis_url)
    try:
        html, table, summary = await write_report(redis, KeySpace(settings.namespace), key_ring, since, until,
                                                  out_dir)
    finally:
        await redis.close()
    print(f"operations {since.isoformat()} to {until.isoformat()} (UTC)")
    for metric in summary["seed_metrics"]:
        status = _status(metric["met"]).replace("off target", "OFF TARGET")
        print(f"  {metric['name']:42} {metric['shown']:28} target {metric['target']:30} {status}")
    targets = summary["targets"]
    print("  " + ", ".join(f"{name.replace('_', ' ')} {count}" for name, count in summary["counts"].items())
          + f" (target: {targets['counts']})")
    compliance_target = targets["compliance_by_rule"]
    for rule, rate, findings in summary["compliance_by_rule"]:
        print(f"  compliance {rule:28} {100 * rate:6.1f} % ({findings} findings) target {compliance_target}")
    if not summary["compliance_by_rule"]:
        print(f"  compliance by rule: {NOT_MEASURED} (no transcript reviews); target {compliance_target}")
    print(f"wrote {html} and {table}")
    return 0


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m handoff.operations_report", description=__doc__)
    today = datetime.now(timezone.utc).date()
    parser.add_argument("--since", default=(today - timedelta(days=29)).isoformat(),
                        help="first day, YYYY-MM-DD (UTC; default: 30 days ago)")
    parser.add_argument("--until", default=today.isoformat(), help="last day, YYYY-MM-DD (UTC; default: today)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"directory (default {DEFAULT_OUT})")
    arguments = parser.parse_args()
    try:
        since, until = date.fromisoformat(arguments.since), date.fromisoformat(arguments.until)
    except ValueError:
        parser.error("--since and --until must be dates such as 2026-11-01")
    if until < since:
        parser.error("--until must not be before --since")
    sys.exit(asyncio.run(_run(since, until, arguments.out)))


if __name__ == "__main__":
    main()
