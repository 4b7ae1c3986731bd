-- Booking step 3: write the appointment under the account.
-- KEYS[1] ts:appt:{m}  hash: <ref>:<dose> -> appointment JSON
-- ARGV[1] field, ARGV[2] JSON
-- Returns the previous appointment JSON for that field, or nil.
local prev = redis.call('HGET', KEYS[1], ARGV[1])
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
return prev
