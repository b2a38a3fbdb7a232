-- A user's stream as the cluster holds it: epoch, first and last seq kept, and the events a resume needs.
-- ARGV: prefix, user, clientEpoch, afterSeq (-1 for none), historyAgeMs, userRetentionMs, epochCandidate
-- Returns {epoch, firstSeq, lastSeq, {{field, value, ...}, ...}}: events from afterSeq + 1 when the cursor is
-- still covered (same epoch, firstSeq - 1 <= afterSeq <= lastSeq), else every kept event; none for afterSeq -1.
local P = ARGV[1]
local user = ARGV[2]
local clientEpoch = ARGV[3]
local after = tonumber(ARGV[4])
local uk = P .. 'u:' .. user
local hk = P .. 'h:' .. user

local epoch = redis.call('HGET', uk, 'e')
if not epoch then
  -- Creating the stream here gives a first-time client the epoch its later events will carry.
  epoch = ARGV[7]
  redis.call('DEL', hk)
  redis.call('HSET', uk, 'e', epoch, 's', 0)
end
redis.call('PEXPIRE', uk, ARGV[6])
local last = tonumber(redis.call('HGET', uk, 's'))

local t = redis.call('TIME')
local nowMs = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('XTRIM', hk, 'MINID', nowMs - tonumber(ARGV[5]))

local first = last + 1
local oldest = redis.call('XRANGE', hk, '-', '+', 'COUNT', 1)
if #oldest > 0 then
  local fields = oldest[1][2]
  for i = 1, #fields, 2 do
    if fields[i] == 's' then first = tonumber(fields[i + 1]) end
  end
end

local events = {}
if after >= 0 then
  local from = first
  if after > 0 and clientEpoch == epoch and after >= first - 1 and after <= last then from = after + 1 end
  local n = last - from + 1
  if n > 0 then
    -- History is contiguous in seq and ends at last: the newest n entries are exactly from..last.
    local newest = redis.call('XREVRANGE', hk, '+', '-', 'COUNT', n)
    for i = #newest, 1, -1 do events[#events + 1] = newest[i][2] end
  end
end
return { epoch, first, last, events }
