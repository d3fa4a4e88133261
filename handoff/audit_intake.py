"""Audit entries from processes that do not hold the audit keys: the Rasa server and the action server.

Design: a Rasa server faces the internet and seals PHI, but must not be able to forge, rewrite or delete the
audit log. So only the console (and the operator's commands) get ``HANDOFF_AUDIT_KEYS``; a Rasa process
appends what it must audit (the incidents it detects) to an **intake** stream, each entry MACed under the
data keys with its own purpose, so that write access to Redis alone cannot slip one in. The console
**admits** intake entries: each is checked, signed under the audit key with ``via: intake`` and moved into
the log by one script that deletes the intake entry and appends the signed one together, so an entry is
admitted once even with several consoles. An intake entry whose MAC fails becomes an
``audit_intake_rejected`` entry and raises an ``audit_chain_broken`` incident. The console admits in its
sealer's rounds and before it lists the log, so what a supervisor reads is up to date.
"""

import json
from dataclasses import replace
from typing import Optional

from redis.asyncio import Redis

from handoff.audit import AuditEntry, AuditLog, new_entry
from handoff.crypto import KeyRing
from handoff.incidents import IncidentKind, IncidentLog
from handoff.keys import KeySpace
from handoff.redis_values import decoded, text_of

INTAKE_PURPOSE = "audit-intake"
INTAKE = "intake"
ADMIT_BATCH = 500
ADMITTER = "system"

ADMIT_SCRIPT = """
local intake, log = KEYS[1], KEYS[2]
local admitted = 0
for index = 1, #ARGV, 4 do
  if redis.call('XDEL', intake, ARGV[index]) == 1 then
    redis.call('XADD', log, '*', 'entry', ARGV[index + 1], 'key', ARGV[index + 2], 'mac', ARGV[index + 3])
    admitted = admitted + 1
  end
end
return admitted
"""
"""Moves intake entries into the log, each once: one removed from the intake is one appended, signed."""


class AuditIntake:
    """The audit writer of a process without the audit keys; its entries reach the log when the console admits
    them."""

    def __init__(self, keys: KeySpace, data_keys: KeyRing) -> None:
        self.keys = keys
        self.data_keys = data_keys

    def stream(self) -> str:
        return self.keys.audit_intake()

    def prepare(self, actor: str, action: str, conversation: str, source: Optional[str]) -> dict[str, str]:
        encoded = new_entry(actor, action, conversation, source).encoded()
        key_id, mac = self.data_keys.signed(INTAKE_PURPOSE, encoded)
        return {"entry": encoded, "key": key_id, "mac": mac}


class IntakeAdmission:
    """The console's side: checks intake entries and moves them into the signed log."""

    def __init__(self, redis: Redis, audit: AuditLog, data_keys: KeyRing, incidents: IncidentLog) -> None:
        self.redis = redis
        self.audit = audit
        self.data_keys = data_keys
        self.incidents = incidents
        self._admit = redis.register_script(ADMIT_SCRIPT)

    async def admit(self) -> int:
        """Admits every waiting intake entry; returns how many reached the log."""
        admitted = 0
        while rows := await self.redis.xrange(self.audit.keys.audit_intake(), count=ADMIT_BATCH):
            arguments: list[str] = []
            rejected = 0
            for intake_id, fields in rows:
                entry = self._checked(decoded(fields))
                if entry is None:
                    rejected += 1
                    entry = new_entry(ADMITTER, "audit_intake_rejected", "-", INTAKE)
                signed = self.audit.signed(replace(entry, via=INTAKE))
                arguments += [text_of(intake_id), signed["entry"], signed["key"], signed["mac"]]
            admitted += int(await self._admit(keys=[self.audit.keys.audit_intake(), self.audit.keys.audit_log()],
                                              args=arguments))
            if rejected:
                await self.incidents.raise_incident(
                    IncidentKind.AUDIT_CHAIN_BROKEN, fault=f"{rejected} audit intake entries failed their MAC"
                )
        return admitted

    def _checked(self, values: dict[str, str]) -> Optional[AuditEntry]:
        """The entry a Rasa process wrote, or None when its MAC (under the data keys) fails or it is malformed."""
        encoded = values.get("entry", "")
        if not self.data_keys.verify_signed(values.get("key", ""), INTAKE_PURPOSE, encoded, values.get("mac", "")):
            return None
        try:
            entry = AuditEntry(**json.loads(encoded))
        except (TypeError, ValueError):
            return None
        return entry if not entry.via else None
