-- Joins or leaves a room, shared by every node, and tells the user's nodes on its channel (for joined/left
-- notices to its connections).
-- ARGV: prefix, j|l, user, room
local P = ARGV[1]
local members = P .. '{r:' .. ARGV[4] .. '}:m'
if ARGV[2] == 'j' then
  redis.call('SADD', members, ARGV[3])
else
  redis.call('SREM', members, ARGV[3])
end
redis.call('SPUBLISH', P .. '{u:' .. ARGV[3] .. '}', ARGV[2] .. ARGV[4])
return 1
