-- Numbers and stores a batch of events atomically, in order, stopping at the first refusal.
-- For each recipient: the next seq of its stream (a new stream gets the given epoch), a copy in its history
-- (trimmed by count here, by age where it is read), and one entry in the shared log that every node tails.
-- ARGV: prefix, historyMax, userRetentionMs, dedupWindowMs, runRetentionMs, strict, logMaxLen,
--       epochCandidate, maxToolCallsPerRun, eventCount, then 12 fields per event:
--       kind (u|r|b), target, type, verb, runId, threadId, eventId, toolCallId, success, binary, tsMs, payload
-- Returns one {status, {user, epoch, seq, ...}} per event attempted.
local P = ARGV[1]
local historyMax = ARGV[2]
local retentionMs = ARGV[3]
local dedupMs = ARGV[4]
local runRetentionMs = ARGV[5]
local strict = ARGV[6] == '1'
local logMax = ARGV[7]
local epochCandidate = ARGV[8]
local maxToolCalls = tonumber(ARGV[9])
local count = tonumber(ARGV[10])
local HEADER = 10
local FIELDS = 12

local t = redis.call('TIME')
local nowMs = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)

-- A run belongs to the owner its events go to (kind and target) and its id, as in the engine's RunTable: one
-- producer's run-1 is never another user's run-1. Lengths keep the parts apart whatever they contain.
local function runKey(kind, target, run)
  return P .. 'run:' .. kind .. #target .. ':' .. target .. ':' .. run
end

-- The run lifecycle, the same rules as the engine's RunLifecycle: nil when allowed, else the rule's name.
local function check(rk, verb, call, success)
  local state = redis.call('HGET', rk, 's')
  if not state then
    if verb == 'start' then return nil end
    return 'run_not_started'
  end
  if state == 'c' then return 'run_completed' end
  if verb == 'start' then return 'run_already_started' end
  if verb == 'exec' then
    if redis.call('SISMEMBER', rk .. ':calls', call) == 1 then return 'tool_call_duplicate' end
    if redis.call('SCARD', rk .. ':calls') >= maxToolCalls then return 'too_many_tool_calls' end
  elseif verb == 'done_tool' then
    if redis.call('SISMEMBER', rk .. ':calls', call) == 0 then return 'tool_call_unknown' end
  elseif verb == 'done_agent' then
    if success == '1' and redis.call('SCARD', rk .. ':calls') > 0 then return 'tool_calls_open' end
  end
  return nil
end

local function apply(rk, verb, call)
  if verb == 'start' then
    redis.call('HSET', rk, 's', 'o')
  elseif verb == 'exec' then
    redis.call('SADD', rk .. ':calls', call)
  elseif verb == 'done_tool' then
    redis.call('SREM', rk .. ':calls', call)
  elseif verb == 'done_agent' then
    redis.call('HSET', rk, 's', 'c')
    redis.call('DEL', rk .. ':calls')
  end
  redis.call('PEXPIRE', rk, runRetentionMs)
  redis.call('PEXPIRE', rk .. ':calls', runRetentionMs)
end

local function recipientsOf(kind, target)
  if kind == 'u' then return { target } end
  if kind == 'r' then return redis.call('SMEMBERS', P .. 'room:' .. target) end
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

local function number(user)
  local uk = P .. 'u:' .. user
  local epoch = redis.call('HGET', uk, 'e')
  if not epoch then
    -- A new (or expired) stream: its old history, if any, belongs to another epoch.
    epoch = epochCandidate
    redis.call('DEL', P .. 'h:' .. user)
    redis.call('HSET', uk, 'e', epoch, 's', 0)
  end
  local seq = redis.call('HINCRBY', uk, 's', 1)
  redis.call('PEXPIRE', uk, retentionMs)
  return epoch, seq
end

local results = {}
for i = 0, count - 1 do
  local base = HEADER + i * FIELDS
  local kind = ARGV[base + 1]
  local target = ARGV[base + 2]
  local etype = ARGV[base + 3]
  local verb = ARGV[base + 4]
  local run = ARGV[base + 5]
  local thread = ARGV[base + 6]
  local id = ARGV[base + 7]
  local call = ARGV[base + 8]
  local success = ARGV[base + 9]
  local binary = ARGV[base + 10]
  local ts = ARGV[base + 11]
  local payload = ARGV[base + 12]
  if ts == '0' then ts = tostring(nowMs) end

  -- An id is unique within its owner (kind and target) and run (none for an event without one): the engine's
  -- scope too.
  local idKey = P .. 'id:' .. kind .. #target .. ':' .. target .. ':' .. #run .. ':' .. run .. ':' .. id
  local rk = runKey(kind, target, run)
  if id ~= '' and redis.call('EXISTS', idKey) == 1 then
    results[#results + 1] = { 'duplicate', {} }
  else
    local refusal = nil
    if strict and verb ~= '' then refusal = check(rk, verb, call, success) end
    if refusal then
      results[#results + 1] = { refusal, {} }
      return results
    end
    if strict and verb ~= '' then apply(rk, verb, call) end
    if id ~= '' then redis.call('SET', idKey, '1', 'PX', dedupMs) end

    local room = ''
    local broadcast = '0'
    if kind == 'r' then room = target elseif kind == 'b' then broadcast = '1' end
    local numbered = {}
    for _, user in ipairs(recipientsOf(kind, target)) do
      local epoch, seq = number(user)
      local hk = P .. 'h:' .. user
      -- Trimmed by count here; the age bound is applied where history is read (fetch.lua), and the key's
      -- expiry bounds an idle user's.
      redis.call('XADD', hk, 'MAXLEN', historyMax, '*', 's', seq, 't', etype, 'r', run, 'th', thread,
        'i', id, 'ts', ts, 'b', binary, 'rm', room, 'bc', broadcast, 'p', payload)
      redis.call('PEXPIRE', hk, retentionMs)
      numbered[#numbered + 1] = user
      numbered[#numbered + 1] = epoch
      numbered[#numbered + 1] = seq
    end
    if #numbered > 0 then
      local encoded = {}
      for j = 1, #numbered do encoded[j] = tostring(numbered[j]) end
      redis.call('XADD', P .. 'log', 'MAXLEN', '~', logMax, '*', 'k', 'e', 'rc', cjson.encode(encoded),
        't', etype, 'r', run, 'th', thread, 'i', id, 'ts', ts, 'b', binary, 'rm', room, 'bc', broadcast,
        'p', payload)
    end
    results[#results + 1] = { 'accepted', numbered }
  end
end
return results
