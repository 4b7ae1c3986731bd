-- A new caller turned away, or arriving while others wait (all keys on {queue}).
-- KEYS[1] wait list: zset number → arrival sequence
-- KEYS[2] arrival counter
-- KEYS[3] hash number → arrival time (ms)
-- KEYS[4] invitations: zset number → expiry (ms)
-- KEYS[5] hash number → gateway that invited it
-- KEYS[6] hash gateway → its invitations settled (used or expired) since it last asked
-- KEYS[7] hash of fleet totals: invited, used, expired
-- ARGV[1] number, ARGV[2] now (ms), ARGV[3] "1" to join the wait list,
-- "0" to look for an invitation only (the gateway has room and nobody waits)
-- Returns 0 when the caller holds a live invitation (now used: admit them),
-- else their position in the wait list, 1 first (a caller already waiting
-- keeps their place), or -1 when they neither hold one nor were to join.
local exp = redis.call('ZSCORE', KEYS[4], ARGV[1])
if exp and tonumber(exp) > tonumber(ARGV[2]) then
  redis.call('ZREM', KEYS[4], ARGV[1])
  local gw = redis.call('HGET', KEYS[5], ARGV[1])
  if gw then
    redis.call('HDEL', KEYS[5], ARGV[1])
    redis.call('HINCRBY', KEYS[6], gw, 1)
  end
  redis.call('HINCRBY', KEYS[7], 'used', 1)
  return 0
end
local rank = redis.call('ZRANK', KEYS[1], ARGV[1])
if not rank and ARGV[3] ~= '1' then
  return -1
end
if not rank then
  redis.call('ZADD', KEYS[1], redis.call('INCR', KEYS[2]), ARGV[1])
  redis.call('HSET', KEYS[3], ARGV[1], ARGV[2])
  rank = redis.call('ZCARD', KEYS[1]) - 1
end
return rank + 1
