"""The Lua scripts of key rotation (``handoff.key_rotation``): a sealed value replaced only if it is still the one
read, so that rotation never overwrites a change made meanwhile."""

RESEAL_SCRIPT = """
local kind, key, old, new, place = ARGV[1], KEYS[1], ARGV[2], ARGV[3], ARGV[4]
local current
if kind == 'string' then current = redis.call('GET', key)
elseif kind == 'hash' then current = redis.call('HGET', key, place)
else current = redis.call('LINDEX', key, place) end
if current ~= old then return 0 end
if kind == 'string' then redis.call('SET', key, new, 'KEEPTTL')
elseif kind == 'hash' then redis.call('HSET', key, place, new)
else redis.call('LSET', key, place, new) end
return 1
"""
"""``handoff.key_rotation``: one sealed value (a string, a hash field ``place``, a list element at index ``place``)
replaced by the same value sealed under the newest key, only if it is still the one read (0 otherwise); the
key keeps its expiry, and an append to the list meanwhile is untouched."""

RESEAL_STREAM_SCRIPT = """
local key = KEYS[1]
local entries = cjson.decode(ARGV[1])
if redis.call('XLEN', key) ~= #entries then return 0 end
local first = redis.call('XRANGE', key, '-', '+', 'COUNT', 1)
local last = redis.call('XREVRANGE', key, '+', '-', 'COUNT', 1)
if first[1][1] ~= entries[1][1] or last[1][1] ~= entries[#entries][1] then return 0 end
local ttl = redis.call('PTTL', key)
redis.call('DEL', key)
for _, entry in ipairs(entries) do redis.call('XADD', key, entry[1], unpack(entry[2])) end
if ttl > 0 then redis.call('PEXPIRE', key, ttl) end
return 1
"""
"""``handoff.key_rotation``: a stream (an outbox, the crisis alerts) written again with the same ids and its
sealed fields under the newest key, only if it still holds the entries read (the same count, first and last
id: stream entries never change in place, so an append or a trim meanwhile is what it catches; 0 then)."""

RESEAL_MOVE_SCRIPT = """
local from, to = KEYS[1], KEYS[2]
if redis.call('GET', from) ~= ARGV[1] then return 0 end
if from == to or redis.call('EXISTS', to) == 0 then redis.call('SET', to, ARGV[2]) end
if from ~= to then redis.call('DEL', from) end
return 1
"""
"""``handoff.key_rotation``: a record whose key is a MAC under the data key (``{namespace}:kind:<MAC>``) moved to
the key the newest data key names, sealed for it; a record already there (written since) wins. 0 when the record
is no longer the one read."""
