-- Make or renew a number's seat alert for a PIN code (one slot: every
-- alert key carries the tag {alerts}).
-- KEYS[1] ts:alert:{alerts}:n:<msisdn>  hash: pin → expiry (ms)
-- KEYS[2] ts:alert:{alerts}:p:<pin>     hash: msisdn → "<expiry>|<day>|<lang>",
--         day ("YYYYMMDD" in India) of the last alert, "" when none
-- ARGV[1] now (ms), ARGV[2] expiry (ms), ARGV[3] pin, ARGV[4] msisdn,
-- ARGV[5] lang, ARGV[6] most live subscriptions a number holds,
-- ARGV[7] TTL of the keys (ms): past every expiry, so that Redis forgets
-- what nobody reads any more.
-- Returns 1, or -1 when the number holds the maximum (nothing changes).
local now = tonumber(ARGV[1])
local held = redis.call('HGETALL', KEYS[1])
local live, renewal = 0, false
for i = 1, #held, 2 do
  if tonumber(held[i + 1]) <= now then
    -- ended; its PIN code's record goes when alert_due meets it
    redis.call('HDEL', KEYS[1], held[i])
  elseif held[i] == ARGV[3] then
    renewal = true
  else
    live = live + 1
  end
end
if not renewal and live >= tonumber(ARGV[6]) then
  return -1
end
-- The day of the last alert stays: a renewal is no new alert the same day.
local day = ''
local cur = redis.call('HGET', KEYS[2], ARGV[4])
if cur then
  day = string.match(cur, '^%d+|(%d*)|') or ''
end
redis.call('HSET', KEYS[1], ARGV[3], ARGV[2])
redis.call('HSET', KEYS[2], ARGV[4], ARGV[2] .. '|' .. day .. '|' .. ARGV[5])
local ttl = tonumber(ARGV[7])
redis.call('PEXPIRE', KEYS[1], ttl)
if redis.call('PTTL', KEYS[2]) < ttl then
  redis.call('PEXPIRE', KEYS[2], ttl)
end
return 1
