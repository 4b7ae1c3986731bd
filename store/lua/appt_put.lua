-- Booking step 3: write the appointment under the account, if no other
-- booking or cancel changed this beneficiary's dose since step 1 read it.
-- KEYS[1] ts:appt:{m}  hash: <ref>:<dose> -> appointment JSON
-- KEYS[2] ts:apptgen:{m}  hash: <ref>:<dose> -> generation (bumped by every
--         write and cancel; never reused, so no ABA)
-- KEYS[3] the appointments counter, counted here for a new appointment (one
--         Redis only: on a cluster it is another slot and the caller counts)
-- ARGV[1] field, ARGV[2] JSON, ARGV[3] generation read in step 1
-- Returns {1, previous JSON or ''} when written, {0, ''} on conflict.
local g = tonumber(redis.call('HGET', KEYS[2], ARGV[1]) or '0')
if g ~= tonumber(ARGV[3]) then
  return {0, ''}
end
local prev = redis.call('HGET', KEYS[1], ARGV[1])
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('HINCRBY', KEYS[2], ARGV[1], 1)
if not prev and KEYS[3] then
  redis.call('INCR', KEYS[3])
end
return {1, prev or ''}
