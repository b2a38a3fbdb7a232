-- Announces where each given user's stream stands, on the user's own channel: 'h' epoch ':' lastSeq. Sent on the
-- channel, the announcement reaches a follower in order with the events, so a node that lost messages (its
-- subscription connection dropped) restarts exactly the streams it holds behind, and never one it is only about
-- to receive. Users without a stream are skipped.
-- ARGV: prefix, user, ...
local P = ARGV[1]
for i = 2, #ARGV do
  local tag = P .. '{u:' .. ARGV[i] .. '}'
  local head = redis.call('HMGET', tag .. ':s', 'e', 's')
  if head[1] and head[2] then
    redis.call('SPUBLISH', tag, 'h' .. head[1] .. ':' .. head[2])
  end
end
return 1
