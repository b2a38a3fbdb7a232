-- Joins or leaves a room, shared by every node, and tells every node through the log (for joined/left notices).
-- ARGV: prefix, j|l, user, room, logMaxLen
local P = ARGV[1]
if ARGV[2] == 'j' then
  redis.call('SADD', P .. 'room:' .. ARGV[4], ARGV[3])
else
  redis.call('SREM', P .. 'room:' .. ARGV[4], ARGV[3])
end
redis.call('XADD', P .. 'log', 'MAXLEN', '~', ARGV[5], '*', 'k', ARGV[2], 'u', ARGV[3], 'rm', ARGV[4])
return 1
