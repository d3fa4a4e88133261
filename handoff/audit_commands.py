"""``python -m handoff.audit``: the operator's audit log commands (README, "Audit log").

``seal`` admits the intake and checkpoints now; ``verify [--archives]`` names the first broken record and
raises an incident (exit 1); ``export --since`` writes one sealed line that ``read-export`` opens; ``archive``
moves entries older than ``AUDIT_ARCHIVE_AFTER_DAYS`` into sealed files and removes archives older than
``AUDIT_RETENTION_DAYS``. Exit 2 when the settings are unusable, nothing read or changed.
"""

import argparse
import asyncio
import sys
import time
from datetime import datetime, timezone
from typing import Optional

from redis.asyncio import Redis

from handoff.audit import AuditChainBroken, AuditLog
from handoff.audit_archive import AuditArchive
from handoff.audit_intake import IntakeAdmission
from handoff.incidents import IncidentKind, IncidentLog
from handoff.keys import KeySpace
from handoff.log_privacy import pseudonym
from handoff.settings import operator_settings

COMMANDS = ("verify", "seal", "export", "read-export", "archive")


async def run(command: str, since: Optional[str], archives: bool) -> int:
    operator = operator_settings()
    if operator is None:
        return 2
    settings, key_ring, audit_keys = operator
    redis = Redis.from_url(settings.redis_url)
    audit = AuditLog(redis, KeySpace(settings.namespace), audit_keys, settings.audit_anchor)
    incidents = IncidentLog(redis, audit.keys, lambda conversation: pseudonym(key_ring, conversation), audit,
                            settings.incidents)
    archive = AuditArchive(audit, settings.audit_archive, settings.audit_retention)
    try:
        if command in ("seal", "archive"):
            print(f"admitted {await IntakeAdmission(redis, audit, key_ring, incidents).admit()} intake entries")
        if command == "seal":
            checkpoint = await audit.seal()
            print(f"sealed up to entry {checkpoint['last_entry']}" if checkpoint else "nothing new to seal")
        elif command in ("verify", "archive"):
            try:
                if command == "archive":
                    print(await archive.run(int(time.time() * 1000)))
                print(await audit.verify())
                if archives:
                    print(f"archive files intact: {await archive.verify_files()} entries")
            except AuditChainBroken as error:
                await incidents.raise_incident(IncidentKind.AUDIT_CHAIN_BROKEN, fault=str(error))
                print(f"AUDIT LOG BROKEN (incident raised): {error}", file=sys.stderr)
                return 1
        elif command == "read-export":
            print(audit.open_export(sys.stdin.read()), end="")
        else:
            start = datetime.fromisoformat(since or "1970-01-01").replace(tzinfo=timezone.utc)
            count = await audit.export(int(start.timestamp() * 1000), sys.stdout)
            print(f"exported {count} entries", file=sys.stderr)
    finally:
        await redis.close()
    return 0


def main() -> None:
    parser = argparse.ArgumentParser(description="Audit log tools (reads REDIS_URL, HANDOFF_AUDIT_KEYS, ...).")
    parser.add_argument("command", choices=COMMANDS,
                        help="export writes one sealed line; read-export reads it on stdin and prints its JSON lines")
    parser.add_argument("--since", help="export entries from this date (YYYY-MM-DD, UTC)")
    parser.add_argument("--archives", action="store_true", help="verify: also check every archive file")
    arguments = parser.parse_args()
    sys.exit(asyncio.run(run(arguments.command, arguments.since, arguments.archives)))


if __name__ == "__main__":
    main()
