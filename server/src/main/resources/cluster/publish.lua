-- Numbers and stores a group of publish requests (a group commit: every request that arrived while the previous
-- group was in Redis), each atomically, in order, each stopping at its first refusal.
-- For each recipient of an accepted event: the next seq of its stream (a new stream gets the given epoch), the
-- event's record in its history (trimmed by count here, by age where it is read), and the record on the
-- recipient's channel, which only nodes with that user connected follow. Records are opaque here: a node
-- encodes each event once (StreamCodec) and Redis stores and forwards those bytes.
-- A user's keys share the hash tag {u:<user>}: <P>{u:<user>}:s hash {e, s}, <P>{u:<user>}:h history stream,
-- and the channel <P>{u:<user>}. A run's and an id's keys live under their owner's tag ({u:..}, {r:..}, {b}).
-- ARGV: prefix, historyMax, userRetentionMs, dedupWindowMs, runRetentionMs, strict, epochCandidate,
--       maxToolCallsPerRun, requestCount, then per request: eventCount, then 8 fields per event:
--       kind (u|r|b), target, verb, runId, eventId, toolCallId, success (1|0), record
-- Returns per request a list with one entry per event attempted: {user, epoch, seq, ...} when accepted, else the
-- status's name (duplicate, or the refusal that stopped the request).
local P = ARGV[1]
local historyMax = ARGV[2]
local retentionMs = ARGV[3]
local dedupMs = ARGV[4]
local runRetentionMs = ARGV[5]
local strict = ARGV[6] == '1'
local epochCandidate = ARGV[7]
local maxToolCalls = tonumber(ARGV[8])
local requestCount = tonumber(ARGV[9])

-- The run lifecycle, the same rules as the engine's RunLifecycle: nil when allowed, else the rule's name.
local function check(rk, ck, verb, call, success)
  local state = redis.call('HGET', rk, 's')
  if not state then
    if verb == 'start' then return nil end
    return 'run_not_started'
  end
  if state == 'c' then return 'run_completed' end
  if verb == 'start' then return 'run_already_started' end
  if verb == 'exec' then
    if redis.call('SISMEMBER', ck, call) == 1 then return 'tool_call_duplicate' end
    if redis.call('SCARD', ck) >= maxToolCalls then return 'too_many_tool_calls' end
  elseif verb == 'done_tool' then
    if redis.call('SISMEMBER', ck, call) == 0 then return 'tool_call_unknown' end
  elseif verb == 'done_agent' then
    if success == '1' and redis.call('SCARD', ck) > 0 then return 'tool_calls_open' end
  end
  return nil
end

local function apply(rk, ck, verb, call)
  if verb == 'start' then
    redis.call('HSET', rk, 's', 'o')
  elseif verb == 'exec' then
    redis.call('SADD', ck, call)
  elseif verb == 'done_tool' then
    redis.call('SREM', ck, call)
  elseif verb == 'done_agent' then
    redis.call('HSET', rk, 's', 'c')
    redis.call('DEL', ck)
  end
  redis.call('PEXPIRE', rk, runRetentionMs)
  redis.call('PEXPIRE', ck, runRetentionMs)
end

local function recipientsOf(kind, target)
  if kind == 'u' then return { target } end
  if kind == 'r' then return redis.call('SMEMBERS', P .. '{r:' .. target .. '}:m') end
  -- Broadcast: every user connected to a live node. A node whose liveness key expired (killed) is dropped.
  local seen = {}
  local users = {}
  for _, node in ipairs(redis.call('SMEMBERS', P .. 'nodes')) do
    if redis.call('EXISTS', P .. 'node:' .. node) == 1 then
      for _, user in ipairs(redis.call('SMEMBERS', P .. 'node:' .. node .. ':present')) do
        if not seen[user] then
          seen[user] = true
          users[#users + 1] = user
        end
      end
    else
      redis.call('SREM', P .. 'nodes', node)
      redis.call('DEL', P .. 'node:' .. node .. ':present')
    end
  end
  return users
end

-- Each stream touched by this group: its key tag and epoch, read once; its expiry is refreshed once, at the end.
local streams = {}
local touched = {}
local function stream(user)
  local st = streams[user]
  if st then return st end
  local tag = P .. '{u:' .. user .. '}'
  local epoch = redis.call('HGET', tag .. ':s', 'e')
  if not epoch then
    -- A new (or expired) stream: its old history, if any, belongs to another epoch.
    epoch = epochCandidate
    redis.call('DEL', tag .. ':h')
    redis.call('HSET', tag .. ':s', 'e', epoch, 's', 0)
  end
  st = { tag = tag, epoch = epoch, head = 'e' .. epoch .. ':' }
  streams[user] = st
  touched[#touched + 1] = st
  return st
end

local results = {}
local at = 10
for r = 1, requestCount do
  local count = tonumber(ARGV[at])
  at = at + 1
  local answers = {}
  local stopped = false
  for i = 0, count - 1 do
    local base = at + i * 8
    if not stopped then
      local kind = ARGV[base]
      local target = ARGV[base + 1]
      local verb = ARGV[base + 2]
      local run = ARGV[base + 3]
      local id = ARGV[base + 4]
      local record = ARGV[base + 7]
      local owner = P .. '{' .. kind .. ':' .. target .. '}'
      -- An id is unique within its owner and run (none for an event without one): the engine's scope too.
      local idKey = nil
      if id ~= '' then idKey = owner .. ':id:' .. #run .. ':' .. run .. ':' .. id end
      local fresh = true
      if strict and verb ~= '' then
        if idKey and redis.call('EXISTS', idKey) == 1 then
          fresh = false
        else
          local rk = owner .. ':run:' .. #run .. ':' .. run
          local ck = owner .. ':calls:' .. #run .. ':' .. run
          local call = ARGV[base + 5]
          local refusal = check(rk, ck, verb, call, ARGV[base + 6])
          if refusal then
            answers[#answers + 1] = refusal
            stopped = true
          else
            apply(rk, ck, verb, call)
            if idKey then redis.call('SET', idKey, '1', 'PX', dedupMs) end
          end
        end
      elseif idKey then
        fresh = redis.call('SET', idKey, '1', 'NX', 'PX', dedupMs) ~= false
      end
      if not fresh then
        answers[#answers + 1] = 'duplicate'
      elseif not stopped then
        local numbered = {}
        for _, user in ipairs(recipientsOf(kind, target)) do
          local st = stream(user)
          local seq = redis.call('HINCRBY', st.tag .. ':s', 's', 1)
          redis.call('XADD', st.tag .. ':h', 'MAXLEN', '~', historyMax, '*', 's', seq, 'd', record)
          redis.call('SPUBLISH', st.tag, st.head .. seq .. ':' .. record)
          numbered[#numbered + 1] = user
          numbered[#numbered + 1] = st.epoch
          numbered[#numbered + 1] = seq
        end
        answers[#answers + 1] = numbered
      end
    end
  end
  at = at + count * 8
  results[r] = answers
end
for _, st in ipairs(touched) do
  redis.call('PEXPIRE', st.tag .. ':s', retentionMs)
  redis.call('PEXPIRE', st.tag .. ':h', retentionMs)
end
return results
