-- A node saw a user's stream further than Redis now holds it, in the same epoch: Redis lost acknowledged events
-- (a primary failed over before replicating them, or it restarted from an older file). Numbering on from Redis's
-- seq would give new events numbers clients already hold, so the stream moves to a new epoch: its clients are
-- told recovered:false when they resume, and get what Redis kept.
-- Two kinds of evidence: Redis's head behind what the node saw (seq, no record), or the channel bringing a seq the
-- node already saw (seq and the message's record): that is a copy of an event already applied when Redis's
-- history holds the same record at that seq (a channel followed on two connections for a moment, while a shard's
-- primary changed), and proof that Redis numbered the seq twice otherwise. Nothing is changed for a stream in
-- another epoch already, for a stale head, or for a copy.
-- KEYS: the user's stream hash, its history
-- ARGV: the epoch the node saw, the last seq it saw, a new epoch, the repeated seq (0 for a head), its record
-- Returns {epoch, lastSeq} as Redis holds the stream afterwards (empty when it holds none).
-- The last seq is the base (b) plus the history list's length; field s is that of a stream written before history
-- became a list.
local head = redis.call('HMGET', KEYS[1], 'e', 'b', 's')
if not head[1] then return {} end
local base = tonumber(head[2] or head[3] or 0)
local last = base + redis.call('LLEN', KEYS[2])
if head[1] ~= ARGV[1] then return { head[1], last } end
local repeated = tonumber(ARGV[4])
local wentBack
if repeated == 0 then
  wentBack = last < tonumber(ARGV[2])
else
  wentBack = true
  if repeated > base and repeated <= last and redis.call('LINDEX', KEYS[2], repeated - base - 1) == ARGV[5] then
    wentBack = false
  end
end
if wentBack then
  redis.call('HSET', KEYS[1], 'e', ARGV[3])
  head[1] = ARGV[3]
end
return { head[1], last }
