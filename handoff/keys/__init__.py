"""Redis key names, all built through one namespace helper.

Every key carries the same hash tag (``{namespace}``) so that the Lua scripts,
which touch a conversation, its queue and its transcript together, stay atomic
on Redis Cluster as well as on a single server or Sentinel.
"""

DEFAULT_NAMESPACE = "hcb"

CONVERSATION = "conversation"
QUEUE = "queue"
ENQUEUE_CLOCK = "enqueue-clock"
TRANSCRIPT = "transcript"
OUTBOX = "outbox"
AGENT_SESSION = "agent-session"
AGENT_SESSIONS = "agent-sessions"
LOGIN_FAILURES = "login-failures"
AUDIT_LOG = "audit"
AUDIT_CHECKPOINTS = "audit-checkpoints"
AUDIT_SEAL_LOCK = "audit-seal-lock"
AUDIT_INTAKE = "audit-intake"
AUDIT_ARCHIVED = "audit-archived"
CRISIS_ALERTS = "crisis-alerts"
AGENT_CONVERSATIONS = "agent-conversations"
GATE_LOCK = "gate-lock"
SPOOL_REPLAYED = "spool-replayed"
MESSAGE_STORED = "recent-message-ids"
PATIENT_SESSION = "patient-session"
AGENT_PRESENCE = "agent-presence"
RATE = "rate"
PUSH_SOCKETS = "push-sockets"
EPISODES = "episodes"
UNANSWERED_ASSIGNMENTS = "unanswered-assignments"
CRISIS_UNACKNOWLEDGED = "crisis-unacknowledged"
CRISIS_ESCALATED = "crisis-escalated"
INCIDENTS = "incidents"
INCIDENT_OPEN = "incident-open"
OPERATIONS = "operations"
OPERATIONS_ONCE = "operations-once"
COMPLIANCE = "compliance"
RELAYED = "relayed"
RELAY_LEASE = "relay-lease"
RELAY_CURSOR = "relay-cursor"
AGENT_LAST_ASSIGNED = "agent-last-assigned"
AGENT_STATUS = "agent-status"
PHONE_CALLBACKS = "phone-callbacks"
RECENT_WAITS = "recent-waits"
SURVEY_TOTALS = "survey-totals"
PATIENT_SIGNALS = "patient-signals"
TYPING_THROTTLE = "typing-throttle"
CONSOLE_CHANGES = "console-changes"


class KeySpace:
    """Builds every Redis key the handoff library uses."""

    def __init__(self, namespace: str = DEFAULT_NAMESPACE) -> None:
        if not namespace or any(c in namespace for c in "{}: "):
            raise ValueError(f"invalid Redis namespace {namespace!r}")
        self.namespace = namespace

    def key(self, kind: str, *parts: str) -> str:
        """Returns ``{namespace}:kind:part:...``."""
        return ":".join((f"{{{self.namespace}}}", kind, *parts))

    def conversation(self, conversation_id: str) -> str:
        return self.key(CONVERSATION, conversation_id)

    def queue(self, language: str) -> str:
        return self.key(QUEUE, language)

    def enqueue_clock(self) -> str:
        """The last ``enqueued_at`` (ms) given in any queue: the next enqueue is given a later one."""
        return self.key(ENQUEUE_CLOCK)

    def transcript(self, conversation_id: str) -> str:
        return self.key(TRANSCRIPT, conversation_id)

    def outbox(self, conversation_id: str, episode: int) -> str:
        """Agent messages of one episode (escalation to close): a later episode never reads them."""
        return self.key(OUTBOX, conversation_id, str(episode))

    def patient_signals(self, conversation_id: str) -> str:
        """What the patient's page hears besides messages (the agent is typing): short-lived, never a record."""
        return self.key(PATIENT_SIGNALS, conversation_id)

    def typing_throttle(self, conversation_id: str) -> str:
        """Set for a moment after each typing signal of the conversation: the next one waits for it to lapse."""
        return self.key(TYPING_THROTTLE, conversation_id)

    def episodes(self, conversation_id: str) -> str:
        """Sealed records of the conversation's closed episodes (who closed, crisis disposition)."""
        return self.key(EPISODES, conversation_id)

    def patient_session(self, conversation_id: str) -> str:
        return self.key(PATIENT_SESSION, conversation_id)

    def rate(self, limit: str, subject: str, window: int) -> str:
        """A counter of one rate limit for one subject (a conversation, a client address digest) and minute."""
        return self.key(RATE, limit, subject, str(window))

    def push_sockets(self, conversation_id: str) -> str:
        return self.key(PUSH_SOCKETS, conversation_id)

    def agent_session(self, token_digest: str) -> str:
        return self.key(AGENT_SESSION, token_digest)

    def agent_sessions(self, agent_id: str) -> str:
        """The token digests of every session an agent opened, so that they can all be revoked at once."""
        return self.key(AGENT_SESSIONS, agent_id)

    def login_failures(self, kind: str, subject_digest: str) -> str:
        """Failed console sign-ins of one agent id or one client address (``kind``), by digest."""
        return self.key(LOGIN_FAILURES, kind, subject_digest)

    def agent_conversations(self, agent_id: str) -> str:
        return self.key(AGENT_CONVERSATIONS, agent_id)

    def gate_lock(self, conversation_id: str) -> str:
        return self.key(GATE_LOCK, conversation_id)

    def relayed_conversations(self, channel: str) -> str:
        """Conversations of a platform channel whose agent messages a relay delivers: id -> sealed recipient."""
        return self.key(RELAYED, channel)

    def relay_lease(self, conversation_id: str) -> str:
        """Held by the one process that relays the conversation's agent messages now."""
        return self.key(RELAY_LEASE, conversation_id)

    def relay_cursor(self, conversation_id: str, episode: int) -> str:
        """The id of the last agent message of the episode delivered to the patient's platform."""
        return self.key(RELAY_CURSOR, conversation_id, str(episode))

    def message_stored(self, conversation_id: str, author: str) -> str:
        """The ids of the author's (patient or agent) recent messages stored in the conversation, newest first, so
        that a message sent again (a retry after 503, a spooled crisis replayed) is stored once
        (``handoff.durable_writes``)."""
        return self.key(MESSAGE_STORED, conversation_id, author)

    def spool_replayed(self, entry_id: str) -> str:
        """Set once a spooled crisis is in the queue, so that replaying it again changes nothing."""
        return self.key(SPOOL_REPLAYED, entry_id)

    def agent_presence(self) -> str:
        """Agents with a console open, scored by their last heartbeat (ms)."""
        return self.key(AGENT_PRESENCE)

    def agent_last_assigned(self) -> str:
        """Agents scored by when they were last given a conversation (ms): the longest idle is served first."""
        return self.key(AGENT_LAST_ASSIGNED)

    def agent_status(self) -> str:
        """Agent id -> the presence status it chose (``available``, ``away``); none recorded means available."""
        return self.key(AGENT_STATUS)

    def recent_waits(self, language: str = "") -> str:
        """The newest waits of the language's queue, in ms per place in line at the enqueue (newest first); with no
        language, the prefix the claim script completes with the conversation's."""
        return self.key(RECENT_WAITS, language)

    def survey_totals(self) -> str:
        """Satisfaction ratings counted and summed per agent and per queue (``agent:<id>:count``, ``queue:<l>:sum``)."""
        return self.key(SURVEY_TOTALS)

    def phone_callbacks(self) -> str:
        """Conversations whose patient is to be called back (escalated to phone), scored by when it was asked (ms)."""
        return self.key(PHONE_CALLBACKS)

    def crisis_alerts(self) -> str:
        return self.key(CRISIS_ALERTS)

    def console_changes(self) -> str:
        """A bare marker (a kind, never a conversation or content) per change an agent's console could show,
        written by the script that makes it: the consoles' event sockets wake on it (``handoff.console_changes``)."""
        return self.key(CONSOLE_CHANGES)

    def unanswered_assignments(self) -> str:
        """Claimed conversations whose agent has not yet written to the patient, scored by the answer deadline (ms)."""
        return self.key(UNANSWERED_ASSIGNMENTS)

    def crisis_unacknowledged(self) -> str:
        """Conversations with an open crisis that nobody has acknowledged yet, scored by when it was raised (ms)."""
        return self.key(CRISIS_UNACKNOWLEDGED)

    def crisis_escalated(self) -> str:
        """Unacknowledged crises shown to supervisors, scored by when they were escalated (ms)."""
        return self.key(CRISIS_ESCALATED)

    def audit_log(self) -> str:
        return self.key(AUDIT_LOG)

    def audit_checkpoints(self) -> str:
        return self.key(AUDIT_CHECKPOINTS)

    def audit_seal_lock(self) -> str:
        return self.key(AUDIT_SEAL_LOCK)

    def audit_archived(self) -> str:
        """The signed marker of what ``python -m handoff.audit archive`` moved out of Redis."""
        return self.key(AUDIT_ARCHIVED)

    def audit_intake(self) -> str:
        """Entries of processes without the audit keys, until the console admits them (``handoff.audit_intake``)."""
        return self.key(AUDIT_INTAKE)

    def incident_open(self, kind: str) -> str:
        """The id of the incident a further detection of ``kind`` adds to, until its window ends or it is
        acknowledged."""
        return self.key(INCIDENT_OPEN, kind)

    def incidents(self, part: str) -> str:
        """The incident records (``records``: id -> JSON), ``occurrences`` (id -> count), ``timeline``
        (id by detection ms), ``unacknowledged`` (id by detection ms) and ``acknowledgements`` (id -> JSON)."""
        return self.key(INCIDENTS, part)

    def operations(self, part: str) -> str:
        """Operations events and totals (``handoff.operations``): ``events`` (a stream, labels from closed
        vocabularies, never a conversation id or text) and ``totals`` (counters and histogram buckets)."""
        return self.key(OPERATIONS, part)

    def operations_once(self, conversation_id: str) -> str:
        """Which once-per-episode events of a conversation were counted (its first claim, first answer); kept
        apart from the events and totals, which never name a conversation."""
        return self.key(OPERATIONS_ONCE, conversation_id)

    def compliance(self, part: str) -> str:
        """The transcript review (``compliance``): ``findings`` (id -> sealed finding), ``open`` (finding ids
        not yet reviewed by a supervisor, by time), ``reviews`` (review id -> ms) and ``episodes`` (sealed
        facts of finished episodes waiting for review)."""
        return self.key(COMPLIANCE, part)
