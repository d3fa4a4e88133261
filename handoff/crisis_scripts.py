"""The Lua scripts of crisis alerts (``handoff.crisis_alerts``): acknowledged by a person, or escalated to the
supervisors when nobody did in time; each with its audit entries and its console change marker."""

from handoff.console_changes import CONSOLE_CHANGED_FUNCTION
from handoff.scripts import AUDIT_FUNCTION

ACKNOWLEDGE_CRISIS_SCRIPT = AUDIT_FUNCTION + CONSOLE_CHANGED_FUNCTION + """
local conversation, unacknowledged, escalated = KEYS[1], KEYS[2], KEYS[3]
local id, agent, may_take_escalated = ARGV[1], ARGV[2], ARGV[3]
local fields = redis.call('HMGET', conversation, 'state', 'agent', 'crisis_category')
if not fields[1] then return 'not_found' end
if not fields[3] or not redis.call('ZSCORE', unacknowledged, id) then return 'no_crisis_alert' end
local assigned = fields[1] == 'WITH_AGENT' and fields[2] == agent
if not assigned and not (may_take_escalated == '1' and redis.call('ZSCORE', escalated, id)) then
  return 'not_assigned'
end
console_changed('crisis')
redis.call('ZREM', unacknowledged, id)
redis.call('ZREM', escalated, id)
audit(KEYS[4], ARGV[4], ARGV[5], ARGV[6])
return 'ok'
"""
"""A person takes responsibility for an open crisis: the agent who has the conversation, or (once it is
escalated) a supervisor."""

ESCALATE_CRISIS_SCRIPT = AUDIT_FUNCTION + CONSOLE_CHANGED_FUNCTION + """
local conversation, unacknowledged, escalated = KEYS[1], KEYS[2], KEYS[3]
local id, raised_by, now = ARGV[1], tonumber(ARGV[2]), ARGV[3]
local raised = redis.call('ZSCORE', unacknowledged, id)
if not raised then return 0 end
if not redis.call('HGET', conversation, 'crisis_category') then
  redis.call('ZREM', unacknowledged, id)
  redis.call('ZREM', escalated, id)
  return 0
end
if tonumber(raised) > raised_by or redis.call('ZSCORE', escalated, id) then return 0 end
console_changed('crisis')
redis.call('ZADD', escalated, now, id)
for index = 4, #ARGV, 3 do audit(KEYS[4], ARGV[index], ARGV[index + 1], ARGV[index + 2]) end
return 1
"""
"""An open crisis raised before ``raised_by`` and still unacknowledged is escalated to the supervisors, once,
with an audit entry per supervisor told; an alert whose conversation has no open crisis any more is dropped."""
