"""Roles and what each may do: minimum necessary, as data.

``PERMISSIONS`` maps every role to the console actions it may take; everything
not listed is forbidden. ``require`` is the one check: a forbidden pair of role
and action writes the audit record ``forbidden_<action>`` and raises
``ActionForbidden`` (the console answers 403). Which conversations an allowed
action reaches is decided elsewhere: the queue an agent sees is its languages
times its skills (``Agent.claimable_skills``; a supervisor's are every skill), and
a transcript is readable only by the agent the conversation is assigned to.

The README's "Roles and permissions" table is this table in prose; a test walks
every pair of role and action against the running console.
"""

from enum import Enum
from typing import TYPE_CHECKING, Optional

from handoff.audit import AuditLog
from handoff.models import Skill

if TYPE_CHECKING:
    from handoff.agents import Agent


class Role(str, Enum):
    AGENT = "agent"
    NURSE = "nurse"
    PHARMACIST = "pharmacist"
    SUPERVISOR = "supervisor"
    ADMIN = "admin"


class Action(str, Enum):
    VIEW_QUEUE = "view_queue"
    """See the waiting conversations of one's languages and skills (no message content)."""
    VIEW_ALERTS = "view_alerts"
    """Crisis alerts on one's own conversations."""
    LIST_MINE = "list_mine"
    """The conversations one is working."""
    CLAIM = "claim"
    ACKNOWLEDGE_CRISIS = "acknowledge_crisis"
    """Take responsibility for an open crisis: on a conversation one has, or (supervisors) once it is escalated."""
    READ_TRANSCRIPT = "read_transcript"
    """The current episode of a conversation one is working."""
    READ_CRISIS_EVIDENCE = "read_crisis_evidence"
    """The words that raised a crisis flag, shown with the transcript."""
    READ_EARLIER_EPISODES = "read_earlier_episodes"
    """Episodes before the conversation was last closed (``?episodes=all``)."""
    REPLY = "reply"
    CLOSE = "close"
    """Hand back to the bot or close."""
    MANAGE_AGENTS = "manage_agents"
    """The agent directory's profiles and training status (never password hashes)."""
    READ_AUDIT = "read_audit"
    """The audit trail: who did what to which conversation, from where."""
    VIEW_ESCALATIONS = "view_escalations"
    """Crises nobody acknowledged in time, on every conversation (no message content); acknowledging one."""
    VIEW_INCIDENTS = "view_incidents"
    """Security incidents (audit chain breaks, sign-in and credential floods, undecryptable data); acknowledging one."""
    VIEW_OPERATIONS = "view_operations"
    """The operations dashboard: seed metrics against targets, aggregates only (no conversation, no message)."""
    REVIEW_COMPLIANCE = "review_compliance"
    """The transcript review's findings, with their evidence; marking one reviewed."""
    TRANSFER = "transfer"
    """Hand a conversation one has to another queue or skill, or to a named person, with a note."""
    ADD_NOTE = "add_note"
    """An internal note on a conversation one has: staff read it, the patient never does."""
    ESCALATE_TO_PHONE = "escalate_to_phone"
    """Record that the patient is to be called back (number, best time) on a conversation one has."""
    REASSIGN = "reassign"
    """Give any conversation to a named person, or take it over."""
    VIEW_CALLBACKS = "view_callbacks"
    """The phone callbacks patients are owed (numbers: PHI, audited); marking one done."""
    VIEW_SUPERVISION = "view_supervision"
    """Every queue with its waiting count and longest wait, every agent with presence and load, satisfaction."""


CONVERSATION_WORK = frozenset(
    {
        Action.VIEW_QUEUE,
        Action.VIEW_ALERTS,
        Action.LIST_MINE,
        Action.CLAIM,
        Action.ACKNOWLEDGE_CRISIS,
        Action.READ_TRANSCRIPT,
        Action.READ_CRISIS_EVIDENCE,
        Action.REPLY,
        Action.CLOSE,
        Action.TRANSFER,
        Action.ADD_NOTE,
        Action.ESCALATE_TO_PHONE,
    }
)

PERMISSIONS: dict[Role, frozenset[Action]] = {
    Role.AGENT: CONVERSATION_WORK,
    Role.NURSE: CONVERSATION_WORK,
    Role.PHARMACIST: CONVERSATION_WORK,
    Role.SUPERVISOR: CONVERSATION_WORK | {
        Action.READ_EARLIER_EPISODES, Action.READ_AUDIT, Action.VIEW_ESCALATIONS, Action.VIEW_INCIDENTS,
        Action.VIEW_OPERATIONS, Action.REVIEW_COMPLIANCE,
        Action.REASSIGN, Action.VIEW_CALLBACKS, Action.VIEW_SUPERVISION,
    },
    Role.ADMIN: frozenset({Action.MANAGE_AGENTS, Action.READ_AUDIT, Action.VIEW_INCIDENTS}),
}
"""Role -> the actions it may take. Admin manages agents and reads no conversation at all."""

DEFAULT_SKILLS: dict[Role, tuple[str, ...]] = {
    Role.AGENT: ("general",),
    Role.NURSE: ("nurse",),
    Role.PHARMACIST: ("pharmacy",),
    Role.SUPERVISOR: ("general",),
    Role.ADMIN: (),
}
"""Skills of an agent whose directory entry lists none; listed skills win, within ``ROLE_SKILLS``."""

FRONT_DESK_SKILLS = frozenset({Skill.GENERAL.value, Skill.BILLING.value})
ROLE_SKILLS: dict[Role, frozenset[str]] = {
    Role.AGENT: FRONT_DESK_SKILLS,
    Role.NURSE: frozenset(skill.value for skill in Skill),
    Role.PHARMACIST: FRONT_DESK_SKILLS | {Skill.PHARMACY.value},
    Role.SUPERVISOR: frozenset(skill.value for skill in Skill),
    Role.ADMIN: frozenset(),
}
"""The skills a role may be given: the clinical queues (nurse, behavioral health, pharmacy) and the crises
they carry are for licensed roles, so a front-desk agent listed with a clinical skill is a directory error,
never a grant."""

REFUSALS: dict[Action, str] = {
    Action.READ_EARLIER_EPISODES: "role {role!r} reads the current episode only",
    Action.MANAGE_AGENTS: "role {role!r} may not manage agents (role admin does)",
    Action.READ_AUDIT: "role {role!r} may not read the audit log",
    Action.VIEW_ESCALATIONS: "role {role!r} may not view escalated crises (role supervisor does)",
    Action.VIEW_INCIDENTS: "role {role!r} may not view security incidents (roles supervisor and admin do)",
    Action.VIEW_OPERATIONS: "role {role!r} may not view the operations dashboard (role supervisor does)",
    Action.REVIEW_COMPLIANCE: "role {role!r} may not review compliance findings (role supervisor does)",
    Action.REASSIGN: "role {role!r} may not reassign or take over conversations (role supervisor does)",
    Action.VIEW_CALLBACKS: "role {role!r} may not view phone callbacks (role supervisor does)",
    Action.VIEW_SUPERVISION: "role {role!r} may not view the supervisor's overview (role supervisor does)",
}


class ActionForbidden(Exception):
    """A role asked for an action its permissions do not include (HTTP 403)."""

    def __init__(self, role: str, action: Action) -> None:
        template = REFUSALS.get(action, "role {role!r} may not " + action.value.replace("_", " "))
        super().__init__(template.format(role=role))
        self.role = role
        self.action = action


def role_of(name: str) -> Optional[Role]:
    try:
        return Role(name)
    except ValueError:
        return None


def allowed(role: str, action: Action) -> bool:
    """True when ``role`` may take ``action``; an unknown role may take none."""
    known = role_of(role)
    return known is not None and action in PERMISSIONS[known]


async def require(
    agent: "Agent", action: Action, audit: AuditLog, conversation: str = "-", source: Optional[str] = None
) -> None:
    """Returns if the agent's role may take ``action``; else records ``forbidden_<action>`` in the audit log
    and raises ``ActionForbidden``. The record is written before the refusal, so a refusal is never unaudited."""
    if allowed(agent.role, action):
        return
    await audit.record(agent.agent_id, f"forbidden_{action.value}", conversation, source)
    raise ActionForbidden(agent.role, action)
