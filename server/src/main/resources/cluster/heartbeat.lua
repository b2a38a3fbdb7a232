-- Keeps this node alive in the cluster's view and publishes how many agent runtimes (producer sockets) it holds, and
-- how many of them had room for users' messages. Returns {producers, presenceHeld, ready}: producers and ready are
-- summed over all live nodes, so a node whose own runtimes cannot take a user's message knows whether to forward it
-- (ready) or answer agent_busy (producers, none ready) or no_agent (none); presenceHeld is 0 when Redis no longer
-- held the node's presence (the users connected to it, whom broadcasts reach), which the node then writes again. The
-- presence's expiry is renewed here: it outlives the liveness key, so a node that could not beat for a while keeps
-- its users broadcast targets meanwhile (NodePresence).
-- Every node key shares the hash tag {n}, so this runs on one shard.
-- KEYS: the nodes set, this node's liveness key, its producer count key, its presence set, its ready count key
-- ARGV: prefix, nodeId, ttlMs, localProducers, presenceTtlMs, localReady
local P = ARGV[1]
redis.call('SET', KEYS[2], '1', 'PX', ARGV[3])
redis.call('SET', KEYS[3], ARGV[4], 'PX', ARGV[3])
redis.call('SET', KEYS[5], ARGV[6], 'PX', ARGV[3])
redis.call('SADD', KEYS[1], ARGV[2])
local presenceHeld = redis.call('PEXPIRE', KEYS[4], ARGV[5])
local producers, ready = 0, 0
for _, node in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  local key = P .. '{n}:node:' .. node
  local count = redis.call('GET', key .. ':producers')
  if count then
    producers = producers + tonumber(count)
    -- A node of an earlier build writes no ready count: each of its runtimes counts as ready, as it did then.
    ready = ready + tonumber(redis.call('GET', key .. ':ready') or count)
  end
end
return { producers, presenceHeld, ready }
