-- Count one wrong entry against the code that was read (atomic: two
-- concurrent wrong tries count as two).
-- KEYS[1] ts:otp:{m}; ARGV[1] the HMAC that was read, ARGV[2] max tries
-- Returns tries left (> 0), -1 when the code is now void (locked), or -2 when
-- the code changed since it was read (consumed or re-issued).
local h = redis.call('HGET', KEYS[1], 'h')
if h ~= ARGV[1] then
  if redis.call('HGET', KEYS[1], 'locked') then
    return -1
  end
  return -2
end
local t = redis.call('HINCRBY', KEYS[1], 'tries', 1)
if t >= tonumber(ARGV[2]) then
  redis.call('HDEL', KEYS[1], 'h', 'exp')
  redis.call('HSET', KEYS[1], 'locked', 1)
  return -1
end
return tonumber(ARGV[2]) - t
