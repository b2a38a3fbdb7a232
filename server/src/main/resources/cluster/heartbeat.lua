-- Keeps this node alive in the cluster's view and publishes how many agent runtimes (producer sockets) it holds.
-- Returns {alive, producers}: alive is 0 when the node's liveness key was gone (first beat, a pause longer than
-- the TTL, or Redis lost its data), and the node then writes its present users again; producers is the number
-- of producer sockets on all live nodes, so a node without one knows whether to forward users' messages.
-- Every node key shares the hash tag {n}, so this runs on one shard.
-- KEYS: the nodes set, this node's liveness key, its producer count key
-- ARGV: prefix, nodeId, ttlMs, localProducers
local P = ARGV[1]
local previous = redis.call('SET', KEYS[2], '1', 'PX', ARGV[3], 'GET')
redis.call('SET', KEYS[3], ARGV[4], 'PX', ARGV[3])
redis.call('SADD', KEYS[1], ARGV[2])
local producers = 0
for _, node in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  local count = redis.call('GET', P .. '{n}:node:' .. node .. ':producers')
  if count then producers = producers + tonumber(count) end
end
local alive = 0
if previous then alive = 1 end
return { alive, producers }
