-- Cancel step 1: remove and return an appointment (nil when none).
-- KEYS[1] ts:appt:{m}, KEYS[2] ts:apptgen:{m}; ARGV[1] field <ref>:<dose>
local prev = redis.call('HGET', KEYS[1], ARGV[1])
if prev then
  redis.call('HDEL', KEYS[1], ARGV[1])
  redis.call('HINCRBY', KEYS[2], ARGV[1], 1)
end
return prev
