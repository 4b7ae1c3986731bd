-- Check a code given against the caller's outstanding one, in one step.
-- KEYS[1] ts:otp:{m}; ARGV[1] HMAC of the code given, ARGV[2] now ms,
-- ARGV[3] max tries
-- Returns 0 when right (the code is consumed), -1 when void (locked, now
-- or before), -2 when none is outstanding or it expired, or the tries left
-- (> 0) after a wrong one. The HMACs are keyed with the server's secret:
-- how long comparing them takes says nothing of the code.
local v = redis.call('HMGET', KEYS[1], 'h', 'exp', 'locked')
if v[3] then
  return -1
end
if not v[1] or tonumber(ARGV[2]) > tonumber(v[2] or '0') then
  return -2
end
if v[1] == ARGV[1] then
  redis.call('HDEL', KEYS[1], 'h', 'exp', 'tries')
  return 0
end
local t = redis.call('HINCRBY', KEYS[1], 'tries', 1)
if t >= tonumber(ARGV[3]) then
  redis.call('HDEL', KEYS[1], 'h', 'exp')
  redis.call('HSET', KEYS[1], 'locked', 1)
  return -1
end
return tonumber(ARGV[3]) - t
