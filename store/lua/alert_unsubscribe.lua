-- End a number's seat alerts at the PIN codes named (one slot: {alerts}).
-- KEYS[1] ts:alert:{alerts}:n:<msisdn>, KEYS[2…] ts:alert:{alerts}:p:<pin>
-- ARGV[1] msisdn, ARGV[2…] the pins of KEYS[2…], in order
-- Returns how many subscriptions the number still holds: those made since
-- the caller read its pins, which it ends with another call.
for i = 2, #KEYS do
  redis.call('HDEL', KEYS[i], ARGV[1])
  redis.call('HDEL', KEYS[1], ARGV[i])
end
return redis.call('HLEN', KEYS[1])
