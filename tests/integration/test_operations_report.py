"""``make report`` on real Redis: the period's seed metrics printed, the CSV and the HTML made from the stored events,
nothing from outside the period, no conversation id or text in either file; bad dates change nothing."""

import asyncio
import csv
import os
import shutil
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

from redis.asyncio import Redis

from handoff import KeyRing, KeySpace, LiveAgentQueue, Priority, Skill
from handoff.operations import OperationsEvents
from stack.redis_server import RedisServer

PROJECT_DIR = Path(__file__).resolve().parents[2]
PATIENT = "sms:15550109911"


async def make_report(redis_server: RedisServer, keys: KeySpace, key_ring_spec: str, out: Path, *arguments: str
                      ) -> "subprocess.CompletedProcess[str]":
    environment = dict(os.environ, REDIS_URL=redis_server.url, HANDOFF_NAMESPACE=keys.namespace,
                       HANDOFF_DATA_KEYS=key_ring_spec, PYTHONPATH=str(PROJECT_DIR))
    return await asyncio.to_thread(
        subprocess.run, [sys.executable, "-m", "handoff.operations_report", "--out", str(out), *arguments],
        cwd=PROJECT_DIR, env=environment, capture_output=True, text=True, timeout=120)


async def test_the_report_of_today_has_today_s_figures_and_plots(
    redis: Redis, redis_server: RedisServer, keys: KeySpace, key_ring: KeyRing, key_ring_spec: str, tmp_path: Path
) -> None:
    events = OperationsEvents(redis, keys, key_ring)
    queue = LiveAgentQueue(redis, key_ring, keys)
    for _ in range(4):
        await events.conversation_started()
        await events.bot_turn("en")
    result = await queue.enqueue_escalation(PATIENT, "es", Skill.BILLING, Priority.NORMAL, "billing_question")
    await events.escalated(PATIENT, result, "billing_question", "es")
    await events.episode_closed("es", "normal", "closed", True, "phone_follow_up_done", 300.0)
    await events.episode_closed("es", "normal", "closed", False, None, 120.0)
    await events.survey_answered(5, "es")
    await events.survey_answered(4, "es")
    today = datetime.now(timezone.utc).date()

    done = await make_report(redis_server, keys, key_ring_spec, tmp_path, "--since", today.isoformat(),
                             "--until", today.isoformat())
    assert done.returncode == 0, done.stderr
    assert "Bot containment" in done.stdout and "75.0 %" in done.stdout
    assert "Resolved without phone escalation" in done.stdout and "50.0 %" in done.stdout
    assert "4.50 / 5" in done.stdout
    html = tmp_path / f"operations-{today}-{today}.html"
    rows = list(csv.DictReader((tmp_path / f"operations-{today}-{today}.csv").open()))
    seed = {row["name"]: row for row in rows if row["section"] == "seed_metric"}
    assert seed["containment"]["value"] == "0.75" and seed["containment"]["status"] == "off target"
    assert seed["resolution_without_phone"]["status"] == "off target"
    assert seed["csat"]["value"] == "4.5" and seed["csat"]["status"] == "on target"
    assert seed["phone_volume_reduction"]["status"] == "not measured"
    assert {(row["name"], row["value"]) for row in rows if row["section"] == "handoffs_by_reason"} == {
        ("billing_question", "1")}
    for made in (html, tmp_path / f"operations-{today}-{today}.csv"):
        assert PATIENT not in made.read_text() and "15550109911" not in made.read_text()
    page = html.read_text()
    assert "<script src=" not in page and "window.Charts" in page and "OperationsPlots.draw(" in page, "self-contained"

    yesterday = today - timedelta(days=1)
    earlier = await make_report(redis_server, keys, key_ring_spec, tmp_path, "--since", yesterday.isoformat(),
                                "--until", yesterday.isoformat())
    assert earlier.returncode == 0 and "conversations 0" in earlier.stdout, "nothing from outside the period"
    assert "compliance by rule: not measured (no transcript reviews); target 100 %" in earlier.stdout
    for line in earlier.stdout.splitlines()[1:8]:
        assert "target" in line and line.rstrip().endswith("not measured"), line
    empty = list(csv.DictReader((tmp_path / f"operations-{yesterday}-{yesterday}.csv").open()))
    assert all(row["target"] for row in empty), "every figure carries its DOMAIN.md target"
    plots = {row["section"]: row for row in empty if row["section"] not in ("seed_metric", "count")}
    assert set(plots) == {"handoffs_by_reason", "queue_wait_mean_seconds", "containment", "csat_answers",
                          "crisis_first_response_seconds", "compliance_rate"}
    assert {row["status"] for row in plots.values()} == {"not measured"}, "no events: not measured, never 0"
    assert {row["status"] for row in empty if row["section"] == "seed_metric"} == {"not measured"}
    assert all(row["target"] for row in rows), "every figure carries its DOMAIN.md target"
    assert {row["status"] for row in rows if row["section"] == "queue_wait_mean_seconds"} == {"not measured"}, (
        "today has a handoff but no claim: the queue wait is not measured")


async def test_bad_dates_are_refused_and_nothing_is_written(
    redis_server: RedisServer, keys: KeySpace, key_ring_spec: str, tmp_path: Path
) -> None:
    for arguments in (("--since", "last week"), ("--since", "2026-11-20", "--until", "2026-11-01")):
        done = await make_report(redis_server, keys, key_ring_spec, tmp_path / "out", *arguments)
        assert done.returncode == 2, done.stdout
        assert "--since" in done.stderr or "--until" in done.stderr
    assert not (tmp_path / "out").exists()


def test_make_report_runs_the_report() -> None:
    make = shutil.which("make")
    assert make is not None
    dry = subprocess.run([make, "-n", "-o", ".venv/bin/.installed", "report", "SINCE=2026-11-01",
                          "UNTIL=2026-11-30"], cwd=PROJECT_DIR, capture_output=True, text=True, timeout=60)
    assert dry.returncode == 0, dry.stderr
    assert "-m handoff.operations_report --since 2026-11-01 --until 2026-11-30" in dry.stdout
