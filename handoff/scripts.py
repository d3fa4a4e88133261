"""The Lua scripts behind every multi-step change of the queue and the conversation state.

Each runs atomically in Redis, so any number of Rasa and console processes can
share one Redis. All keys share the namespace's hash tag (see ``handoff.keys``),
including the queue keys a conversation hash names (``queue``, ``fallback_queue``).

A conversation waits in its language's queue (``queue``). A crisis that no
agent of its language can take now also waits in a fallback queue
(``fallback_queue``, the English queue, with ``fallback_language``), under the
same score; claiming it from either queue takes it out of both, in one script.

A conversation's ``language`` is its queue's, the language its agent must speak. When the patient
asked for a person who speaks another language than their own (a language-concordant request), the
patient's own language is kept beside it as ``patient_language``: set by the enqueue of that episode,
cleared by the next episode's enqueue and whenever the conversation's language is set again.

Health facts (reason, skill, crisis category and evidence) arrive sealed (``handoff.health_facts``); the
claim compares the agent's ``skill_tag`` values, never a skill in clear. Retention
(``PHI_RETENTION_DAYS``): an open conversation (QUEUED, WITH_AGENT) never has an expiry on its hash,
transcript or episode records; escalating removes any, closing sets it, and a write while it is with
the bot renews it (``retain``).

Transcript entries and episode records are sealed for their position in their list
(``handoff.sealed_records``): a script that appends one gets the position it was sealed for and answers
``moved`` (changing nothing) when the list is no longer that long, so that the caller seals it again.

A script whose change an agent's console shows (a task queued or taken, a message in a conversation with an agent,
a crisis alert) adds a marker, with no conversation id or content, to the console changes stream, its last key
(``console_changed``, ``handoff.console_changes``): the consoles' event sockets wake on it.
"""

from handoff.console_changes import CONSOLE_CHANGED_FUNCTION
from handoff.durable_writes import RECENT_MESSAGE_IDS

RETAIN_FUNCTION = """
local function retain(conversation, ms, ...)
  local state = redis.call('HGET', conversation, 'state')
  if state == 'QUEUED' or state == 'WITH_AGENT' then return end
  for _, key in ipairs({conversation, ...}) do redis.call('PEXPIRE', key, ms) end
end
"""
"""A conversation that is not open expires ``ms`` after its last write: the keys given, with its hash."""

STORED_MARKS_FUNCTION = f"""
local function stored_mark(key, mark, ms)
  for _, entry in ipairs(redis.call('LRANGE', key, 0, -1)) do
    if string.sub(entry, 1, #mark) == mark then
      redis.call('PEXPIRE', key, ms)
      return entry
    end
  end
  return false
end
local function mark_stored(key, entry, ms)
  redis.call('LPUSH', key, entry)
  redis.call('LTRIM', key, 0, {RECENT_MESSAGE_IDS - 1})
  redis.call('PEXPIRE', key, ms)
end
"""
"""The author's recent stored messages (``KeySpace.message_stored``, newest first, ``RECENT_MESSAGE_IDS`` of
them), each an entry that starts with its mark (``<id> `` for a patient message); a message found there was stored
before: its entry is answered and the list's expiry renewed (a write, which the caller's ``WAIT`` counts from).
Several, not only the last: a patient may send a second message while the first one is still being sent again."""

QUEUE_SCORE_FUNCTION = """
local function queue_score(rank, stride, enqueued_at, head)
  local score = rank * stride + enqueued_at
  if head then score = score - stride / 2 end
  return string.format('%.0f', score)
end
"""
"""A conversation's score in its queue: its priority's band (``rank * stride``), then its enqueue time (ms), so
priority first and then first come. Two enqueued in the same millisecond would tie (and Redis would order them
by id), so an enqueue moves its ``enqueued_at`` on past the last one given in any queue (the enqueue clock), and a
replay, which keeps the time it was recorded at, by a millisecond until its score is free: first come holds across
the queues an agent takes from, not only within one. One sent back to
the head (``head_of_queue``: its agent left, or it was transferred) sits in the lower half of its band: before
everyone of its priority who waits from the start, and among the others sent back, still first come."""

ENQUEUE_BODY = """
local conversation, queue, alerts, fallback_queue = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local unacknowledged, escalated = KEYS[7], KEYS[8]
local id, language, skill, priority, rank, reason, now =
  ARGV[1], ARGV[2], ARGV[3], ARGV[4], tonumber(ARGV[5]), ARGV[6], ARGV[7]
local crisis_category, crisis_evidence, fallback_language = ARGV[9], ARGV[10], ARGV[11]
local patient_language, skill_tag = ARGV[12], ARGV[13]
local state = redis.call('HGET', conversation, 'state')
if crisis_category ~= '' then
  console_changed('crisis')
  if redis.call('HEXISTS', conversation, 'crisis_category') == 0 then
    redis.call('ZADD', unacknowledged, now, id)
    redis.call('ZREM', escalated, id)
  else
    redis.call('ZADD', unacknowledged, 'NX', now, id)
  end
  redis.call('HSET', conversation, 'crisis_category', crisis_category,
    'crisis_evidence', crisis_evidence, 'phone_follow_up', '1')
  redis.call('HDEL', conversation, 'reply_after')
end
if state == 'WITH_AGENT' then
  if crisis_category ~= '' then
    redis.call('XADD', alerts, 'MAXLEN', '~', 10000, '*', 'conversation', id,
      'agent', redis.call('HGET', conversation, 'agent'), 'category', crisis_category, 'at_ms', now)
  end
  return {state, 0}
end
local function place_in_fallback(home_queue)
  local target = redis.call('HGET', conversation, 'fallback_queue')
  if fallback_language ~= '' and fallback_queue ~= home_queue then
    if target and target ~= fallback_queue then redis.call('ZREM', target, id) end
    target = fallback_queue
    redis.call('HSET', conversation, 'fallback_queue', fallback_queue, 'fallback_language', fallback_language)
  end
  local score = redis.call('ZSCORE', home_queue, id)
  if target and score then redis.call('ZADD', target, score, id) end
end
if state == 'QUEUED' then
  local current_queue = redis.call('HGET', conversation, 'queue')
  if rank < tonumber(redis.call('HGET', conversation, 'priority_rank')) then
    console_changed('queue')
    local head = redis.call('HEXISTS', conversation, 'head_of_queue') == 1
    local enqueued_at = tonumber(redis.call('HGET', conversation, 'enqueued_at'))
    redis.call('ZADD', current_queue, queue_score(rank, tonumber(ARGV[8]), enqueued_at, head), id)
    redis.call('HSET', conversation, 'priority', priority, 'priority_rank', rank,
      'reason', reason, 'skill', skill, 'skill_tag', skill_tag, 'updated_at', now)
  end
  place_in_fallback(current_queue)
  return {state, redis.call('ZRANK', current_queue, id) + 1}
end
console_changed('queue')
local stride, enqueued_at = tonumber(ARGV[8]), tonumber(now)
local clock = tonumber(redis.call('GET', KEYS[9]) or '0')
if enqueued_at <= clock and not keeps_time then enqueued_at = clock + 1 end
while redis.call('ZCOUNT', queue, queue_score(rank, stride, enqueued_at, false),
  queue_score(rank, stride, enqueued_at, false)) > 0 do
  enqueued_at = enqueued_at + 1
end
if enqueued_at > clock then redis.call('SET', KEYS[9], string.format('%.0f', enqueued_at)) end
redis.call('HINCRBY', conversation, 'episode', 1)
for _, key in ipairs({conversation, KEYS[5], KEYS[6]}) do redis.call('PERSIST', key) end
redis.call('HSET', conversation, 'state', 'QUEUED', 'queue', queue, 'language', language,
  'skill', skill, 'skill_tag', skill_tag, 'priority', priority, 'priority_rank', rank, 'reason', reason,
  'enqueued_at', string.format('%.0f', enqueued_at), 'updated_at', now,
  'escalated_at_entry', redis.call('LLEN', KEYS[5]))
redis.call('HDEL', conversation, 'agent', 'resume_pending', 'reply_after', 'fallback_queue', 'fallback_language',
  'head_of_queue', 'survey_episode', 'survey_agent', 'survey_queue', 'survey_language', 'survey_reasked')
if patient_language ~= '' then
  redis.call('HSET', conversation, 'patient_language', patient_language)
else
  redis.call('HDEL', conversation, 'patient_language')
end
redis.call('ZADD', queue, queue_score(rank, stride, enqueued_at, false), id)
place_in_fallback(queue)
local position = redis.call('ZRANK', queue, id) + 1
redis.call('HSET', conversation, 'enqueued_position', position)
return {'QUEUED', position}
"""


def enqueue_steps(keeps_time: bool) -> str:
    """The enqueue, with its functions; ``keeps_time``: the enqueue keeps the time it is given (a replay)."""
    return QUEUE_SCORE_FUNCTION + CONSOLE_CHANGED_FUNCTION + f"local keeps_time = {str(keeps_time).lower()}\n" \
        + ENQUEUE_BODY


ENQUEUE_SCRIPT = ("local function enqueue()\n" + enqueue_steps(keeps_time=False)
                  + "end\nlocal result = enqueue()\nreturn {result[1], result[2], redis.call('HGETALL', KEYS[1])}\n")
"""The enqueue's state and position, with the conversation as it left it (the caller reads no more)."""

REPLAY_SCRIPT = (
    STORED_MARKS_FUNCTION
    + """
if redis.call('EXISTS', KEYS[10]) == 1 then
  redis.call('PEXPIRE', KEYS[10], ARGV[14])
  return {'REPLAYED', 0}
end
local stored_before = ARGV[16] ~= '' and stored_mark(KEYS[11], ARGV[16] .. ' ', ARGV[14]) ~= false
if (stored_before and '1' or '0') ~= ARGV[17] or redis.call('LLEN', KEYS[5]) ~= tonumber(ARGV[15]) then
  return {'moved', 0}
end
for index = 18, #ARGV do redis.call('RPUSH', KEYS[5], ARGV[index]) end
if ARGV[16] ~= '' and not stored_before then mark_stored(KEYS[11], ARGV[16] .. ' ', ARGV[14]) end
local function enqueue()
"""
    + enqueue_steps(keeps_time=True)
    + """
end
local result = enqueue()
redis.call('SET', KEYS[10], result[1] .. ':' .. redis.call('HGET', KEYS[1], 'episode'), 'PX', ARGV[14])
return result
"""
)
"""An escalation stored once: a marker key (set for good measure with a long expiry) makes a
second replay of the same spooled crisis a no-op (but for renewing the marker's expiry: a write, which the
replay's ``WAIT`` counts from, ``handoff.durable_writes``), and the transcript entries go in with it, sealed for
the positions from ``ARGV[15]`` on. When the patient's message (id ``ARGV[16]``) is one of the recent ones stored
in the conversation (``KEYS[11]``; the gate stored it before the write that failed), the entries (``ARGV[17]`` = ``1``)
are only what the spool alone knows; ``moved`` when that is no longer so. The marker keeps what the enqueue did,
``<state>:<episode>``, so that the crisis is counted in the operations events (``CrisisReplayer``) even by a replay
after one stopped between Redis and counting it."""

AUDIT_FUNCTION = """
local function audit(stream, entry, key, mac)
  if entry ~= '' then redis.call('XADD', stream, '*', 'entry', entry, 'key', key, 'mac', mac) end
end
"""
"""Claim, agent message and close write their audit entry (``handoff.audit``) in the same script as the
change: a change is never without its record, and a record never without its change."""

CLAIM_SCRIPT = AUDIT_FUNCTION + CONSOLE_CHANGED_FUNCTION + """
local conversation, assigned = KEYS[1], KEYS[2]
local id, agent, now, languages, skills = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5]
local fields = redis.call('HMGET', conversation, 'state', 'queue', 'language', 'skill_tag',
  'fallback_queue', 'fallback_language', 'enqueued_at', 'enqueued_position', 'head_of_queue', 'crisis_category')
if not fields[1] then return 'not_found' end
if fields[1] ~= 'QUEUED' then return 'not_queued' end
local speaks = string.find(languages, ',' .. fields[3] .. ',', 1, true)
  or (fields[6] and string.find(languages, ',' .. fields[6] .. ',', 1, true))
if not speaks then return 'wrong_language' end
if skills ~= '*' and not string.find(skills, ',' .. fields[4] .. ',', 1, true) then return 'wrong_skill' end
local exempt = ARGV[13] == '1' and fields[10]
if ARGV[10] ~= '' and not exempt and redis.call('SCARD', assigned) >= tonumber(ARGV[10]) then
  return 'at_capacity'
end
console_changed('claim')
redis.call('ZREM', fields[2], id)
if fields[5] then redis.call('ZREM', fields[5], id) end
redis.call('HSET', conversation, 'state', 'WITH_AGENT', 'agent', agent,
  'claimed_at', now, 'updated_at', now)
redis.call('HDEL', conversation, 'fallback_queue', 'fallback_language')
redis.call('SADD', assigned, id)
redis.call('ZADD', KEYS[4], ARGV[9], id)
redis.call('ZADD', KEYS[5], now, agent)
if fields[8] and not fields[9] then
  local waits = ARGV[11] .. fields[3]
  redis.call('LPUSH', waits, string.format('%.0f', (tonumber(now) - tonumber(fields[7])) / tonumber(fields[8])))
  redis.call('LTRIM', waits, 0, tonumber(ARGV[12]) - 1)
end
audit(KEYS[3], ARGV[6], ARGV[7], ARGV[8])
return {'ok', redis.call('HGETALL', conversation), redis.call('LLEN', KEYS[6])}
"""
"""A claim starts the agent's time to answer: the conversation waits in the unanswered assignments until the
agent's first message, scored by the deadline (``ARGV[9]``, ms). It is the agent's last assignment (``KEYS[5]``,
by time: auto-assignment serves the longest idle first). With a capacity (``ARGV[10]``), an agent who already
has that many conversations gets no more (``at_capacity``), unless ``ARGV[13]`` is ``1`` (a pull-claim) and the
conversation has an open crisis: nothing ever stops a person from taking a crisis. The wait is recorded for estimates
(``handoff.waits``): per place in line at the enqueue, in the newest ``ARGV[12]`` of the queue language's recent
waits (``ARGV[11]``, the key's prefix); not for one sent back to the head, whose place and time say nothing.
A claim answers ``ok`` with the conversation it claimed (its hash) and its transcript's length (``KEYS[6]``), a
refusal its name."""

SET_LANGUAGE_SCRIPT = RETAIN_FUNCTION + CONSOLE_CHANGED_FUNCTION + """
local conversation, new_queue = KEYS[1], KEYS[2]
local id, language = ARGV[1], ARGV[2]
local fields = redis.call('HMGET', conversation, 'state', 'queue', 'fallback_queue')
if fields[1] == 'QUEUED' and fields[2] ~= new_queue then
  local score = redis.call('ZSCORE', fields[2], id)
  if score then
    redis.call('ZREM', fields[2], id)
    redis.call('ZADD', new_queue, score, id)
    redis.call('HSET', conversation, 'queue', new_queue)
    console_changed('queue')
    if fields[3] == new_queue then
      redis.call('HDEL', conversation, 'fallback_queue', 'fallback_language')
    end
  end
end
redis.call('HSET', conversation, 'language', language)
redis.call('HDEL', conversation, 'patient_language')
retain(conversation, ARGV[3])
return 'ok'
"""

RECORD_FUNCTION = RETAIN_FUNCTION + STORED_MARKS_FUNCTION + CONSOLE_CHANGED_FUNCTION + """
local function record(conversation, transcript, episodes, stored, retention, position, message_id, first)
  if message_id ~= '' and stored_mark(stored, message_id .. ' ', retention) then return 'stored_before' end
  if redis.call('LLEN', transcript) ~= tonumber(position) then return 'moved' end
  for index = first, #ARGV do redis.call('RPUSH', transcript, ARGV[index]) end
  if redis.call('HGET', conversation, 'state') == 'WITH_AGENT' then console_changed('message') end
  if message_id ~= '' then mark_stored(stored, message_id .. ' ', retention) end
  retain(conversation, retention, transcript, episodes)
  return 'ok'
end
"""
"""Appends the transcript entries ``ARGV[first]`` on, sealed for the positions from ``position`` on; with the bot,
the conversation's retention (``retention`` ms) starts again. A patient message with an id (``message_id``) among
the recent ones stored (``stored``) was stored before: it is not stored again (``stored_before``)
(``handoff.durable_writes``); an entry sealed for the wrong place changes nothing (``moved``)."""

RECORD_SCRIPT = RECORD_FUNCTION + """
local outcome = record(KEYS[1], KEYS[2], KEYS[3], KEYS[4], ARGV[1], ARGV[2], ARGV[3], 5)
if outcome ~= 'ok' or ARGV[4] == '' then return outcome end
if redis.call('GET', KEYS[5]) ~= ARGV[4] then return 'lock_lost' end
redis.call('DEL', KEYS[5])
return 'ok'
"""
"""Transcript entries (``ARGV[5]`` on) recorded (``record``: conversation, transcript, episode records, stored
message ids; retention, position, message id). With a token (``ARGV[4]``), the entries are the last of a turn under
the conversation's lock (``KEYS[5]``, ``handoff.conversation_lock``), which is let go with them if it still holds
that token (``lock_lost`` if not); an entry sealed for the wrong place (``moved``) lets go of nothing."""

AGENT_MESSAGE_SCRIPT = AUDIT_FUNCTION + STORED_MARKS_FUNCTION + CONSOLE_CHANGED_FUNCTION + """
local conversation, transcript, outbox = KEYS[1], KEYS[2], KEYS[3]
local mark = ARGV[1] .. ' ' .. ARGV[11] .. ' '
local stored = ARGV[11] ~= '' and stored_mark(KEYS[6], mark, ARGV[12])
if stored then return string.sub(stored, #mark + 1) end
local fields = redis.call('HMGET', conversation, 'state', 'agent', 'episode')
if not fields[1] then return 'not_found' end
if fields[1] ~= 'WITH_AGENT' or fields[2] ~= ARGV[1] or fields[3] ~= ARGV[4] then return 'not_assigned' end
if redis.call('LLEN', transcript) ~= tonumber(ARGV[10]) then return 'moved' end
redis.call('RPUSH', transcript, ARGV[2])
console_changed('message')
redis.call('ZREM', KEYS[5], ARGV[8])
audit(KEYS[4], ARGV[5], ARGV[6], ARGV[7])
local id = redis.call('XADD', outbox, 'MAXLEN', '~', ARGV[3], '*', 'entry', ARGV[9], 'sequence', ARGV[10])
if ARGV[11] ~= '' then mark_stored(KEYS[6], mark .. id, ARGV[12]) end
return id
"""
"""The message goes in the transcript at position ``ARGV[10]`` and in the episode's outbox, sealed for each
(``ARGV[2]``, ``ARGV[9]``) with that position as its outbox sequence. A message the agent's console sent with an id
(``ARGV[11]``) among the agent's recent ones stored (``KEYS[6]``, entries ``<agent> <id> <outbox id>``) was stored
before: the script answers that message's outbox id and stores nothing again (``handoff.durable_writes``)."""

CLOSE_SCRIPT = AUDIT_FUNCTION + CONSOLE_CHANGED_FUNCTION + """
local conversation, assigned, transcript, episodes, outbox = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
local fields = redis.call('HMGET', conversation, 'state', 'agent', 'episode', 'crisis_category', 'language')
if not fields[1] then return 'not_found' end
if fields[1] ~= 'WITH_AGENT' or fields[2] ~= ARGV[1] or fields[3] ~= ARGV[5] then return 'not_assigned' end
if (fields[4] or '') ~= ARGV[6] then return 'crisis_changed' end
if redis.call('LLEN', episodes) ~= tonumber(ARGV[13]) then return 'moved' end
if ARGV[14] ~= '' then
  if redis.call('LLEN', transcript) ~= tonumber(ARGV[15]) then return 'moved' end
  redis.call('RPUSH', transcript, ARGV[14])
  redis.call('XADD', outbox, 'MAXLEN', '~', ARGV[18], '*', 'entry', ARGV[16], 'sequence', ARGV[15])
  redis.call('HSET', conversation, 'survey_episode', ARGV[5], 'survey_agent', ARGV[1], 'survey_queue', fields[5],
    'survey_language', ARGV[17])
  redis.call('HDEL', conversation, 'survey_reasked')
end
console_changed('close')
redis.call('SREM', assigned, ARGV[4])
redis.call('RPUSH', episodes, ARGV[7])
redis.call('PEXPIRE', outbox, ARGV[8])
redis.call('HSET', conversation, 'state', ARGV[2], 'resume_pending', '1',
  'closed_by', ARGV[1], 'updated_at', ARGV[3], 'transcript_from', redis.call('LLEN', transcript))
redis.call('HDEL', conversation, 'agent', 'queue', 'priority_rank', 'reply_after',
  'fallback_queue', 'fallback_language', 'crisis_category', 'crisis_evidence', 'phone_follow_up',
  'verified_via', 'verified_at')
for _, key in ipairs({conversation, transcript, episodes}) do redis.call('PEXPIRE', key, ARGV[12]) end
for index = 7, 9 do redis.call('ZREM', KEYS[index], ARGV[4]) end
audit(KEYS[6], ARGV[9], ARGV[10], ARGV[11])
return 'ok'
"""
"""Closing ends an episode: its record (sealed, with the crisis disposition) is kept, the open crisis
flags (and its crisis alert, acknowledged or not: the disposition says what became of it), the agent's
time to answer and the patient's verification are cleared, the next episode's transcript starts here
(``transcript_from``), the episode's outbox expires once the patient's socket could drain it, and the
conversation (hash, transcript, episode records) once its retention has passed. The record is sealed for its
position in the episode records (``ARGV[13]``).
A crisis that arrived after the agent last looked (``crisis_changed``) stops the close. With a survey offer
(``ARGV[14]`` sealed for transcript position ``ARGV[15]``, ``ARGV[16]`` for the outbox; ``handoff.surveys``), the
offer ends the episode's transcript and goes out on its outbox, and the conversation waits for the rating: who
is rated (the agent, the queue language) and the language it was offered in (``ARGV[17]``); ``ARGV[18]``: the
outbox's length bound."""

REQUEUE_SCRIPT = AUDIT_FUNCTION + QUEUE_SCORE_FUNCTION + CONSOLE_CHANGED_FUNCTION + """
local conversation, assigned, transcript, outbox, unanswered = KEYS[1], KEYS[2], KEYS[4], KEYS[5], KEYS[6]
local id, agent, stride, now, unanswered_by = ARGV[1], ARGV[2], tonumber(ARGV[3]), ARGV[4], ARGV[11]
local fields = redis.call('HMGET', conversation, 'state', 'agent', 'queue', 'priority_rank', 'episode',
  'crisis_category', 'enqueued_at')
if unanswered_by ~= '' then
  local answer_by = redis.call('ZSCORE', unanswered, id)
  if not answer_by then return 0 end
  if fields[1] ~= 'WITH_AGENT' then
    redis.call('ZREM', unanswered, id)
    return 0
  end
  if tonumber(answer_by) > tonumber(unanswered_by) then return 0 end
end
if fields[1] ~= 'WITH_AGENT' or fields[2] ~= agent or not fields[3] or fields[5] ~= ARGV[8] then return 0 end
if redis.call('LLEN', transcript) ~= tonumber(ARGV[13]) then return -1 end
console_changed('requeue')
redis.call('ZADD', fields[3], queue_score(tonumber(fields[4]), stride, tonumber(fields[7]), true), id)
redis.call('HSET', conversation, 'state', 'QUEUED', 'updated_at', now, 'requeued_at', now, 'head_of_queue', '1')
redis.call('HDEL', conversation, 'agent', 'claimed_at')
redis.call('SREM', assigned, id)
redis.call('ZREM', unanswered, id)
if fields[6] then redis.call('ZADD', KEYS[7], 'NX', now, id) end
redis.call('RPUSH', transcript, ARGV[9])
redis.call('XADD', outbox, 'MAXLEN', '~', ARGV[10], '*', 'entry', ARGV[12], 'sequence', ARGV[13])
if unanswered_by ~= '' then redis.call('HSET', KEYS[8], agent, 'away') end
audit(KEYS[3], ARGV[5], ARGV[6], ARGV[7])
return 1
"""
"""A claimed conversation goes back to the head of its queue (``queue_score``: before everyone of that priority
who waits from the start, never behind; among those sent back, first come), still the same episode, and the
patient is told (the sealed notice ``ARGV[9]``, in the transcript at position ``ARGV[13]`` and the episode's
outbox as ``ARGV[12]``; -1 when the transcript moved on since it was sealed); only if that agent still has it in
that episode. Two reasons: the agent went silent (``ARGV[11]`` empty), or it has not answered the patient by its
deadline (``ARGV[11]``: now, ms; a conversation no longer with an agent leaves the unanswered assignments). An
open crisis waits again for acknowledgement, by its next agent, keeping its time if it was still waiting. An agent
who let its time to answer run out is set away (``KEYS[8]``, the chosen statuses), so that auto-assignment gives it
nothing more until it says it is available again."""

TAKE_RESUME_SCRIPT = """
local conversation = KEYS[1]
local fields = redis.call('HMGET', conversation, 'state', 'resume_pending')
if fields[1] == 'CLOSED' then
  redis.call('HSET', conversation, 'state', 'BOT')
end
if fields[2] then
  redis.call('HDEL', conversation, 'resume_pending')
  return 1
end
return 0
"""
