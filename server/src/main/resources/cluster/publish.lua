#!lua flags=allow-cross-slot-keys
-- Numbers and stores a group of publish requests on one shard (a group commit: every request for this shard that
-- arrived while its previous group was in Redis), each request atomically, in order, stopping at its first
-- refusal. Every key lives on this shard (a single Redis is one shard); the first is declared to route the call
-- here, the others are given as arguments (Redis Cluster refuses declared keys of several slots), and are checked
-- to be served here before anything is written, so a call that meets a moved slot changes nothing.
-- An entry is one user's part of an event:
--   u  an event to that user (its owner): duplicate check, run lifecycle, then numbered for the user
--   m  a room's or broadcast's event for one member (admitted by admit.lua on the owner's shard): numbered for the
--      member unless the member already has it (a retried event: the member's own dedup key says so)
-- Numbering: the user's next seq (a new stream gets the given epoch), the event's record in its history (trimmed
-- by count approximately here, exactly where it is read) and the record on the user's channel, which only nodes
-- with the user connected follow. Records are opaque here: a node encodes each event once (StreamCodec).
-- KEYS: the first entry's stream hash (routes the call)
-- ARGV: historyMax, userRetentionMs, dedupWindowMs, runRetentionMs, strict, epochCandidate, maxToolCallsPerRun,
--       requestCount, then per request: entryCount, then 11 per entry: 5 keys — stream hash <P>{u:<user>}:s,
--       history <P>{u:<user>}:h, dedup key, run state, run tool calls (a dedup or run key an entry has no use for
--       is given as its stream hash) — and kind (u|m), verb, hasId (1|0), toolCallId, success (1|0), record
-- Returns per request a list with one answer per entry attempted: {user-stream-key, epoch, seq} when numbered,
-- else the status's name (duplicate, or the refusal that stopped the request); or {'moved'} when a key is not
-- served here (the slot map moved: nothing was written, the caller sends the group again).
local historyMax = ARGV[1]
local retentionMs = ARGV[2]
local dedupMs = ARGV[3]
local runRetentionMs = ARGV[4]
local strict = ARGV[5] == '1'
local epochCandidate = ARGV[6]
local maxToolCalls = tonumber(ARGV[7])
local requestCount = tonumber(ARGV[8])

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

-- Each stream touched by this group: its epoch, read once; its expiry is refreshed once, at the end.
local streams = {}
local touched = {}
local function stream(sk, hk)
  local st = streams[sk]
  if st then return st end
  local epoch = redis.call('HGET', sk, 'e')
  if not epoch then
    -- A new (or expired) stream: its old history, if any, belongs to another epoch.
    epoch = epochCandidate
    redis.call('DEL', hk)
    redis.call('HSET', sk, 'e', epoch, 's', 0)
  end
  st = { sk = sk, hk = hk, channel = string.sub(sk, 1, -3), epoch = epoch, head = 'e' .. epoch .. ':' }
  streams[sk] = st
  touched[#touched + 1] = st
  return st
end

local function number(sk, hk, record)
  local st = stream(sk, hk)
  local seq = redis.call('HINCRBY', sk, 's', 1)
  redis.call('XADD', hk, 'MAXLEN', '~', historyMax, '*', 's', seq, 'd', record)
  redis.call('SPUBLISH', st.channel, st.head .. seq .. ':' .. record)
  return { sk, st.epoch, seq }
end

-- Before any write: every entry's stream key must be served here (its other keys share its slot).
local probe = 9
for r = 1, requestCount do
  local count = tonumber(ARGV[probe])
  for i = 0, count - 1 do
    local reply = redis.pcall('EXISTS', ARGV[probe + 1 + i * 11])
    if type(reply) == 'table' and reply.err then return { 'moved' } end
  end
  probe = probe + 1 + count * 11
end

local results = {}
local at = 9
for r = 1, requestCount do
  local count = tonumber(ARGV[at])
  at = at + 1
  local answers = {}
  local stopped = false
  for i = 0, count - 1 do
    local kb = at + i * 11
    local base = kb + 5
    if not stopped then
      local kind = ARGV[base]
      local verb = ARGV[base + 1]
      local hasId = ARGV[base + 2] == '1'
      local record = ARGV[base + 5]
      local sk, hk, idk = ARGV[kb], ARGV[kb + 1], ARGV[kb + 2]
      local fresh = true
      if kind == 'u' and strict and verb ~= '' then
        if hasId and redis.call('EXISTS', idk) == 1 then
          fresh = false
        else
          local rk, ck = ARGV[kb + 3], ARGV[kb + 4]
          local call = ARGV[base + 3]
          local refusal = check(rk, ck, verb, call, ARGV[base + 4])
          if refusal then
            answers[#answers + 1] = refusal
            stopped = true
          else
            apply(rk, ck, verb, call)
            if hasId then redis.call('SET', idk, '1', 'PX', dedupMs) end
          end
        end
      elseif hasId then
        fresh = redis.call('SET', idk, '1', 'NX', 'PX', dedupMs) ~= false
      end
      if not fresh then
        answers[#answers + 1] = 'duplicate'
      elseif not stopped then
        answers[#answers + 1] = number(sk, hk, record)
      end
    end
  end
  at = at + count * 11
  results[r] = answers
end
for _, st in ipairs(touched) do
  redis.call('PEXPIRE', st.sk, retentionMs)
  redis.call('PEXPIRE', st.hk, retentionMs)
end
return results
