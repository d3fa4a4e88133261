"""Who can take a crisis now: coverage hours and the agent directory together.

A crisis waits at the head of its own language's queue. When nobody can take
it there now (the queue is outside its coverage hours, or no agent in the
directory speaks the language, may take the crisis's skill and has current
HIPAA training), it also waits
in the English crisis queue, flagged with the patient's language, so that an
English-speaking crisis agent sees it; a claim from either queue takes it out
of both (see ``handoff.scripts``).
"""

from datetime import datetime, timezone
from typing import Optional

from handoff.agents import AgentDirectory
from handoff.coverage import CoverageHours
from handoff.models import Skill
from handoff.settings import AgentAccess

CRISIS_FALLBACK_LANGUAGE = "en"


class Staffing:
    def __init__(
        self,
        coverage: CoverageHours,
        directory: Optional[AgentDirectory] = None,
        training_valid_days: int = AgentAccess.training_valid_days,
    ) -> None:
        """Without a directory, only coverage hours decide."""
        self.coverage = coverage
        self.directory = directory
        self.training_valid_days = training_valid_days

    def can_take(self, language: str, skill: Skill, at: Optional[datetime] = None) -> bool:
        """True when the language queue is open and some agent of the directory could claim the task."""
        if not self.coverage.is_open(language, at or datetime.now(timezone.utc)):
            return False
        if self.directory is None:
            return True
        return any(
            language in agent.languages
            and (agent.claimable_skills is None or skill.value in agent.claimable_skills)
            and agent.training_problem(self.training_valid_days) is None
            for agent in self.directory.agents()
        )

    def crisis_fallback(self, language: str, skill: Skill, at: Optional[datetime] = None) -> Optional[str]:
        """The language whose queue also gets this crisis, or None when its own queue is staffed."""
        if language == CRISIS_FALLBACK_LANGUAGE or self.can_take(language, skill, at):
            return None
        return CRISIS_FALLBACK_LANGUAGE
