"""Configuration of the handoff library, read from environment variables in one place."""

import os
import sys
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Mapping, Optional

from handoff.coverage import CoverageHours
from handoff.crypto import KeyRing, KeyRingError
from handoff.keys import DEFAULT_NAMESPACE
from handoff.redis_connection import RedisUrlError, check_redis_url

MAX_MESSAGE_BYTES = 4096
"""Largest patient or agent message accepted, in UTF-8 bytes."""
DEFAULT_CRISIS_SPOOL = Path(".data/crisis-spool.jsonl")
DEFAULT_AUDIT_ANCHOR = Path(".data/audit-anchor.jsonl")
DEFAULT_AUDIT_ARCHIVE = Path(".data/audit-archive")
DEFAULT_CANNED_REPLIES = Path("canned_replies")
"""The console's canned replies: one YAML file per language (``handoff.canned_replies``)."""
DAY_MS = 86_400_000
MIN_METRICS_TOKEN_CHARACTERS = 32
"""A ``METRICS_TOKEN`` shorter than this is a password someone chose, not a generated secret."""
MAX_RETENTION_DAYS = 36_525
"""A hundred years: longer is a typo, and Redis expiry times must stay in range."""


class SettingsError(ValueError):
    """An environment variable has a value the system cannot run with."""


def positive_int(environ: Mapping[str, str], name: str, default: int) -> int:
    """The variable's whole number of 1 or more, or ``default`` when unset; raises ``SettingsError``."""
    raw = environ.get(name, "")
    if not raw:
        return default
    if not raw.isdigit() or int(raw) < 1:
        raise SettingsError(f"{name} must be a whole number of 1 or more, not {raw!r}")
    return int(raw)


def positive_ints(settings: type, environ: Mapping[str, str], prefix: str) -> dict[str, int]:
    """Every ``int`` field of a settings dataclass from ``<PREFIX><FIELD NAME>``, else its default."""
    return {
        item.name: positive_int(environ, f"{prefix}{item.name.upper()}", int(item.default))  # type: ignore[arg-type]
        for item in fields(settings)
        if item.type in (int, "int")
    }


@dataclass(frozen=True)
class PatientAccess:
    """Patient credentials and limits; every figure is configurable (README, "Patient sessions")."""

    session_idle_seconds: int = 30 * 60
    session_max_seconds: int = 12 * 3600
    messages_per_minute: int = 30
    """Per conversation; a crisis message is never refused by it."""
    new_conversations_per_minute: int = 20
    """Per client address (``request.remote_addr``: behind a proxy, set ``SANIC_PROXIES_COUNT``)."""
    push_sockets_per_conversation: int = 2
    push_sockets_per_process: int = 500
    portal_identity_secret: str = ""
    """Shared with the health system's portal: ``HMAC-SHA256(secret, portal patient id)`` marks a patient verified."""
    portal_identity_required: bool = False
    """Refuse every message that does not carry a valid portal identity hash."""
    platform_secret: str = ""
    """Shared with a messaging platform relay that signs its requests (``X-Hub-Signature-256``)."""
    unauthorized_per_minute: int = 25
    """Patient requests refused 401 (all clients together) in one minute past which an incident is raised."""

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> "PatientAccess":
        """Reads the ``PATIENT_*`` variables; unset ones keep the defaults above."""
        required = environ.get("PATIENT_PORTAL_IDENTITY_REQUIRED", "false").lower()
        if required not in ("true", "false", "1", "0"):
            raise SettingsError(f"PATIENT_PORTAL_IDENTITY_REQUIRED must be true or false, not {required!r}")
        portal_secret = environ.get("PATIENT_PORTAL_IDENTITY_SECRET", "")
        if required in ("true", "1") and not portal_secret:
            raise SettingsError("PATIENT_PORTAL_IDENTITY_REQUIRED is on but PATIENT_PORTAL_IDENTITY_SECRET is not set")
        return cls(
            **positive_ints(cls, environ, "PATIENT_"),
            portal_identity_secret=portal_secret,
            portal_identity_required=required in ("true", "1"),
            platform_secret=environ.get("PATIENT_PLATFORM_SECRET", ""),
        )


@dataclass(frozen=True)
class AgentAccess:
    """Console sign-in (session lifetimes, login throttling, the training rule) and how long the console waits on a
    person before acting (README, "Agent console")."""

    session_idle_seconds: int = 15 * 60
    """A session unused this long ends; every authenticated request starts the count again."""
    session_max_seconds: int = 8 * 3600
    """A session ends this long after sign-in, however busy."""
    login_failures_per_agent: int = 5
    login_failures_per_address: int = 20
    login_window_seconds: int = 15 * 60
    """Failed sign-ins count for this long; past a limit, sign-in answers 429 until the window ends."""
    training_valid_days: int = 365
    """An agent whose HIPAA training is older than this may sign in but not claim or read conversations."""
    presence_timeout_seconds: int = 60
    """An agent whose console sent no heartbeat for this long is offline: its conversations go back to the head
    of their queues."""
    answer_timeout_seconds: int = 60
    """An agent who claims a conversation and writes nothing to the patient for this long loses it to the head of
    its queue."""
    crisis_ack_timeout_seconds: int = 30
    """A crisis that nobody acknowledges for this long is escalated to every supervisor."""
    default_capacity: int = 3
    """Most conversations auto-assignment gives an agent at once, unless its directory entry says ``capacity``."""
    auto_assign: bool = True
    """The console gives each waiting conversation to the longest-idle available agent who can take it
    (``handoff.assignment``); off (``AGENT_AUTO_ASSIGN=false``), agents only claim from the queue."""

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> "AgentAccess":
        """Reads the ``AGENT_*`` variables; unset ones keep the defaults above."""
        auto_assign = environ.get("AGENT_AUTO_ASSIGN", "true").lower()
        if auto_assign not in ("true", "false", "1", "0"):
            raise SettingsError(f"AGENT_AUTO_ASSIGN must be true or false, not {auto_assign!r}")
        return cls(**positive_ints(cls, environ, "AGENT_"), auto_assign=auto_assign in ("true", "1"))


@dataclass(frozen=True)
class IncidentResponse:
    """How incidents are grouped and how often the console checks the audit chain (README, "Incident response")."""

    window_seconds: int = 15 * 60
    """Detections of one kind within this long of an unacknowledged incident count in it instead of opening
    another."""
    audit_verify_seconds: int = 60
    """How often each console verifies the whole audit chain."""

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> "IncidentResponse":
        """Reads the ``INCIDENT_*`` variables; unset ones keep the defaults above."""
        return cls(**positive_ints(cls, environ, "INCIDENT_"))


@dataclass(frozen=True)
class Retention:
    """How long PHI stays in Redis once its conversation is no longer open (README, "PHI at rest, in logs, and
    retention").

    Transcripts, outboxes, sealed episode records, conversation hashes and Rasa trackers expire this long
    after the conversation's last activity once it is closed or back with the bot; a queued conversation,
    or one with an agent, never expires. The audit log is not PHI retention: it is never expired here.
    """

    days: int = 30

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> "Retention":
        """Reads ``PHI_RETENTION_DAYS``; unset keeps the default above."""
        retention = cls(**positive_ints(cls, environ, "PHI_RETENTION_"))
        if retention.days > MAX_RETENTION_DAYS:
            raise SettingsError(f"PHI_RETENTION_DAYS must be at most {MAX_RETENTION_DAYS}, not {retention.days}")
        return retention

    @property
    def ms(self) -> int:
        return self.days * DAY_MS


@dataclass(frozen=True)
class ComplianceTargets:
    """What the transcript review holds each finished conversation to (README, "Operations metrics and
    transcript review")."""

    first_response_seconds: int = 60
    """An agent's first message to the patient, counted from the claim (a crisis included)."""
    unplaced_bot_exchanges: int = 2
    """Bot replies that could not place the patient's message allowed before a person takes over."""
    callback_grace_seconds: int = 3600
    """How long after the promised time (the queue's opening) a captured after-hours message may wait for a
    person."""

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> "ComplianceTargets":
        """Reads the ``COMPLIANCE_*`` variables; unset ones keep the defaults above."""
        return cls(**positive_ints(cls, environ, "COMPLIANCE_"))


@dataclass(frozen=True)
class AuditRetention:
    """How long the audit log is kept (HIPAA: six years) and how long it stays in Redis before
    ``python -m handoff.audit archive`` moves it into sealed files (README, "Audit log")."""

    retention_days: int = 6 * 365
    archive_after_days: int = 90

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> "AuditRetention":
        """Reads ``AUDIT_RETENTION_DAYS`` and ``AUDIT_ARCHIVE_AFTER_DAYS``."""
        retention = cls(**positive_ints(cls, environ, "AUDIT_"))
        if not retention.archive_after_days <= retention.retention_days <= MAX_RETENTION_DAYS:
            raise SettingsError(
                f"AUDIT_RETENTION_DAYS ({retention.retention_days}) must be at least AUDIT_ARCHIVE_AFTER_DAYS "
                f"({retention.archive_after_days}) and at most {MAX_RETENTION_DAYS}"
            )
        return retention


@dataclass(frozen=True)
class ReplicaAcks:
    """How many replicas must hold a write that leads to a promise before it is made (``WAIT``; README, "Scaling
    out and Redis failover"): the escalation enqueue, a patient message stored while queued or with an agent, an
    agent reply, a crisis replayed from the spool. 0 (the default) waits for none."""

    replicas: int = 0
    timeout_ms: int = 500
    """How long a write waits for them; fewer by then, and the write counts as not stored (storage unsafe)."""

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> "ReplicaAcks":
        """Reads ``HANDOFF_REPLICA_ACKS`` (0 or more) and ``HANDOFF_REPLICA_ACK_TIMEOUT_MS`` (1 or more)."""
        raw = environ.get("HANDOFF_REPLICA_ACKS", "") or "0"
        if not raw.isdigit():
            raise SettingsError(f"HANDOFF_REPLICA_ACKS must be a whole number of 0 or more, not {raw!r}")
        return cls(int(raw), positive_int(environ, "HANDOFF_REPLICA_ACK_TIMEOUT_MS", cls.timeout_ms))


@dataclass(frozen=True)
class TlsFiles:
    """A server certificate (PEM, with its chain) and its private key."""

    certificate: Path
    key: Path

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> Optional["TlsFiles"]:
        """``HANDOFF_TLS_CERT`` and ``HANDOFF_TLS_KEY``: both set (TLS) or neither (plain HTTP)."""
        certificate, key = environ.get("HANDOFF_TLS_CERT", ""), environ.get("HANDOFF_TLS_KEY", "")
        if bool(certificate) != bool(key):
            raise SettingsError("set both HANDOFF_TLS_CERT and HANDOFF_TLS_KEY, or neither")
        if not certificate:
            return None
        for name, value in (("HANDOFF_TLS_CERT", certificate), ("HANDOFF_TLS_KEY", key)):
            if not Path(value).is_file():
                raise SettingsError(f"{name} names no readable file: {value!r}")
        return cls(Path(certificate), Path(key))


@dataclass(frozen=True)
class HandoffSettings:
    redis_url: str
    data_keys: str
    agents_file: Optional[Path]
    namespace: str = DEFAULT_NAMESPACE
    coverage_file: Path = Path("coverage.yml")
    crisis_spool: Path = DEFAULT_CRISIS_SPOOL
    patients: PatientAccess = PatientAccess()
    audit_keys: str = ""
    audit_anchor: Path = DEFAULT_AUDIT_ANCHOR
    audit_archive: Path = DEFAULT_AUDIT_ARCHIVE
    audit_retention: AuditRetention = AuditRetention()
    agents: AgentAccess = AgentAccess()
    tls: Optional[TlsFiles] = None
    retention: Retention = Retention()
    incidents: IncidentResponse = IncidentResponse()
    compliance: ComplianceTargets = ComplianceTargets()
    canned_replies: Path = DEFAULT_CANNED_REPLIES
    replica_acks: ReplicaAcks = ReplicaAcks()
    metrics_token: str = ""
    """The bearer token ``/metrics`` asks of its scraper (console and patient channel); unset, nobody may read it."""

    @classmethod
    def from_env(cls, environ: Mapping[str, str] = os.environ) -> "HandoffSettings":
        """Reads ``REDIS_URL``, ``HANDOFF_DATA_KEYS``, ``HANDOFF_AGENTS_FILE``, ``HANDOFF_NAMESPACE``,
        ``HANDOFF_COVERAGE_FILE``, ``HANDOFF_CRISIS_SPOOL``, ``HANDOFF_AUDIT_KEYS``, ``HANDOFF_AUDIT_ANCHOR``,
        ``HANDOFF_AUDIT_ARCHIVE``, ``HANDOFF_TLS_CERT``, ``HANDOFF_TLS_KEY``, ``HANDOFF_CANNED_REPLIES``,
        ``METRICS_TOKEN``, ``PHI_RETENTION_DAYS``, ``HANDOFF_REPLICA_ACKS``, ``HANDOFF_REPLICA_ACK_TIMEOUT_MS`` and
        the ``PATIENT_*``, ``AGENT_*``, ``AUDIT_*``, ``INCIDENT_*`` and ``COMPLIANCE_*`` limits."""
        data_keys = environ.get("HANDOFF_DATA_KEYS", "")
        if not data_keys:
            raise KeyRingError(
                "HANDOFF_DATA_KEYS is not set: PHI at rest must be encrypted "
                "(make run creates a key ring under .data/ for local use)"
            )
        agents_file = environ.get("HANDOFF_AGENTS_FILE")
        redis_url = environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
        try:
            check_redis_url(redis_url)
        except RedisUrlError as error:
            raise SettingsError(str(error)) from error
        metrics_token = environ.get("METRICS_TOKEN", "")
        if metrics_token and (len(metrics_token) < MIN_METRICS_TOKEN_CHARACTERS or " " in metrics_token
                              or not metrics_token.isprintable()):
            raise SettingsError(
                f"METRICS_TOKEN must be a generated secret of at least {MIN_METRICS_TOKEN_CHARACTERS} characters "
                "without spaces, such as python3 -c 'import secrets; print(secrets.token_urlsafe(32))' prints")
        return cls(
            redis_url=redis_url,
            data_keys=data_keys,
            agents_file=Path(agents_file) if agents_file else None,
            namespace=environ.get("HANDOFF_NAMESPACE", DEFAULT_NAMESPACE),
            coverage_file=Path(environ.get("HANDOFF_COVERAGE_FILE", "coverage.yml")),
            crisis_spool=Path(environ.get("HANDOFF_CRISIS_SPOOL") or DEFAULT_CRISIS_SPOOL),
            patients=PatientAccess.from_env(environ),
            audit_keys=environ.get("HANDOFF_AUDIT_KEYS", ""),
            audit_anchor=Path(environ.get("HANDOFF_AUDIT_ANCHOR") or DEFAULT_AUDIT_ANCHOR),
            audit_archive=Path(environ.get("HANDOFF_AUDIT_ARCHIVE") or DEFAULT_AUDIT_ARCHIVE),
            audit_retention=AuditRetention.from_env(environ),
            agents=AgentAccess.from_env(environ),
            tls=TlsFiles.from_env(environ),
            retention=Retention.from_env(environ),
            incidents=IncidentResponse.from_env(environ),
            compliance=ComplianceTargets.from_env(environ),
            canned_replies=Path(environ.get("HANDOFF_CANNED_REPLIES") or DEFAULT_CANNED_REPLIES),
            replica_acks=ReplicaAcks.from_env(environ),
            metrics_token=metrics_token,
        )

    def key_ring(self) -> KeyRing:
        return KeyRing.from_spec(self.data_keys)

    def audit_key_ring(self) -> KeyRing:
        """The audit log's own keys: not the data keys, so what seals PHI cannot forge the log."""
        if not self.audit_keys:
            raise KeyRingError(
                "HANDOFF_AUDIT_KEYS is not set: the audit log needs its own keys "
                "(make run creates .data/audit-keys for local use)"
            )
        return KeyRing.from_spec(self.audit_keys)

    def coverage(self) -> CoverageHours:
        """Coverage hours from the file; without one, every queue is always staffed."""
        if not self.coverage_file.exists():
            return CoverageHours.always_open()
        return CoverageHours.from_file(self.coverage_file)


def operator_settings() -> Optional[tuple[HandoffSettings, KeyRing, KeyRing]]:
    """The settings, data key ring and audit key ring of an operator command (retention purge, key rotation);
    None, once it has said why on stderr, when they are unusable: the command then exits 2, nothing done."""
    try:
        settings = HandoffSettings.from_env()
        return settings, settings.key_ring(), settings.audit_key_ring()
    except (SettingsError, KeyRingError) as error:
        print(f"error: {error}; nothing was read or changed", file=sys.stderr)
        return None
