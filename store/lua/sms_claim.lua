-- Claim due SMS from one shard of the outbound queue.
-- KEYS[1] ts:smsq:{smsq<k>}  sorted set: "<ref> <masked caller>" → due (ms)
-- ARGV[1] now ms, ARGV[2] lease ms, ARGV[3] most to claim
-- A claimed SMS is due again when the lease ends, so that if its claimant
-- dies another worker takes it over. Returns the members claimed.
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[3]))
local lease_end = tonumber(ARGV[1]) + tonumber(ARGV[2])
for _, m in ipairs(due) do
  redis.call('ZADD', KEYS[1], 'XX', lease_end, m)
end
return due
