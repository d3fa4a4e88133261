"""A scripted day on real Redis and the real console app: ten conversations, four of them handed to a person (one a
crisis replayed twice from the spool after an outage, one escalated to phone, one with PHI told to an unverified
patient), three survey answers; then ``make report`` of the day prints exactly the figures the script implies, and
``/metrics`` agrees. Run with ``-s`` to see the report."""

import csv
import dataclasses
from datetime import datetime, timezone
from pathlib import Path

from aiohttp.test_utils import TestClient
from redis.asyncio import Redis

from handoff import KeyRing, KeySpace, LiveAgentQueue, Priority, Skill
from handoff.models import TranscriptRole
from handoff.operations import OperationsEvents
from handoff.spool import CrisisReplayer, CrisisSpool, SpooledCrisis
from handoff.surveys import Surveys
from stack.redis_server import RedisServer
from tests.integration.test_operations_metrics import scrape, sign_in, value
from tests.integration.test_operations_report import make_report
from tests.reaping import CATALOG

CONTAINED = 6
PHONE = {"number": "+1 555 010 4477", "best_time": "after 5 pm"}


async def test_a_scripted_day_reports_exactly_what_happened(
    operations_console: TestClient, redis: Redis, redis_server: RedisServer, keys: KeySpace, key_ring: KeyRing,
    key_ring_spec: str, tmp_path: Path
) -> None:
    queue, events = LiveAgentQueue(redis, key_ring, keys), OperationsEvents(redis, keys, key_ring)
    surveys = Surveys(queue, CATALOG, None, events)
    amy = await sign_in(operations_console, "amy")

    async def conversation(name: str, words: str) -> str:
        await events.conversation_started()
        await queue.record(name, TranscriptRole.PATIENT, words)
        return name

    async def work(name: str, replies: list[str], rating: str = "", phone: bool = False, disposition: str = "") -> None:
        assert (await operations_console.post(f"/api/conversations/{name}/claim", headers=amy)).status == 200
        for text in replies:
            sent = await operations_console.post(f"/api/conversations/{name}/messages", json={"text": text},
                                                 headers=amy)
            assert sent.status == 201
        if phone:
            assert (await operations_console.post(f"/api/conversations/{name}/phone-callback", json=PHONE,
                                       headers=amy)).status == 201
        body = {"outcome": "closed", **({"crisis_disposition": disposition} if disposition else {})}
        assert (await operations_console.post(f"/api/conversations/{name}/close", json=body, headers=amy)).status == 200
        if rating:
            assert await surveys.answer(name, rating, "en") == CATALOG.notice("en", "survey_thanks")

    for index in range(CONTAINED):
        await conversation(f"web-bot-{index}", "what are your hours")
        await events.bot_turn("en")
    for name, reason in (("web-bill", "billing_question"), ("web-phone", "patient_request"),
                         ("web-dob", "patient_request")):
        await conversation(name, "I need a person")
        result = await queue.enqueue_escalation(name, "en", Skill.GENERAL, Priority.NORMAL, reason)
        await events.escalated(name, result, reason, "en")
    await events.conversation_started()
    spool = CrisisSpool(tmp_path / "crisis-spool.jsonl", key_ring, keys.namespace)
    spooled = SpooledCrisis("web-crisis", "en", Skill.NURSE.value, "crisis_overdose_poisoning", "overdose_poisoning",
                            "took all my pills", "I took all my pills", ("Call or text 988 now, or call 911.",),
                            int(datetime.now(timezone.utc).timestamp() * 1000))
    entry = spool.append(spooled)
    spool.append(dataclasses.replace(spooled, entry_id=entry))
    assert await CrisisReplayer(spool, queue).replay_pending() == 1
    spool.append(dataclasses.replace(spooled, entry_id=entry))
    assert await CrisisReplayer(spool, queue).replay_pending() == 0, "replayed twice, stored once"

    await work("web-bill", ["Hi, this is Amy from billing.", "Your payment plan is set up."], rating="5")
    await work("web-phone", ["Hi, this is Amy."], rating="4", phone=True)
    await work("web-dob", ["Hi, is your date of birth 03/14/1962?"], rating="3")
    await work("web-crisis", ["I'm here with you. Are you safe right now?"], disposition="phone_follow_up_done")

    today = datetime.now(timezone.utc).date().isoformat()
    done = await make_report(redis_server, keys, key_ring_spec, tmp_path, "--since", today, "--until", today)
    assert done.returncode == 0, done.stderr
    print(done.stdout)
    rows = list(csv.DictReader((tmp_path / f"operations-{today}-{today}.csv").open()))
    seed = {row["name"]: (row["label"], row["status"]) for row in rows if row["section"] == "seed_metric"}
    assert seed["containment"] == ("60.0 %", "off target"), "6 of 10 conversations stayed with the bot"
    assert seed["resolution_without_phone"] == ("50.0 %", "off target"), "the crisis and the callback needed a phone"
    assert seed["csat"] == ("4.00 / 5", "off target"), "(5 + 4 + 3) / 3"
    assert seed["escalation_accuracy"] == ("100.0 %", "on target")
    assert seed["first_response"][1] == "on target"
    assert seed["phone_volume_reduction"] == ("not measured", "not measured")
    counts = {row["name"]: int(row["value"]) for row in rows if row["section"] == "count"}
    assert {name: counts[name] for name in ("conversations", "handoffs", "crisis_escalations", "episodes_closed",
                                            "phone_escalations", "csat_answers")} == {
        "conversations": 10, "handoffs": 4, "crisis_escalations": 1, "episodes_closed": 4, "phone_escalations": 2,
        "csat_answers": 3}
    rates = {row["name"]: row["value"] for row in rows if row["section"] == "compliance_rate"}
    assert rates["phi_to_unverified_patient"] == "0.75" and rates["survey_offered"] == "1.0"
    assert {rule for rule, rate in rates.items() if rate != "1.0"} == {"phi_to_unverified_patient"}

    _, samples = await scrape(operations_console)
    assert value(samples, "hcb_crisis_escalations_total", category="overdose_poisoning", language="en") == 1
    assert sum(count for (name, _), count in samples.items() if name == "hcb_phone_escalations_total") == 2
    assert value(samples, "hcb_resolution_without_phone_ratio") == 0.5
