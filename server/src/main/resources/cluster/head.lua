#!lua flags=allow-cross-slot-keys
-- Announces where each given user's stream stands, on the user's own channel: 'h' epoch ':' lastSeq. Sent on the
-- channel, the announcement reaches a follower in order with the events, so a node that lost messages (its
-- subscription connection dropped, a shard failed over) repairs exactly the streams it holds behind, and never
-- one it is only about to receive. Users without a stream, or whose slot is no longer served here (the node asks
-- again when it learns the new slot map), are skipped.
-- KEYS: the first user's stream head (routes the call to its shard)
-- ARGV: each user's stream head (<prefix>{u:<user>}:s); its channel is the key without ':s'
-- A stream's last seq is its base plus its history list's length.
--!include stream-head.lua

for i = 1, #ARGV do
  local served, text = pcall(headOf, ARGV[i])
  if served and text then
    local epoch, base = parseHead(text)
    local channel = string.sub(ARGV[i], 1, -3)
    local last = base + redis.call('LLEN', channel .. ':l')
    redis.call('SPUBLISH', channel, 'h' .. epoch .. ':' .. string.format('%d', last))
  end
end
return {}
