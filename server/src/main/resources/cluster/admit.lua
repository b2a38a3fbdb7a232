-- Admits an event to a room or a broadcast on its owner's shard (keys under {r:<room>}, or {n} for broadcasts),
-- before publish.lua numbers it for each member on the members' shards: the duplicate check and the run
-- lifecycle, then who the members are.
-- KEYS: dedup key, run state, run tool calls, the room's member set (or, for a broadcast, the nodes set)
-- ARGV: kind (r|b), prefix, verb, hasId (1|0), toolCallId, success (1|0), dedupWindowMs, runRetentionMs, strict,
--       maxToolCallsPerRun
-- Returns {status, member, ...}: 'new', or 'seen' when the id was admitted before (a retry whose numbering may not
-- have finished: the members are given again, and each member's own dedup key keeps it from being numbered
-- twice), or a refusal's name with no members.
local kind, P, verb = ARGV[1], ARGV[2], ARGV[3]
local hasId = ARGV[4] == '1'
local call, success = ARGV[5], ARGV[6]
local dedupMs, runRetentionMs = ARGV[7], ARGV[8]
local strict = ARGV[9] == '1'
local maxToolCalls = tonumber(ARGV[10])
local idk, rk, ck = KEYS[1], KEYS[2], KEYS[3]

local function members()
  if kind == 'r' then return redis.call('SMEMBERS', KEYS[4]) end
  -- Broadcast: every user connected to a live node. A node whose liveness key expired (killed) is dropped.
  local seen = {}
  local users = {}
  for _, node in ipairs(redis.call('SMEMBERS', KEYS[4])) do
    local nk = P .. '{n}:node:' .. node
    if redis.call('EXISTS', nk) == 1 then
      for _, user in ipairs(redis.call('SMEMBERS', nk .. ':present')) do
        if not seen[user] then
          seen[user] = true
          users[#users + 1] = user
        end
      end
    else
      redis.call('SREM', KEYS[4], node)
      redis.call('DEL', nk .. ':present')
    end
  end
  return users
end

local function answer(status)
  local out = { status }
  for _, user in ipairs(members()) do out[#out + 1] = user end
  return out
end

if hasId and redis.call('EXISTS', idk) == 1 then return answer('seen') end
if strict and verb ~= '' then
  local state = redis.call('HGET', rk, 's')
  local refusal = nil
  if not state then
    if verb ~= 'start' then refusal = 'run_not_started' end
  elseif state == 'c' then refusal = 'run_completed'
  elseif verb == 'start' then refusal = 'run_already_started'
  elseif verb == 'exec' then
    if redis.call('SISMEMBER', ck, call) == 1 then refusal = 'tool_call_duplicate'
    elseif redis.call('SCARD', ck) >= maxToolCalls then refusal = 'too_many_tool_calls' end
  elseif verb == 'done_tool' then
    if redis.call('SISMEMBER', ck, call) == 0 then refusal = 'tool_call_unknown' end
  elseif verb == 'done_agent' then
    if success == '1' and redis.call('SCARD', ck) > 0 then refusal = 'tool_calls_open' end
  end
  if refusal then return { refusal } end
  if verb == 'start' then redis.call('HSET', rk, 's', 'o')
  elseif verb == 'exec' then redis.call('SADD', ck, call)
  elseif verb == 'done_tool' then redis.call('SREM', ck, call)
  elseif verb == 'done_agent' then
    redis.call('HSET', rk, 's', 'c')
    redis.call('DEL', ck)
  end
  redis.call('PEXPIRE', rk, runRetentionMs)
  redis.call('PEXPIRE', ck, runRetentionMs)
end
if hasId then redis.call('SET', idk, '1', 'PX', dedupMs) end
return answer('new')
