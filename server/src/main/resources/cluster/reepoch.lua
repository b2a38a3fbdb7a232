-- A node saw a user's stream further than Redis now holds it, in the same epoch: Redis lost acknowledged events
-- (a primary failed over before replicating them, or it restarted from an older file). Numbering on from Redis's
-- seq would give new events numbers clients already hold, so the stream moves to a new epoch: its clients are
-- told recovered:false when they resume, and get what Redis kept.
-- Two kinds of evidence: Redis's head behind what the node saw (seq, no record), or the channel bringing a seq the
-- node already saw (seq and the message's record): that is a copy of an event already applied when Redis's
-- history holds the same record at that seq (a channel followed on two connections for a moment, while a shard's
-- primary changed), and proof that Redis numbered the seq twice otherwise. Nothing is changed for a stream in
-- another epoch already, for a stale head, or for a copy.
-- KEYS: the user's stream head, its history
-- ARGV: the epoch the node saw, the last seq it saw, a new epoch, the repeated seq (0 for a head), its record
-- Returns {epoch, lastSeq} as Redis holds the stream afterwards (empty when it holds none).
-- The last seq is the base plus the history list's length.
--!include stream-head.lua

local text = headOf(KEYS[1])
if not text then return {} end
local epoch, base = parseHead(text)
local last = base + redis.call('LLEN', KEYS[2])
if epoch ~= ARGV[1] then return { epoch, last } end
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
  epoch = ARGV[3]
  redis.call('SET', KEYS[1], headText(string.sub(text, 1, 13), base, epoch), 'KEEPTTL')
end
return { epoch, last }
