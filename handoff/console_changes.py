"""The console changes stream: a marker per change an agent's console could show, so that its event socket
(``handoff.console.events``) looks again at once instead of at its next slow round.

The scripts that make the changes (enqueue and crisis alert, claim, send back, transfer and reassignment, close,
a message or note stored in a conversation with an agent, crisis acknowledgement and escalation, an agent's
presence: ``handoff.presence``) add the marker in the same step (``CONSOLE_CHANGED_FUNCTION``), so a change is
never without it. An entry carries a kind and nothing else: never a conversation id, an agent or any content; what
changed is read, as before, by the socket's round, which diffs the state against what it told. A marker lost (the
stream trimmed, the reader's connection dropped) costs latency until the next slow round, never a change told.

Each script that calls ``console_changed`` takes the stream (``KeySpace.console_changes``) as its LAST key.

What a round compares first, the conversations waiting in the agent's language queues, is read by one script
(``WAITING_SCRIPT``): with a hundred waiting, a pipeline of a command per conversation cost the round 2 ms of
redis-py's packing and parsing, the script a fraction of that.
"""

from redis.asyncio import Redis

from handoff.keys import KeySpace
from handoff.redis_values import text_of

CONSOLE_CHANGES_KEPT = 1000
"""The stream's length bound (``MAXLEN ~``): readers only ever want what came after their last read."""
CONSOLE_CHANGES_READ_COUNT = 1000
"""At most this many markers per read: one read of a burst wakes the sockets once."""

CONSOLE_CHANGED_FUNCTION = f"""
local function console_changed(kind)
  redis.call('XADD', KEYS[#KEYS], 'MAXLEN', '~', {CONSOLE_CHANGES_KEPT}, '*', 'kind', kind)
end
"""
"""Adds a marker of ``kind`` (``queue``, ``crisis``, ``claim``, ``message``, ...) to the stream, the script's last
key."""

WAITING_SCRIPT = """
local best, first, ids = {}, {}, {}
for _, queue in ipairs(KEYS) do
  local members = redis.call('ZRANGE', queue, 0, -1, 'WITHSCORES')
  for index = 1, #members, 2 do
    local id, score = members[index], tonumber(members[index + 1])
    if not best[id] then
      ids[#ids + 1] = id
      first[id] = #ids
      best[id] = score
    elseif score < best[id] then
      best[id] = score
    end
  end
end
table.sort(ids, function(a, b) return best[a] < best[b] or (best[a] == best[b] and first[a] < first[b]) end)
local rows = {}
for _, id in ipairs(ids) do
  local fields = redis.call('HMGET', ARGV[1] .. id, 'state', 'skill', 'requeued_at')
  if fields[1] == 'QUEUED' then
    rows[#rows + 1] = {id, fields[2] or '', fields[3] or ''}
  end
end
return rows
"""
"""The conversations in the language queues ``KEYS`` that are queued, next to serve first (the best score of
each among the queues; equal scores in the order read): each as its id, its sealed skill and its ``requeued_at``
(empty when absent). ``ARGV[1]``: the conversation keys' prefix. The hashes are keys the script is not given: they
share the queues' hash tag, as every key does (``handoff.keys``)."""


class ConsoleChanges:
    """Reads the console changes stream."""

    def __init__(self, redis: Redis, keys: KeySpace) -> None:
        self.redis = redis
        self.keys = keys

    async def latest(self) -> str:
        """The id of the newest marker ("0-0" when none): a reader starting now waits for later ones."""
        newest = await self.redis.xrevrange(self.keys.console_changes(), count=1)
        return text_of(newest[0][0]) if newest else "0-0"

    async def wait(self, after: str, block_ms: int) -> tuple[str, int]:
        """Waits up to ``block_ms`` for markers after ``after``; returns the id of the last one read (``after``
        when none came) and how many were read."""
        streams = await self.redis.xread({self.keys.console_changes(): after}, block=block_ms,
                                         count=CONSOLE_CHANGES_READ_COUNT)
        read = 0
        for _, entries in streams or []:
            for entry_id, _ in entries:
                after = text_of(entry_id)
                read += 1
        return after, read
