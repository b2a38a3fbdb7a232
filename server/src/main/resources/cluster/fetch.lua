-- A user's stream as the cluster holds it: epoch, first and last seq kept, and the events a resume needs.
-- KEYS: the user's stream head, its history list (both under the hash tag {u:<user>})
-- ARGV: prefix, user, clientEpoch, afterSeq (-1 for none), historyAgeMs, userRetentionMs, epochCandidate,
--       historyMax
-- Returns {epoch, firstSeq, lastSeq, {{seq, record}, ...}}: events from afterSeq + 1 when the cursor is still
-- covered (same epoch, firstSeq - 1 <= afterSeq <= lastSeq), else every kept event; none for afterSeq -1. A cursor
-- past lastSeq in the stream's epoch moves the stream to epochCandidate first (Redis lost events the client holds).
-- History is a list of records in seq order after the head's base: the entry at index i has seq base + 1 + i.
-- The age bound is kept here, where history is read: entries older than historyAgeMs, by the time in their record
-- (bytes 2-9, the publishing node's clock in ms, big-endian), are trimmed from the head and the base moves past them.
--!include stream-head.lua

local clientEpoch = ARGV[3]
local after = tonumber(ARGV[4])
local sk = KEYS[1]
local hk = KEYS[2]

local text = headOf(sk)
local epoch, base
if not text then
  -- Creating the stream here gives a first-time client the epoch its later events will carry.
  epoch = ARGV[7]
  base = 0
  text = headText(HEAD_NEVER_REFRESHED, 0, epoch)
  redis.call('DEL', hk)
  redis.call('SET', sk, text, 'PX', ARGV[6])
else
  epoch, base = parseHead(text)
  redis.call('PEXPIRE', sk, ARGV[6])
end
local length = redis.call('LLEN', hk)

local function timeOf(record)
  local ms = 0
  for _, b in ipairs({ string.byte(record, 2, 9) }) do ms = ms * 256 + b end
  return ms
end
local t = redis.call('TIME')
local cutoff = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000) - tonumber(ARGV[5])
if length > 0 and timeOf(redis.call('LINDEX', hk, 0)) < cutoff then
  -- The first entry young enough, by bisection (records are in publish order, so in time order but for the
  -- nodes' clock skew).
  local lo, hi = 1, length
  while lo < hi do
    local mid = math.floor((lo + hi) / 2)
    if timeOf(redis.call('LINDEX', hk, mid)) < cutoff then lo = mid + 1 else hi = mid end
  end
  redis.call('LTRIM', hk, lo, -1)
  base = base + lo
  length = length - lo
  redis.call('SET', sk, headText(string.sub(text, 1, 13), base, epoch), 'KEEPTTL')
end

local last = base + length
if after > last and clientEpoch == epoch then
  -- The client holds seqs of this epoch that Redis no longer has: Redis lost acknowledged events (a replica promoted
  -- before it had them, a restart from an older file). Numbering on would give new events seqs the client already
  -- holds, so the stream moves to a new epoch, as reepoch.lua does when a node sees it: the client is told
  -- recovered:false and gets what Redis kept.
  epoch = ARGV[7]
  redis.call('SET', sk, headText(string.sub(text, 1, 13), base, epoch), 'KEEPTTL')
end
local first = math.max(base + 1, last + 1 - tonumber(ARGV[8]))

local events = {}
if after >= 0 then
  local from = first
  if after > 0 and clientEpoch == epoch and after >= first - 1 and after <= last then from = after + 1 end
  if from <= last then
    local records = redis.call('LRANGE', hk, from - base - 1, last - base - 1)
    for i = 1, #records do
      events[i] = { from + i - 1, records[i] }
    end
  end
end
return { epoch, first, last, events }
