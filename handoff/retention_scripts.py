"""The Lua scripts of retention (``handoff.retention``): a conversation, a tracker or old crisis alerts purged,
each with its audit entry in the same script, and never while the thing changed since the purge read it."""

from handoff.scripts import AUDIT_FUNCTION

PURGE_CONVERSATION_SCRIPT = AUDIT_FUNCTION + """
local conversation, transcript, episodes = KEYS[1], KEYS[2], KEYS[3]
local fields = redis.call('HMGET', conversation, 'state', 'updated_at')
if fields[1] == 'QUEUED' or fields[1] == 'WITH_AGENT' then return 'open' end
if (fields[1] or '') ~= ARGV[3] or (fields[2] or '') ~= ARGV[4] or redis.call('LLEN', transcript) ~= tonumber(ARGV[5])
  or redis.call('LLEN', episodes) ~= tonumber(ARGV[6]) then return 'changed' end
local family = {conversation, transcript, episodes}
for index = 5, #KEYS do family[#family + 1] = KEYS[index] end
for _, key in ipairs(family) do
  if ARGV[1] == 'delete' then redis.call('DEL', key)
  elseif redis.call('PTTL', key) == -1 then redis.call('PEXPIREAT', key, ARGV[2]) end
end
audit(KEYS[4], ARGV[7], ARGV[8], ARGV[9])
return 'ok'
"""
"""``handoff.retention``: deletes a conversation that is past its retention (``delete``), or gives its keys
that have none the expiry they would have had (``expire``, at ``ARGV[2]``); never an open one, and nothing
when it changed since the purge read it (state, last update, transcript and episode counts)."""

PURGE_TRACKER_SCRIPT = AUDIT_FUNCTION + """
local tracker, conversation = KEYS[1], KEYS[3]
local state = redis.call('HGET', conversation, 'state')
if state == 'QUEUED' or state == 'WITH_AGENT' then return 'open' end
if redis.call('PTTL', tracker) ~= -1 or redis.call('STRLEN', tracker) ~= tonumber(ARGV[3]) then return 'changed' end
if ARGV[1] == 'delete' then redis.call('DEL', tracker) else redis.call('PEXPIREAT', tracker, ARGV[2]) end
audit(KEYS[2], ARGV[4], ARGV[5], ARGV[6])
return 'ok'
"""
"""The same for a Rasa tracker without an expiry; a tracker Rasa saved meanwhile has one (``record_exp``)."""

TRIM_ALERTS_SCRIPT = AUDIT_FUNCTION + """
local trimmed = redis.call('XTRIM', KEYS[1], 'MINID', ARGV[1])
if trimmed > 0 then audit(KEYS[2], ARGV[2], ARGV[3], ARGV[4]) end
return trimmed
"""
"""Crisis alerts older than the retention go (``XTRIM MINID``), audited."""
