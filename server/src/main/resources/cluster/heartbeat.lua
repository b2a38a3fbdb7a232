-- Keeps this node alive in the cluster's view and publishes how many agent runtimes (producer sockets) it holds.
-- Returns {producers, presenceHeld}: producers is the number of producer sockets on all live nodes, so a node
-- without one knows whether to forward users' messages; presenceHeld is 0 when Redis no longer held the node's
-- presence (the users connected to it, whom broadcasts reach), which the node then writes again. The
-- presence's expiry is renewed here: it outlives the liveness key, so a node that could not beat for a while keeps
-- its users broadcast targets meanwhile (NodePresence).
-- Every node key shares the hash tag {n}, so this runs on one shard.
-- KEYS: the nodes set, this node's liveness key, its producer count key, its presence set
-- ARGV: prefix, nodeId, ttlMs, localProducers, presenceTtlMs
local P = ARGV[1]
redis.call('SET', KEYS[2], '1', 'PX', ARGV[3])
redis.call('SET', KEYS[3], ARGV[4], 'PX', ARGV[3])
redis.call('SADD', KEYS[1], ARGV[2])
local presenceHeld = redis.call('PEXPIRE', KEYS[4], ARGV[5])
local producers = 0
for _, node in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  local count = redis.call('GET', P .. '{n}:node:' .. node .. ':producers')
  if count then producers = producers + tonumber(count) end
end
return { producers, presenceHeld }
