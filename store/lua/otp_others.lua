-- Budget of codes a caller has sent to numbers other than their own
-- (the caller's slot).
-- KEYS[1] ts:otpother:{caller}  sorted set: number asked for → when (ms)
-- ARGV[1] now ms, ARGV[2] the other number, ARGV[3] distinct numbers an
-- hour, ARGV[4] distinct numbers a day
-- A number asked for within the hour is free again; a new one counts.
-- Returns {1, 0, 0} when allowed, or {0, retry-after ms, 1 (hour) | 2 (day)}.
local now = tonumber(ARGV[1])
local hour, day = 3600000, 86400000
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - day)
local seen = redis.call('ZSCORE', KEYS[1], ARGV[2])
if seen and tonumber(seen) > now - hour then
  return {1, 0, 0}
end
-- A number asked for earlier today is already one of the day's.
if not seen and redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[4]) then
  local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
  return {0, tonumber(oldest[2]) + day - now, 2}
end
local inhour = redis.call('ZRANGEBYSCORE', KEYS[1], '(' .. (now - hour), '+inf', 'WITHSCORES')
if #inhour / 2 >= tonumber(ARGV[3]) then
  return {0, tonumber(inhour[2]) + hour - now, 1}
end
redis.call('ZADD', KEYS[1], now, ARGV[2])
redis.call('PEXPIRE', KEYS[1], day)
return {1, 0, 0}
