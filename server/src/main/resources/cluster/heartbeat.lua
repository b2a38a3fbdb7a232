-- Keeps this node alive in the cluster's view. Returns 0 when its liveness key was gone (first beat, a pause
-- longer than the TTL, or Redis lost its data): the node then writes its present users again.
-- ARGV: prefix, nodeId, ttlMs
local P = ARGV[1]
local previous = redis.call('SET', P .. 'node:' .. ARGV[2], '1', 'PX', ARGV[3], 'GET')
redis.call('SADD', P .. 'nodes', ARGV[2])
if previous then return 1 end
return 0
