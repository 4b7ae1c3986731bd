-- Consume the code that was read and matched.
-- KEYS[1] ts:otp:{m}; ARGV[1] the HMAC that was read
-- Returns 1 when consumed, -1 when voided meanwhile, -2 when it changed.
local h = redis.call('HGET', KEYS[1], 'h')
if h ~= ARGV[1] then
  if redis.call('HGET', KEYS[1], 'locked') then
    return -1
  end
  return -2
end
redis.call('HDEL', KEYS[1], 'h', 'exp', 'tries')
return 1
