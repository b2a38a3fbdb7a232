-- Writes a node's presence whole (the users connected to it, whom broadcasts reach), in place of what Redis held:
-- after Redis lost it, or after writes of it failed (a user added or removed meanwhile would stay wrong there for as
-- long as the node lives). One call, so no broadcast finds it half written (NodePresence).
-- KEYS: the node's presence set
-- ARGV: presenceTtlMs, then the users (none: the set is removed)
redis.call('DEL', KEYS[1])
for i = 2, #ARGV, 1000 do
  redis.call('SADD', KEYS[1], unpack(ARGV, i, math.min(#ARGV, i + 999)))
end
if #ARGV > 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return #ARGV - 1
