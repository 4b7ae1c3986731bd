-- One gateway's turn at the queue (all keys on {queue}): expire unused
-- invitations, collect what became of this gateway's, invite the next callers.
-- KEYS as in queue_arrive.lua.
-- ARGV[1] gateway id, ARGV[2] callers to invite (0 or less: none), ARGV[3]
-- now (ms), ARGV[4] invitation lifetime (ms).
-- Returns {settled, waiting, expired, invited total, outstanding, number,
-- arrival ms, number, …}: this gateway's invitations used or expired since
-- its last call, callers still waiting, invitations this call found
-- expired, the fleet's invitations ever sent and those not yet used nor
-- expired, and the callers invited now.
local now = tonumber(ARGV[3])
local gone = redis.call('ZRANGEBYSCORE', KEYS[4], '-inf', now)
for _, m in ipairs(gone) do
  redis.call('ZREM', KEYS[4], m)
  local gw = redis.call('HGET', KEYS[5], m)
  if gw then
    redis.call('HDEL', KEYS[5], m)
    redis.call('HINCRBY', KEYS[6], gw, 1)
  end
end
if #gone > 0 then
  redis.call('HINCRBY', KEYS[7], 'expired', #gone)
end
local settled = tonumber(redis.call('HGET', KEYS[6], ARGV[1]) or '0')
if settled > 0 then
  redis.call('HDEL', KEYS[6], ARGV[1])
end
local out = {settled, 0, #gone, 0, 0}
local n = tonumber(ARGV[2])
if n > 0 then
  local popped = redis.call('ZPOPMIN', KEYS[1], n)
  for i = 1, #popped, 2 do
    local m = popped[i]
    local at = redis.call('HGET', KEYS[3], m) or ARGV[3]
    redis.call('HDEL', KEYS[3], m)
    redis.call('ZADD', KEYS[4], now + tonumber(ARGV[4]), m)
    redis.call('HSET', KEYS[5], m, ARGV[1])
    out[#out + 1] = m
    out[#out + 1] = at
  end
  if #popped > 0 then
    redis.call('HINCRBY', KEYS[7], 'invited', #popped / 2)
  end
end
out[2] = redis.call('ZCARD', KEYS[1])
out[4] = tonumber(redis.call('HGET', KEYS[7], 'invited') or '0')
out[5] = redis.call('ZCARD', KEYS[4])
return out
