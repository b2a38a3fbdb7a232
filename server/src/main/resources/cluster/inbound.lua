-- Appends a user's message to the cluster's inbound stream, where a node whose runtime has room takes it. When as
-- many messages as ARGV[1] already wait there, the message is refused (the sender is answered agent_busy): trimming
-- the stream instead would drop the oldest waiting message without a word to anyone. Messages that waited longer than
-- ARGV[2] ms are dropped first, up to EXPIRE_MAX a call: no runtime had room for that long, or a node died between
-- taking them and delivering them (what it took stays in the stream until then). Each one dropped that no node took
-- (past the group's last delivered id) is answered with its sender, type, thread and run, so the node tells the
-- sender it will reach no runtime; one a node took may have reached a runtime, and is only counted.
-- Without a message it only drops those: a node calls it so before it reads, so no runtime is handed one that old.
-- KEYS: the inbound stream
-- ARGV: most messages waiting (0: no bound, for a message a node took and puts back), longest wait ms, the readers'
--       group, the message (none: drop only)
-- Returns {appended (1, or 0 when refused or none given), messages dropped for waiting too long,
--          {user, type, thread_id, run_id, ...} of each dropped that no node took (empty strings where it had none)}.
local EXPIRE_MAX = 256
local now = redis.call('TIME')
local nowMs = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
-- An id of ms alone ends the range at that ms's last entry: everything appended before the cutoff.
local stale = redis.call('XRANGE', KEYS[1], '-', tostring(nowMs - tonumber(ARGV[2]) - 1), 'COUNT', EXPIRE_MAX)
local function text(value)
  return type(value) == 'string' and value or ''
end
local function parts(id)
  local dash = string.find(id, '-', 1, true)
  return tonumber(string.sub(id, 1, dash - 1)), tonumber(string.sub(id, dash + 1))
end
-- The group's last delivered id: entries up to it were taken by a node.
local delivered = '0-0'
if #stale > 0 then
  for _, group in ipairs(redis.call('XINFO', 'GROUPS', KEYS[1])) do
    local fields = {}
    for i = 1, #group, 2 do
      fields[group[i]] = group[i + 1]
    end
    if fields['name'] == ARGV[3] then
      delivered = fields['last-delivered-id']
    end
  end
end
local deliveredMs, deliveredSeq = parts(delivered)
local told = {}
for _, entry in ipairs(stale) do
  redis.call('XDEL', KEYS[1], entry[1])
  local ms, seq = parts(entry[1])
  local taken = ms < deliveredMs or (ms == deliveredMs and seq <= deliveredSeq)
  local ok, message = false, nil
  if taken then
    -- Off the group's pending list too, where the node that died holding it left it (XDEL leaves it there).
    redis.call('XACK', KEYS[1], ARGV[3], entry[1])
  else
    ok, message = pcall(cjson.decode, entry[2][2] or '')
  end
  if ok and type(message) == 'table' then
    told[#told + 1] = text(message.user)
    told[#told + 1] = text(message.type)
    told[#told + 1] = text(message.thread_id)
    told[#told + 1] = text(message.run_id)
  end
end
if ARGV[4] == nil then
  return { 0, #stale, told }
end
local most = tonumber(ARGV[1])
if most > 0 and redis.call('XLEN', KEYS[1]) >= most then
  return { 0, #stale, told }
end
redis.call('XADD', KEYS[1], '*', 'm', ARGV[4])
return { 1, #stale, told }
