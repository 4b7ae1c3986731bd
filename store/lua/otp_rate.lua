-- Codes per second, over the whole fleet and per provider (one slot:
-- every key carries the tag {otprate}).
-- KEYS[1] ts:otprate:{otprate}:<second>             counter, all codes
-- KEYS[2] ts:otprate:{otprate}:<provider>:<second>  counter, one provider
-- ARGV[1] codes a second in all, ARGV[2] codes a second per provider
-- (0: no limit)
-- Returns 0 when counted, 1 when the fleet's rate refused it, 2 when the
-- provider's did.
local all, one = tonumber(ARGV[1]), tonumber(ARGV[2])
if all > 0 and tonumber(redis.call('GET', KEYS[1]) or '0') >= all then
  return 1
end
if one > 0 and tonumber(redis.call('GET', KEYS[2]) or '0') >= one then
  return 2
end
redis.call('INCR', KEYS[1])
redis.call('PEXPIRE', KEYS[1], 2000)
redis.call('INCR', KEYS[2])
redis.call('PEXPIRE', KEYS[2], 2000)
return 0
