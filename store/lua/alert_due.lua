-- The subscribers of a PIN code due a seat alert, marked alerted (one
-- slot: {alerts}).
-- KEYS[1] ts:alert:{alerts}:p:<pin>  hash: msisdn → "<expiry>|<day>|<lang>"
-- ARGV[1] now (ms), ARGV[2] today in India ("YYYYMMDD")
-- Drops ended subscriptions; returns msisdn, lang, msisdn, lang… of the
-- live ones not alerted today, whose day becomes today.
local now = tonumber(ARGV[1])
local subs = redis.call('HGETALL', KEYS[1])
local out = {}
for i = 1, #subs, 2 do
  local exp, day, lang = string.match(subs[i + 1], '^(%d+)|(%d*)|(.*)$')
  if not exp or tonumber(exp) <= now then
    redis.call('HDEL', KEYS[1], subs[i])
  elseif day ~= ARGV[2] then
    redis.call('HSET', KEYS[1], subs[i], exp .. '|' .. ARGV[2] .. '|' .. lang)
    out[#out + 1] = subs[i]
    out[#out + 1] = lang
  end
end
return out
