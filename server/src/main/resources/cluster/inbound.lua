-- Appends a user's message to the cluster's inbound stream, where a node whose runtime has room takes it. When as
-- many messages as ARGV[1] already wait there, the message is refused (the sender is answered agent_busy): trimming
-- the stream instead would drop the oldest waiting message without a word to anyone. Messages that waited longer than
-- ARGV[2] ms are dropped first, and counted by the caller: no runtime had room for that long, or a node died between
-- taking them and delivering them (what it took stays in the stream until then).
-- Without a message it only drops those: a node calls it so before it reads, so no runtime is handed one that old.
-- KEYS: the inbound stream
-- ARGV: most messages waiting (0: no bound, for a message a node took and puts back), longest wait ms, the message
--       (none: drop only)
-- Returns {appended (1, or 0 when refused or none given), messages dropped for waiting too long}.
local now = redis.call('TIME')
local nowMs = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
local expired = redis.call('XTRIM', KEYS[1], 'MINID', tostring(nowMs - tonumber(ARGV[2])))
if ARGV[3] == nil then
  return { 0, expired }
end
local most = tonumber(ARGV[1])
if most > 0 and redis.call('XLEN', KEYS[1]) >= most then
  return { 0, expired }
end
redis.call('XADD', KEYS[1], '*', 'm', ARGV[3])
return { 1, expired }
