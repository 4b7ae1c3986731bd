-- Issue an OTP for one caller (both keys on the caller's slot).
-- KEYS[1] ts:otp:{m}     hash: h (HMAC hex), exp (ms), tries, last (ms), locked,
--                        undelivered (the SMS carrying it failed: no cool-down)
-- KEYS[2] ts:otplog:{m}  sorted set of issue times (ms) in the rolling window
-- ARGV[1] now ms, ARGV[2] HMAC hex, ARGV[3] validity ms, ARGV[4] cool-down ms,
-- ARGV[5] window ms, ARGV[6] cap, ARGV[7] unique member for the log
-- Returns {1, 0, 0, 0} when issued, or {0, retry-after ms, hourly 0|1,
-- live 0|1} (live: the code sent before can still be entered).
local now = tonumber(ARGV[1])
local window = tonumber(ARGV[5])
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now - window)
local wait, hourly = 0, 0
local last = tonumber(redis.call('HGET', KEYS[1], 'last') or '0')
local undelivered = redis.call('HGET', KEYS[1], 'undelivered') == '1'
-- The cool-down holds while a code sent is still there to be entered, and
-- after one was voided by wrong tries; after a code was used, or expired,
-- a new one goes at once (within the cap).
local live = redis.call('HEXISTS', KEYS[1], 'h') == 1 and
  now <= tonumber(redis.call('HGET', KEYS[1], 'exp') or '0')
local locked = redis.call('HEXISTS', KEYS[1], 'locked') == 1
if (live or locked) and last > 0 and now - last < tonumber(ARGV[4]) and not undelivered then
  wait = last + tonumber(ARGV[4]) - now
end
if redis.call('ZCARD', KEYS[2]) >= tonumber(ARGV[6]) then
  local oldest = redis.call('ZRANGE', KEYS[2], 0, 0, 'WITHSCORES')
  local w = tonumber(oldest[2]) + window - now
  if w > wait then
    wait = w
    hourly = 1
  end
end
if wait > 0 then
  local live_ok = 0
  if live and not locked then
    live_ok = 1
  end
  return {0, wait, hourly, live_ok}
end
redis.call('HSET', KEYS[1], 'h', ARGV[2], 'exp', now + tonumber(ARGV[3]), 'tries', 0, 'last', now)
redis.call('HDEL', KEYS[1], 'locked', 'undelivered')
redis.call('PEXPIRE', KEYS[1], window)
redis.call('ZADD', KEYS[2], now, ARGV[7])
redis.call('PEXPIRE', KEYS[2], window)
return {1, 0, 0, 0}
