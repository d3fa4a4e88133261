"""The crisis spool: crisis escalations that Redis could not take, kept on local disk and replayed.

Design (invariant 10: nothing is promised that is not durably recorded; a crisis
is never lost to an outage):

* When Redis is unreachable, or too few replicas acknowledged the crisis's write
  (``handoff.durable_writes``: it may be lost in a failover), the connector still gives crisis resources at once,
  appends the escalation here (:meth:`CrisisSpool.append` returns only after
  ``fsync``), and tells the patient the truth: call or text 988 now, our team
  will contact you as soon as it can. Never that a person is being connected.
* The file (``HANDOFF_CRISIS_SPOOL``, default ``.data/crisis-spool.jsonl``) is
  append-only JSON lines, one line per ``write()``, mode 600::

      {"id": "<32 hex>", "ns": "<Redis namespace>", "sealed": "v1.<key id>.<...>"}
      {"done": "<id>"}

  The first kind is an escalation; everything about the patient (conversation
  id, message, evidence, notices) is inside ``sealed``, an AES-GCM envelope of
  the data key ring bound to the entry id: PHI at rest is encrypted, and an
  entry cannot be altered unnoticed. The second kind says the entry is in Redis.
* Torn writes: a crash mid-append can leave a last line without its newline.
  Readers skip lines that do not parse, and the next append first ends such a
  line, so a new entry never sticks to a torn one. Compaction moves unparseable
  lines to ``<spool>.corrupt`` for a person to look at; entries sealed by a key
  the ring no longer has, or of another namespace, are kept and logged.
* Replay (:class:`CrisisReplayer`, a background task of the channel process that
  retries every ``interval_seconds``; the gate also replays before handling a
  message, so a patient's later messages follow the spooled one): each entry
  goes into Redis with :meth:`LiveAgentQueue.replay_escalation`, one Lua script
  that appends the transcript, enqueues the crisis as of its original time
  (crisis priority, then first come: the head of the queue) and sets a marker
  key for the entry. Replaying an entry again (two processes sharing the spool,
  or a replay stopped between Redis and the ``done`` line) finds the marker and
  changes nothing; so does a patient message the gate stored before the write
  that failed (the entry keeps its ``message_id``). Either way the crisis is counted in the operations events
  (``handoff.operations``), once: the marker says what the replay did. Then
  ``done`` lines are appended and the file is compacted: rewritten without
  finished entries to a temporary file, fsync'd, renamed over.
* Concurrency: appends and compactions hold an exclusive ``flock`` on
  ``<spool>.lock``, reads a shared one; so do other processes on this machine.
"""

import asyncio
import fcntl
import json
import logging
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Callable, Optional

from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import LockError
from redis.exceptions import TimeoutError as RedisTimeoutError

from handoff.crypto import EnvelopeError, KeyRing
from handoff.durable_writes import UnreplicatedWrite
from handoff.models import CrisisFlag, EnqueueResult, Priority, Skill, TranscriptEntry, TranscriptRole
from handoff.operations import OperationsEvents
from handoff.queue import LiveAgentQueue

logger = logging.getLogger(__name__)

SEAL_CONTEXT = "crisis-spool:"
REPLAY_INTERVAL_SECONDS = 1.0
REPLAY_LOCK_SECONDS = 60
REPLAY_LOCK_WAIT_SECONDS = 5

STORAGE_ERRORS = (RedisConnectionError, RedisTimeoutError, ConnectionError, TimeoutError, UnreplicatedWrite)
"""What an unreachable Redis raises, or a write too few replicas hold (``handoff.durable_writes``): the caller
retries later."""

FallbackFor = Callable[[str, Skill], Optional[str]]
"""(language, skill) -> the language whose queue also gets the crisis, or None."""


@dataclass(frozen=True)
class SpooledCrisis:
    """A crisis escalation as the connector would have stored it, and what the patient was sent."""

    conversation_id: str
    language: str
    skill: str
    reason: str
    category: str
    evidence: str
    text: str
    notices: tuple[str, ...]
    at_ms: int
    entry_id: str = ""
    message_id: str = ""
    """The patient message's id: the replay does not store it again if the gate stored it before a write failed."""

    def __post_init__(self) -> None:
        Skill(self.skill)

    def with_new_id(self) -> "SpooledCrisis":
        return SpooledCrisis(**{**asdict(self), "entry_id": uuid.uuid4().hex})

    def transcript(self) -> list[TranscriptEntry]:
        patient = [TranscriptEntry(TranscriptRole.PATIENT, self.text, self.at_ms)]
        return patient + [TranscriptEntry(TranscriptRole.BOT, notice, self.at_ms) for notice in self.notices]


class CrisisSpool:
    """The append-only, encrypted spool file of one Redis namespace."""

    def __init__(self, path: Path, key_ring: KeyRing, namespace: str) -> None:
        self.path = path
        self.key_ring = key_ring
        self.namespace = namespace
        self._lock_path = path.with_name(path.name + ".lock")
        self._corrupt_path = path.with_name(path.name + ".corrupt")
        self.has_corrupt_lines = False
        """Set by a read that skipped lines; compaction moves them aside."""

    def append(self, crisis: SpooledCrisis) -> str:
        """Writes the escalation durably (fsync'd); returns its entry id."""
        if not crisis.entry_id:
            crisis = crisis.with_new_id()
        payload = json.dumps(asdict(crisis), ensure_ascii=False).encode()
        sealed = self.key_ring.seal(payload, _context(self.namespace, crisis.entry_id))
        line = {"id": crisis.entry_id, "ns": self.namespace, "sealed": sealed}
        self._append_lines([line])
        return crisis.entry_id

    def mark_done(self, entry_ids: list[str]) -> None:
        """Records that these entries are in Redis."""
        if entry_ids:
            self._append_lines([{"done": entry_id} for entry_id in entry_ids])

    def has_entries(self) -> bool:
        """Cheap check (one ``stat``) whether there may be anything to replay."""
        try:
            return self.path.stat().st_size > 0
        except FileNotFoundError:
            return False

    def pending(self) -> list[SpooledCrisis]:
        """Entries of this namespace not yet replayed, oldest first; unreadable ones are logged and left."""
        with self._locked(fcntl.LOCK_SH):
            entries, done, _ = self._read()
        crises = []
        for entry_id, line in entries.items():
            if entry_id in done or line.get("ns") != self.namespace:
                continue
            try:
                crises.append(_unseal(self.key_ring, self.namespace, entry_id, str(line["sealed"])))
            except (EnvelopeError, ValueError, KeyError, TypeError) as error:
                logger.error("crisis_spool.unreadable_entry id=%s path=%s: %s", entry_id, self.path, error)
        return sorted(crises, key=lambda crisis: crisis.at_ms)

    def compact(self) -> None:
        """Rewrites the spool without finished entries; unparseable lines go to ``<spool>.corrupt``."""
        with self._locked(fcntl.LOCK_EX):
            entries, done, corrupt = self._read()
            if entries or done or corrupt:
                self._rewrite(entries, done, corrupt)

    def rotate(self, apply: bool) -> tuple[int, int, int]:
        """Pending entries of this namespace: (sealed by an older key, by the newest, unreadable). With ``apply``
        the older ones are sealed again under the newest key, and the spool compacted, in one locked rewrite."""
        with self._locked(fcntl.LOCK_EX):
            entries, done, corrupt = self._read()
            older = current = unreadable = 0
            for entry_id, line in entries.items():
                if entry_id in done or line.get("ns") != self.namespace:
                    continue
                if not self.key_ring.needs_rotation(str(line["sealed"])):
                    current += 1
                    continue
                context = _context(self.namespace, entry_id)
                try:
                    line["sealed"] = self.key_ring.seal(self.key_ring.open(str(line["sealed"]), context), context)
                    older += 1
                except EnvelopeError:
                    unreadable += 1
            if apply and older:
                self._rewrite(entries, done, corrupt)
            return older, current, unreadable

    def _rewrite(self, entries: dict[str, dict[str, Any]], done: set[str], corrupt: list[bytes]) -> None:
        """Under the exclusive lock: the unfinished entries, to a temporary file renamed over the spool."""
        if corrupt:
            with open(self._corrupt_path, "ab") as aside:
                aside.write(b"".join(line + b"\n" for line in corrupt))
                aside.flush()
                os.fsync(aside.fileno())
            logger.error("crisis_spool.corrupt_lines count=%d moved_to=%s", len(corrupt), self._corrupt_path)
        kept = [_encode(line) for entry_id, line in entries.items() if entry_id not in done]
        temporary = self.path.with_name(self.path.name + ".tmp")
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            os.write(descriptor, b"".join(kept))
            os.fsync(descriptor)
        finally:
            os.close(descriptor)
        os.replace(temporary, self.path)
        _fsync_directory(self.path.parent)

    def _append_lines(self, lines: list[dict[str, Any]]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._locked(fcntl.LOCK_EX):
            created = not self.path.exists()
            descriptor = os.open(self.path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                data = b"".join(_encode(line) for line in lines)
                size = os.fstat(descriptor).st_size
                if size and os.pread(descriptor, 1, size - 1) != b"\n":
                    data = b"\n" + data
                os.write(descriptor, data)
                os.fsync(descriptor)
            finally:
                os.close(descriptor)
            if created:
                _fsync_directory(self.path.parent)

    def _read(self) -> tuple[dict[str, dict[str, Any]], set[str], list[bytes]]:
        """Entries by id (in file order), finished ids, and lines that are not either."""
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return {}, set(), []
        entries: dict[str, dict[str, Any]] = {}
        done: set[str] = set()
        corrupt: list[bytes] = []
        for raw_line in raw.split(b"\n"):
            if not raw_line.strip():
                continue
            try:
                line = json.loads(raw_line)
            except (json.JSONDecodeError, UnicodeDecodeError):
                line = None
            if isinstance(line, dict) and isinstance(line.get("done"), str):
                done.add(line["done"])
            elif isinstance(line, dict) and isinstance(line.get("id"), str) and isinstance(line.get("sealed"), str):
                entries[line["id"]] = line
            else:
                corrupt.append(raw_line)
        if corrupt:
            logger.warning("crisis_spool.skipped_lines count=%d path=%s", len(corrupt), self.path)
        self.has_corrupt_lines = bool(corrupt)
        return entries, done, corrupt

    @contextmanager
    def _locked(self, mode: int) -> Iterator[None]:
        self._lock_path.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(self._lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(descriptor, mode)
            yield
        finally:
            os.close(descriptor)


class CrisisReplayer:
    """Replays the spool into the queue: on demand, and as a background task that retries."""

    def __init__(
        self,
        spool: CrisisSpool,
        queue: LiveAgentQueue,
        fallback_for: Optional[FallbackFor] = None,
        interval_seconds: float = REPLAY_INTERVAL_SECONDS,
    ) -> None:
        self.spool = spool
        self.queue = queue
        self.fallback_for = fallback_for or (lambda _language, _skill: None)
        self.interval_seconds = interval_seconds
        self.events = OperationsEvents(queue.redis, queue.keys, queue.seals.key_ring)
        self._replaying = asyncio.Lock()
        self._wake = asyncio.Event()

    def wake(self) -> None:
        """Asks the background task to try again now (something was just spooled)."""
        self._wake.set()

    async def replay_pending(self) -> int:
        """Puts every pending entry into Redis; returns how many this call stored.

        Redis errors propagate (the entry stays pending); an entry already stored
        by another process counts as done and is not stored again.
        """
        if not self.spool.has_entries():
            return 0
        async with self._replaying:
            stored = 0
            finished: list[str] = []
            try:
                for crisis in await asyncio.to_thread(self.spool.pending):
                    try:
                        if await self._replay(crisis):
                            stored += 1
                    except STORAGE_ERRORS:
                        raise
                    except Exception:
                        logger.exception("crisis_spool.replay_error entry=%s (left in the spool)", crisis.entry_id)
                        continue
                    finished.append(crisis.entry_id)
                    await asyncio.to_thread(self.spool.mark_done, [crisis.entry_id])
            finally:
                if finished or self.spool.has_corrupt_lines:
                    await asyncio.to_thread(self.spool.compact)
            return stored

    async def run(self) -> None:
        """Replays for ever, every ``interval_seconds`` or when woken; never raises but on cancellation."""
        failing = False
        while True:
            try:
                await self.replay_pending()
                failing = False
            except asyncio.CancelledError:
                raise
            except Exception as error:
                if not failing:
                    logger.warning("crisis_spool.replay_failed (retrying every %s s): %s", self.interval_seconds, error)
                failing = True
            with suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.interval_seconds)
            self._wake.clear()

    async def _replay(self, crisis: SpooledCrisis) -> bool:
        """One entry, under the conversation's gate lock when it can be had soon (order of the transcript)."""
        lock = self.queue.redis.lock(self.queue.keys.gate_lock(crisis.conversation_id), timeout=REPLAY_LOCK_SECONDS)
        locked = await lock.acquire(blocking_timeout=REPLAY_LOCK_WAIT_SECONDS)
        if not locked:
            logger.warning("crisis_spool.replay_without_lock conversation=%s",
                           self.queue.pseudonym(crisis.conversation_id))
        try:
            skill = Skill(crisis.skill)
            stored = await self.queue.replay_escalation(
                crisis.entry_id,
                crisis.conversation_id,
                crisis.language,
                CrisisFlag(crisis.category, crisis.evidence),
                skill,
                crisis.reason,
                crisis.transcript(),
                crisis.at_ms,
                self.fallback_for(crisis.language, skill),
                crisis.message_id,
            )
        finally:
            if locked:
                try:
                    await lock.release()
                except LockError:
                    logger.warning("crisis_spool.lock_expired conversation=%s",
                                   self.queue.pseudonym(crisis.conversation_id))
        logger.warning(
            "crisis.replayed conversation=%s category=%s entry=%s stored=%s",
            self.queue.pseudonym(crisis.conversation_id), crisis.category, crisis.entry_id, stored,
        )
        await self._count(crisis)
        return stored

    async def _count(self, crisis: SpooledCrisis) -> None:
        """The replayed crisis in the operations events, as the gate counts one it escalates: a crisis escalation,
        and a handoff when it queued the conversation. Also when another replay stored it (it may have stopped
        before counting); the events' once-per-episode markers keep each count to one."""
        replayed = await self.queue.replayed(crisis.entry_id)
        if replayed is None:
            return
        state, episode = replayed
        result = EnqueueResult(state, crisis.language, Priority.CRISIS, crisis.reason, 0, episode)
        await self.events.escalated(crisis.conversation_id, result, crisis.reason, crisis.language, crisis.category)


def _context(namespace: str, entry_id: str) -> str:
    """Binds an envelope to its line: moved to another id or namespace, it does not open."""
    return f"{SEAL_CONTEXT}{namespace}:{entry_id}"


def _unseal(key_ring: KeyRing, namespace: str, entry_id: str, sealed: str) -> SpooledCrisis:
    data = json.loads(key_ring.open(sealed, _context(namespace, entry_id)))
    data["notices"] = tuple(str(notice) for notice in data["notices"])
    crisis = SpooledCrisis(**data)
    if crisis.entry_id != entry_id:
        raise ValueError("entry id inside the envelope differs from the line's")
    return crisis


def _encode(line: dict[str, Any]) -> bytes:
    return json.dumps(line, separators=(",", ":")).encode() + b"\n"


def _fsync_directory(directory: Path) -> None:
    descriptor = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
