-- A user's stream as the cluster holds it: epoch, first and last seq kept, and the events a resume needs.
-- KEYS: the user's stream hash, its history (both under the hash tag {u:<user>})
-- ARGV: prefix, user, clientEpoch, afterSeq (-1 for none), historyAgeMs, userRetentionMs, epochCandidate,
--       historyMax
-- Returns {epoch, firstSeq, lastSeq, {{seq, record}, ...}}: events from afterSeq + 1 when the cursor is still
-- covered (same epoch, firstSeq - 1 <= afterSeq <= lastSeq), else every kept event; none for afterSeq -1.
local clientEpoch = ARGV[3]
local after = tonumber(ARGV[4])
local sk = KEYS[1]
local hk = KEYS[2]

local epoch = redis.call('HGET', sk, 'e')
if not epoch then
  -- Creating the stream here gives a first-time client the epoch its later events will carry.
  epoch = ARGV[7]
  redis.call('DEL', hk)
  redis.call('HSET', sk, 'e', epoch, 's', 0)
end
redis.call('PEXPIRE', sk, ARGV[6])
local last = tonumber(redis.call('HGET', sk, 's'))

local t = redis.call('TIME')
local nowMs = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('XTRIM', hk, 'MINID', nowMs - tonumber(ARGV[5]))

-- History is contiguous in seq and ends at last (trimmed from its oldest end only). publish.lua trims by count
-- approximately (cheaper, whole macro nodes): the count bound is applied exactly here, where history is read.
local first = math.max(last + 1 - redis.call('XLEN', hk), last + 1 - tonumber(ARGV[8]))

local events = {}
if after >= 0 then
  local from = first
  if after > 0 and clientEpoch == epoch and after >= first - 1 and after <= last then from = after + 1 end
  local n = last - from + 1
  if n > 0 then
    local newest = redis.call('XREVRANGE', hk, '+', '-', 'COUNT', n)
    for i = #newest, 1, -1 do
      local fields = newest[i][2]
      events[#events + 1] = { fields[2], fields[4] }
    end
  end
end
return { epoch, first, last, events }
