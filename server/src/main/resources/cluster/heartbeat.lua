-- Keeps this node alive in the cluster's view and publishes how many agent runtimes (producer sockets) it holds.
-- Returns {alive, producers}: alive is 0 when the node's liveness key was gone (first beat, a pause longer than
-- the TTL, or Redis lost its data), and the node then writes its present users again; producers is the number
-- of producer sockets on all live nodes, so a node without one knows whether to forward users' messages.
-- ARGV: prefix, nodeId, ttlMs, localProducers
local P = ARGV[1]
local previous = redis.call('SET', P .. 'node:' .. ARGV[2], '1', 'PX', ARGV[3], 'GET')
redis.call('SET', P .. 'node:' .. ARGV[2] .. ':producers', ARGV[4], 'PX', ARGV[3])
redis.call('SADD', P .. 'nodes', ARGV[2])
local producers = 0
for _, node in ipairs(redis.call('SMEMBERS', P .. 'nodes')) do
  local count = redis.call('GET', P .. 'node:' .. node .. ':producers')
  if count then producers = producers + tonumber(count) end
end
local alive = 0
if previous then alive = 1 end
return { alive, producers }
