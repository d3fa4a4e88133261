"""The Lua scripts of handovers between people: transfer to a queue, reassignment to a named person (a transfer by
the agent, a supervisor's reassignment or take-over), internal notes and phone callbacks.

Each checks that the person acting may still do it (the agent has the conversation in that episode, or the
caller checked a supervisor's role), changes everything in one step and writes its audit entry in the same step
(``AUDIT_FUNCTION``), as the scripts of ``handoff.scripts`` do. A note goes into the transcript at the position
it was sealed for (``moved`` otherwise, and the caller seals it again); never into the patient's outbox.
"""

from handoff.console_changes import CONSOLE_CHANGED_FUNCTION
from handoff.scripts import AUDIT_FUNCTION, QUEUE_SCORE_FUNCTION

NOTE_FUNCTION = CONSOLE_CHANGED_FUNCTION + """
local function add_note(transcript, note, position)
  if note == '' then return true end
  if redis.call('LLEN', transcript) ~= tonumber(position) then return false end
  redis.call('RPUSH', transcript, note)
  console_changed('message')
  return true
end
"""
"""Appends a sealed note (none when empty) at ``position``; false when the transcript moved on since it was
sealed. Called before any other change, so that ``moved`` changes nothing. A note tells the consoles
(``handoff.console_changes``): the scripts that add one take the console changes stream as their last key."""

HELD_FUNCTION = """
local function held(conversation, agent, episode)
  local fields = redis.call('HMGET', conversation, 'state', 'agent', 'episode')
  if not fields[1] then return 'not_found' end
  if fields[1] ~= 'WITH_AGENT' or fields[2] ~= agent or fields[3] ~= episode then
    return 'not_assigned'
  end
  return nil
end
"""
"""Why ``agent`` may not act on the conversation in ``episode`` (it does not have it then), or nil. A supervisor
acts for the agent it read as the holder: if another has it by now, nothing changes."""

TRANSFER_TO_QUEUE_SCRIPT = AUDIT_FUNCTION + QUEUE_SCORE_FUNCTION + NOTE_FUNCTION + HELD_FUNCTION + """
local conversation, transcript, new_queue, unanswered, unacknowledged = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
local id, agent, episode, language, skill, skill_tag = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6]
local stride, now = tonumber(ARGV[7]), ARGV[8]
local refused = held(conversation, agent, episode)
if refused then return refused end
local fields = redis.call('HMGET', conversation, 'priority_rank', 'enqueued_at', 'language',
  'patient_language', 'crisis_category')
if not add_note(transcript, ARGV[9], ARGV[10]) then return 'moved' end
console_changed('handover')
redis.call('ZADD', new_queue, queue_score(tonumber(fields[1]), stride, tonumber(fields[2]), true), id)
redis.call('HSET', conversation, 'state', 'QUEUED', 'queue', new_queue, 'language', language, 'skill', skill,
  'skill_tag', skill_tag, 'updated_at', now, 'requeued_at', now, 'head_of_queue', '1')
local spoken = fields[4] or fields[3]
if spoken == language then
  redis.call('HDEL', conversation, 'agent', 'claimed_at', 'patient_language')
else
  redis.call('HDEL', conversation, 'agent', 'claimed_at')
  redis.call('HSET', conversation, 'patient_language', spoken)
end
redis.call('SREM', KEYS[6], id)
redis.call('ZREM', unanswered, id)
if fields[5] then redis.call('ZADD', unacknowledged, 'NX', now, id) end
audit(KEYS[7], ARGV[11], ARGV[12], ARGV[13])
return 'ok'
"""
"""The conversation leaves its agent for the head of another queue (language ``ARGV[4]``, sealed skill ``ARGV[5]``
with its tag): before everyone of its priority who waits from the start, as a conversation sent back is. The
patient's own language is kept as ``patient_language`` when the new queue's is another. An open crisis waits
again for acknowledgement."""

REASSIGN_SCRIPT = AUDIT_FUNCTION + NOTE_FUNCTION + HELD_FUNCTION + """
local conversation, transcript, unanswered, unacknowledged, last_assigned = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
local id, agent, episode, target, languages, skills = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6]
local now, deadline, capacity = ARGV[7], ARGV[8], ARGV[9]
local refused = held(conversation, agent, episode)
if refused then return refused end
local fields = redis.call('HMGET', conversation, 'language', 'skill_tag', 'crisis_category')
if agent == target then return 'same_agent' end
if not string.find(languages, ',' .. fields[1] .. ',', 1, true) then return 'wrong_language' end
if skills ~= '*' and not string.find(skills, ',' .. fields[2] .. ',', 1, true) then return 'wrong_skill' end
local target_set = KEYS[8]
if capacity ~= '' and redis.call('SCARD', target_set) >= tonumber(capacity) then return 'at_capacity' end
if not add_note(transcript, ARGV[10], ARGV[11]) then return 'moved' end
console_changed('handover')
redis.call('SREM', KEYS[7], id)
redis.call('SADD', target_set, id)
redis.call('HSET', conversation, 'agent', target, 'claimed_at', now, 'updated_at', now)
redis.call('ZADD', unanswered, deadline, id)
redis.call('ZADD', last_assigned, now, target)
if fields[3] then redis.call('ZADD', unacknowledged, 'NX', now, id) end
audit(KEYS[6], ARGV[12], ARGV[13], ARGV[14])
return 'ok'
"""
"""The conversation goes from its agent to ``target``, who must speak its language and have its skill (as a claim
checks: ``languages``, ``skills`` tags or ``*``) and, with a capacity, room for it: a transfer by the agent, or a
supervisor's reassignment or take-over. The target's time to answer starts (``deadline``), and an open crisis
waits for the target to acknowledge it."""

NOTE_SCRIPT = AUDIT_FUNCTION + NOTE_FUNCTION + HELD_FUNCTION + """
local refused = held(KEYS[1], ARGV[1], ARGV[2])
if refused then return refused end
if not add_note(KEYS[2], ARGV[3], ARGV[4]) then return 'moved' end
audit(KEYS[3], ARGV[5], ARGV[6], ARGV[7])
return 'ok'
"""
"""An internal note by the agent who has the conversation."""

PHONE_CALLBACK_SCRIPT = AUDIT_FUNCTION + HELD_FUNCTION + """
local conversation, callbacks = KEYS[1], KEYS[2]
local refused = held(conversation, ARGV[1], ARGV[2])
if refused then return refused end
redis.call('HSET', conversation, 'callback', ARGV[3], 'callback_requested_at', ARGV[4],
  'callback_requested_by', ARGV[5], 'phone_follow_up', '1')
redis.call('ZADD', callbacks, ARGV[4], ARGV[6])
audit(KEYS[3], ARGV[7], ARGV[8], ARGV[9])
return 'ok'
"""
"""Escalation to phone: the callback task (number, best time and note, sealed as the health fact ``callback``) on
the conversation, and the conversation in the supervisors' callback list, by when it was asked for. It outlives
the episode: closing leaves it, and the conversation's retention bounds it."""

CALLBACK_DONE_SCRIPT = AUDIT_FUNCTION + """
if not redis.call('ZSCORE', KEYS[2], ARGV[1]) then return 'no_callback' end
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('HDEL', KEYS[1], 'callback', 'callback_requested_at', 'callback_requested_by')
audit(KEYS[3], ARGV[2], ARGV[3], ARGV[4])
return 'ok'
"""
"""A supervisor records that the patient was called back: the task leaves the list."""
