"""The satisfaction survey offered at close: 1 (very dissatisfied) to 5 (very satisfied), in the patient's language.

Closing an episode that had no crisis offers the survey (``CLOSE_SCRIPT``: the offer goes out on the patient's
push socket and stays in the transcript) and the conversation waits for the rating. The patient's next message
(the connector's gate, after the crisis screen) is the answer when it is a digit from 1 to 5 (any script's
digits) or the word for one in the language it was offered in, or in the language the patient now writes: it
is stored on the conversation and counted for the agent and the queue (``survey_answered``, audited in the same
step), and the patient is thanked. A number that is no rating ("0", "6", "10", "4.5") gets a clear re-ask and
changes nothing; any other message withdraws the survey and goes on as any message would (the bot, or a
person): a patient who moves on is never held in a survey. A new escalation withdraws it too.
"""

import re
import unicodedata
from dataclasses import dataclass
from typing import Optional

from handoff.audit import AuditWriter
from handoff.operations import OperationsEvents
from handoff.queue import AuditFields, LiveAgentQueue, audit_args
from handoff.redis_values import decoded, text_of
from handoff.scripts import AUDIT_FUNCTION
from handoff.transcripts import now_ms
from languages import LanguageCatalog

OFFER_NOTICE = "survey_offer"
RETRY_NOTICE = "survey_retry"
THANKS_NOTICE = "survey_thanks"
WORDS_NOTICE = "survey_words"
RATINGS = range(1, 6)
MISSED_RATING = re.compile(r"[-+]?\d{1,3}([.,]\d{1,2})?")
"""A number that is not a rating from 1 to 5 ("0", "6", "10", "4.5"): a try at the survey, re-asked."""
SURVEY_ACTOR = "patient"

SURVEY_ANSWER_SCRIPT = AUDIT_FUNCTION + """
local conversation, totals = KEYS[1], KEYS[2]
local episode, answer = ARGV[1], ARGV[2]
local fields = redis.call('HMGET', conversation, 'survey_episode', 'survey_agent', 'survey_queue', 'state')
if not fields[1] or fields[1] ~= episode or fields[4] == 'QUEUED' or fields[4] == 'WITH_AGENT' then
  return 'no_survey'
end
redis.call('HDEL', conversation, 'survey_episode', 'survey_agent', 'survey_queue', 'survey_language')
if answer == 'withdraw' then return 'withdrawn' end
redis.call('HSET', conversation, 'survey_rating', answer, 'survey_rated_episode', episode, 'survey_rated_at', ARGV[3])
for _, subject in ipairs({'agent:' .. fields[2], 'queue:' .. fields[3]}) do
  redis.call('HINCRBY', totals, subject .. ':count', 1)
  redis.call('HINCRBY', totals, subject .. ':sum', answer)
end
audit(KEYS[3], ARGV[4], ARGV[5], ARGV[6])
return 'ok'
"""
"""A rating (``answer``, 1-5) for the episode that offered the survey, or ``withdraw``; ``no_survey`` when none
waits for this episode (answered meanwhile, or a new escalation)."""


@dataclass(frozen=True)
class Satisfaction:
    """Ratings of one agent or one queue: how many, and their mean."""

    subject: str
    count: int
    mean: float


class Surveys:
    def __init__(
        self, queue: LiveAgentQueue, catalog: LanguageCatalog, audit: Optional[AuditWriter] = None,
        events: Optional[OperationsEvents] = None,
    ) -> None:
        """``audit``: where a stored rating is audited: the log, or the intake of a process without the audit keys
        (``handoff.audit_intake``); ``events``: where it counts for CSAT (``handoff.operations``)."""
        self.queue = queue
        self.catalog = catalog
        self.audit = audit
        self.events = events
        self._answer = queue.redis.register_script(SURVEY_ANSWER_SCRIPT)

    async def answer(self, conversation_id: str, text: str, language: str) -> Optional[str]:
        """What to reply when ``text`` answers (or misses) the survey waiting in the conversation; None when no
        survey waits, or the message is something else (the survey is then withdrawn), and it goes on as usual."""
        episode, offered_in, queue = (
            text_of(value) if value is not None else None for value in await self.queue.redis.hmget(
                self.queue.keys.conversation(conversation_id), ["survey_episode", "survey_language", "survey_queue"]))
        if episode is None:
            return None
        rating = self.rating_of(text, [offered_in or "", language])
        if rating is not None:
            audit = self.audit.prepare(SURVEY_ACTOR, "survey_answered", conversation_id, None) if self.audit else None
            if await self._run(conversation_id, episode, str(rating), audit) != "ok":
                return None
            if self.events is not None:
                await self.events.survey_answered(rating, queue or "")
            return self.catalog.notice(language, THANKS_NOTICE)
        if MISSED_RATING.fullmatch(_number(text)):
            return self.catalog.notice(language, RETRY_NOTICE)
        await self._run(conversation_id, episode, "withdraw")
        return None

    def rating_of(self, text: str, languages: list[str]) -> Optional[int]:
        """1-5 from a digit in any script (Arabic-Indic and full-width digits too) or the word for it in one of
        ``languages``; punctuation and spaces around it do not matter."""
        number = _number(text)
        if len(number) == 1 and number.isdecimal():
            return int(number) if int(number) in RATINGS else None
        answer = _bare(text).casefold()
        for language in languages:
            words = [word.strip().casefold() for word in self.catalog.notice(language, WORDS_NOTICE).split(",")]
            if answer in words:
                return words.index(answer) + 1
        return None

    async def satisfaction(self) -> list[Satisfaction]:
        """Ratings per agent (``agent:<id>``) and per queue (``queue:<language>``)."""
        totals = decoded(await self.queue.redis.hgetall(self.queue.keys.survey_totals()))
        subjects = sorted({name.rsplit(":", 1)[0] for name in totals})
        return [Satisfaction(subject, int(totals[f"{subject}:count"]),
                             round(int(totals[f"{subject}:sum"]) / int(totals[f"{subject}:count"]), 2))
                for subject in subjects if int(totals.get(f"{subject}:count", 0))]

    async def _run(self, conversation_id: str, episode: str, answer: str, audit: Optional[AuditFields] = None) -> str:
        keys = self.queue.keys
        return text_of(await self._answer(
            keys=[keys.conversation(conversation_id), keys.survey_totals(),
                  self.audit.stream() if self.audit else keys.audit_log()],
            args=[episode, answer, now_ms(), *audit_args(audit)],
        ))


def _number(text: str) -> str:
    """The text as a number would be written: signs and decimal marks kept, a full stop after it dropped."""
    return _bare(text, keep="+-.,").rstrip(".,")


def _bare(text: str, keep: str = "") -> str:
    """The text without spaces, punctuation or control characters, but those in ``keep``."""
    return "".join(character for character in text if character in keep or
                   not unicodedata.category(character).startswith(("P", "Z", "C")))
