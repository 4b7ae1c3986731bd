-- Mark the caller's outstanding code as not delivered (one key).
-- KEYS[1] ts:otp:{m}
-- Returns 1 when a code was outstanding, 0 otherwise.
if redis.call('HEXISTS', KEYS[1], 'h') == 0 then
  return 0
end
redis.call('HSET', KEYS[1], 'undelivered', 1)
return 1
